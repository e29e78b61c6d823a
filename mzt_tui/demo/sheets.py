"""Sheet processes, started and ended the way the conductor does it.

Each sheet attempt is a direct child of the demo process, in a new session (so its process
group id is its PID), with its working directory set to the job's workspace. Its exit is noticed
without reaping it (``waitid(WNOWAIT)``), so the leader's PID still pins the group while the
group is swept with SIGKILL; only then is the leader reaped. That way no straggler survives a
sheet and no signal can reach a recycled process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import mzt_tui
from mzt_tui.demo.plan import AttemptPlan, SheetPlan

MIN_WORKLOAD_SECONDS: Final = 0.6
"""Workloads never get shorter than this, whatever the speed, so a sampler can see them."""
PACKAGE_ROOT: Final = str(Path(mzt_tui.__file__).resolve().parent.parent)


def scaled_seconds(seconds: float, speed: float, floor: float = 0.0) -> float:
    """Return `seconds` shortened by `speed`, never below `floor`."""
    return max(floor, seconds / speed)


def timeout_margin(speed: float) -> float:
    """Return how long past its planned duration a sheet may run before it is killed."""
    return max(2.0, 5.0 / speed)


def kill_grace(speed: float) -> float:
    """Return how long a SIGTERM'd sheet gets before SIGKILL."""
    return max(0.5, 2.0 / speed)


def child_environment() -> dict[str, str]:
    """Return the environment for demo children: ours, with this package importable.

    Like the conductor, it adds nothing that names the job or the sheet.
    """
    environment = dict(os.environ)
    existing = environment.get("PYTHONPATH")
    environment["PYTHONPATH"] = (
        PACKAGE_ROOT if not existing else os.pathsep.join((PACKAGE_ROOT, existing))
    )
    return environment


def instrument_command(plan: SheetPlan, attempt: AttemptPlan, speed: float) -> list[str]:
    """Return the command line of one sheet attempt."""
    seconds = scaled_seconds(plan.seconds, speed, MIN_WORKLOAD_SECONDS)
    command = [
        sys.executable,
        "-m",
        "mzt_tui.demo.instrument",
        plan.kind,
        "--seconds",
        f"{seconds:.3f}",
    ]
    if plan.kind == "memory":
        command += ["--peak-mb", str(plan.memory_target_mb)]
    if plan.kind == "kill-child":
        command += ["--signal", "KILL" if plan.sheet_num % 2 else "TERM"]
    if attempt.failure_mode == "exit":
        command += ["--exit-code", str(attempt.exit_code)]
    elif attempt.failure_mode in {"timeout", "timeout-stubborn"}:
        command.append("--hang")
        if attempt.failure_mode == "timeout-stubborn":
            command.append("--ignore-term")
    return command


@dataclass
class SheetProcess:
    """One running sheet attempt: its process, its clock and how far its killing has gone."""

    job_id: str
    sheet_num: int
    attempt: int
    popen: subprocess.Popen[bytes]
    started_at: float
    started_monotonic: float
    deadline_monotonic: float
    term_sent_monotonic: float | None = None
    killed: bool = False
    timed_out: bool = False

    @property
    def pid(self) -> int:
        """The sheet process's PID, which is also its session and process group id."""
        return self.popen.pid

    def has_exited(self) -> bool:
        """Whether the leader has exited (it stays unreaped until `reap`)."""
        if self.popen.returncode is not None:
            return True
        if not hasattr(os, "waitid"):
            return self.popen.poll() is not None
        try:
            result = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return result is not None

    def signal_group(self, signum: int) -> None:
        """Send `signum` to the sheet's whole process group, if any of it is left."""
        if self.popen.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def reap(self) -> int:
        """Sweep the group with SIGKILL, reap the leader and return its status (Popen style)."""
        self.signal_group(signal.SIGKILL)
        return self.popen.wait()

    def enforce_deadline(self, now_monotonic: float, grace: float) -> None:
        """Send SIGTERM past the deadline and SIGKILL once `grace` has passed after it."""
        if now_monotonic < self.deadline_monotonic:
            return
        if self.term_sent_monotonic is None:
            self.timed_out = True
            self.term_sent_monotonic = now_monotonic
            self.signal_group(signal.SIGTERM)
        elif not self.killed and now_monotonic - self.term_sent_monotonic >= grace:
            self.killed = True
            self.signal_group(signal.SIGKILL)


def start_sheet_process(
    job_id: str,
    plan: SheetPlan,
    attempt_number: int,
    workspace: Path,
    speed: float,
) -> SheetProcess:
    """Start one attempt of a sheet as a direct child in its own session, in `workspace`."""
    attempt = (
        plan.attempts[attempt_number - 1]
        if attempt_number <= len(plan.attempts)
        else AttemptPlan("none")
    )
    command = instrument_command(plan, attempt, speed)
    log_dir = workspace / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"sheet-{plan.sheet_num:02d}.attempt-{attempt_number}.log"
    workload = scaled_seconds(plan.seconds, speed, MIN_WORKLOAD_SECONDS)
    started_at = time.time()
    started_monotonic = time.monotonic()
    with log_path.open("ab") as log_file:
        popen = subprocess.Popen(
            command,
            cwd=workspace,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=child_environment(),
            start_new_session=True,
            close_fds=True,
        )
    return SheetProcess(
        job_id=job_id,
        sheet_num=plan.sheet_num,
        attempt=attempt_number,
        popen=popen,
        started_at=started_at,
        started_monotonic=started_monotonic,
        deadline_monotonic=started_monotonic + workload + timeout_margin(speed),
    )
