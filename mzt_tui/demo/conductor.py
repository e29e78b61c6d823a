"""A small built-in conductor that runs real jobs, so that every view of the monitor has data.

`DemoConductor` behaves like Marianne's conductor as far as a monitor can tell: it keeps a job
registry (``HOME/daemon-state.db``, the conductor's schema, WAL, a checkpoint rewritten on every
change), a pid file (``HOME/marianne.pid``), and runs each sheet as a real process tree: a direct
child of the demo process, in a new session, with its working directory in the job's workspace
(``HOME/workspaces/<job>``). Jobs run their sheets in order, some two at a time, retry failed
sheets when their score allows it, and end completed or failed; new jobs keep being submitted
so that the demo runs indefinitely with about `jobs` jobs at once. Sheet kinds: idle agent
trees, CPU burns, memory growth, many open files, a zombie, a child killed by a signal, short
CLI steps (see `instrument.py`). Only one CPU burn runs at a time, and memory sheets together
stay within `MEMORY_BUDGET_MB`, so the demo stays light on a two-core machine.

Planted effect (`PLANTED_EFFECT`, see `plan.py`): sheet attempts whose process tree peaks above
1 GB of RSS fail 60 % of the time, all others 15 %, drawn from the seeded RNG. A correlation
analysis over the demo's history has this one true relation to find.

On stop (`stop()`, SIGINT/SIGTERM in the main thread, or the parent process dying when
`parent_pid` is given) every sheet's process group gets SIGTERM, then SIGKILL after a grace,
every leader is reaped, open jobs are marked cancelled and the pid file is removed.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Final

from mzt_tui.demo import home as demo_home
from mzt_tui.demo.checkpoint import JobRun, SheetRun
from mzt_tui.demo.learning import DemoLearning
from mzt_tui.demo.plan import PLANTED_EFFECT, JobPlan, job_rng, plan_job
from mzt_tui.demo.registry_writer import RegistryWriter
from mzt_tui.demo.sheets import SheetProcess, kill_grace, scaled_seconds, start_sheet_process

__all__ = ["MEMORY_BUDGET_MB", "PLANTED_EFFECT", "DemoConductor"]

MEMORY_BUDGET_MB: Final = 1250
"""Most memory that `memory` sheets may plan to hold at once."""
TICK_SECONDS: Final = 0.1
STOP_GRACE_SECONDS: Final = 2.0
SUBMIT_GAP_S: Final = 2.0
QUEUE_DELAY_S: Final = 0.5
RETRY_DELAY_S: Final = 1.5
CPU_COOLDOWN_S: Final = 2.0

Announce = Callable[[str], None]


class DemoConductor:
    """Runs demo jobs under `home` until stopped.

    Args:
        home: The demo's home (never ``~/.marianne``); created if missing.
        seed: Seed of every random choice; None draws one.
        speed: Divides every duration (2.0 runs twice as fast); workloads stay >= 0.6 s.
        jobs: How many jobs run at once.
        on_transition: Called with one line per job or sheet transition.
        parent_pid: Stop when this process is no longer our parent.
    """

    def __init__(
        self,
        home: Path,
        *,
        seed: int | None = None,
        speed: float = 1.0,
        jobs: int = 3,
        on_transition: Announce | None = None,
        parent_pid: int | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        self.home = demo_home.resolve_demo_home(home)
        self.seed = seed if seed is not None else secrets.randbelow(2**31)
        self.speed = speed
        self.max_jobs = jobs
        self.registry_path = self.home / demo_home.REGISTRY_FILE_NAME
        self.pid_file = self.home / demo_home.PID_FILE_NAME
        self.workspaces_dir = self.home / demo_home.WORKSPACES_DIR_NAME
        self._announce = on_transition or (lambda line: None)
        self._parent_pid = parent_pid
        self._jobs: dict[str, JobRun] = {}
        self._processes: dict[tuple[str, int], SheetProcess] = {}
        self._retry_at: dict[tuple[str, int], float] = {}
        self._queued_at: dict[str, float] = {}
        self._next_submit = 0.0
        self._serial = 0
        self._cpu_free_at = 0.0
        self._pid = os.getpid()
        self._writer: RegistryWriter | None = None
        self._learning = DemoLearning(self.home, self.registry_path, self._announce)
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        """What ended a background `start()` run abnormally, if anything."""

    # ---- running -------------------------------------------------------------------------

    def start(self) -> None:
        """Run the demo in a background thread of this process (sheets are our children)."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("the demo conductor is already running")
        self._stop_event.clear()
        self._thread = threading.Thread(target=self._run_in_thread, name="mzt-demo", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop a `start()`-ed demo and wait until every sheet process is gone."""
        self._stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run_in_thread(self) -> None:
        try:
            self.run(self._stop_event)
        except BaseException as error:  # reported through `error`; the thread must not die loud
            self.error = error

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set (or a signal or the parent's death sets it), then clean up."""
        self._pid = os.getpid()
        self.workspaces_dir.mkdir(parents=True, exist_ok=True)
        demo_home.claim_pid_file(self.pid_file, self._pid)
        try:
            with _stop_on_signals(stop):
                self._writer = RegistryWriter(self.registry_path)
                for job_id in self._writer.cancel_stale_jobs(self._pid):
                    self._announce(f"job {job_id} left open by an earlier demo: cancelled")
                self._serial = self._writer.job_count()
                self._announce(
                    f"demo conductor PID {self._pid} in {self.home} "
                    f"(seed {self.seed}, speed {self.speed:g}, {self.max_jobs} jobs at once)"
                )
                while not stop.is_set():
                    if self._parent_pid is not None and os.getppid() != self._parent_pid:
                        self._announce("parent process gone: stopping")
                        break
                    self._tick()
                    stop.wait(TICK_SECONDS)
        finally:
            try:
                self._shutdown()
            finally:
                if self._writer is not None:
                    self._writer.close()
                demo_home.release_pid_file(self.pid_file, self._pid)

    def _tick(self) -> None:
        now = time.monotonic()
        grace = kill_grace(self.speed)
        for key, process in list(self._processes.items()):
            if process.has_exited():
                self._finish_attempt(key, process.reap())
            else:
                process.enforce_deadline(now, grace)
                self._mark_in_progress(key)
        for job in list(self._jobs.values()):
            self._advance_job(job, now)
        if len(self._jobs) < self.max_jobs and now >= self._next_submit:
            self._submit_job()
            self._next_submit = now + scaled_seconds(SUBMIT_GAP_S, self.speed)

    # ---- jobs ----------------------------------------------------------------------------

    def _write(self, job: JobRun) -> None:
        job.last_event_at = time.time()
        if self._writer is not None:
            self._writer.write_job(job, job.last_event_at)

    def _submit_job(self) -> None:
        self._serial += 1
        plan = plan_job(job_rng(self.seed, self._serial))
        job_id = f"{plan.score_name}-{self._serial:03d}"
        workspace = self.workspaces_dir / job_id
        workspace.mkdir(parents=True, exist_ok=True)
        job = JobRun(
            job_id=job_id,
            plan=plan,
            config_path=str(self._write_score(plan)),
            workspace=str(workspace),
            pid=self._pid,
            submitted_at=time.time(),
        )
        self._jobs[job_id] = job
        self._queued_at[job_id] = time.monotonic()
        self._write(job)
        kinds = ", ".join(sheet.kind for sheet in plan.sheets)
        self._announce(
            f"job {job_id} submitted: {job.total_sheets} sheets ({kinds}), "
            f"{plan.max_concurrent} at once, "
            f"{plan.max_retries} {'retry' if plan.max_retries == 1 else 'retries'}"
        )

    def _write_score(self, plan: JobPlan) -> Path:
        score_path = self.home / demo_home.SCORES_DIR_NAME / f"{plan.score_name}.yaml"
        if not score_path.exists():
            score_path.parent.mkdir(parents=True, exist_ok=True)
            lines = [f"name: {plan.score_name}", "# demo score: sheets are drawn per job", ""]
            score_path.write_text("\n".join(lines), encoding="utf-8")
        return score_path

    def _advance_job(self, job: JobRun, now: float) -> None:
        if job.status == "queued":
            if now - self._queued_at.get(job.job_id, now) >= scaled_seconds(
                QUEUE_DELAY_S, self.speed
            ):
                job.status = "running"
                job.started_at = time.time()
                self._write(job)
                self._announce(f"job {job.job_id} running")
            return
        failed = [sheet for sheet in job.sheets.values() if sheet.status == "failed"]
        if not failed:
            self._dispatch_sheets(job, now)
        if job.sheets_in_progress or any(key[0] == job.job_id for key in self._processes):
            return
        if failed:
            self._end_job(job, "failed", f"sheet {failed[0].sheet_num} failed")
        elif all(sheet.status == "completed" for sheet in job.sheets.values()):
            self._end_job(job, "completed", None)

    def _end_job(self, job: JobRun, status: str, error_message: str | None) -> None:
        for sheet in job.sheets.values():
            if sheet.status == "retry_scheduled":
                sheet.status = "failed"
        job.status = status
        job.completed_at = time.time()
        job.error_message = error_message
        self._write(job)
        del self._jobs[job.job_id]
        self._queued_at.pop(job.job_id, None)
        self._announce(
            f"job {job.job_id} {status}" + (f": {error_message}" if error_message else "")
        )

    # ---- sheets --------------------------------------------------------------------------

    def _dispatch_sheets(self, job: JobRun, now: float) -> None:
        # One sheet start per job and tick (0.1 s apart): sheets of a job started within the
        # attribution's start-time slack of each other could not be told apart by a monitor.
        for sheet in job.sheets.values():
            if len(job.sheets_in_progress) >= job.plan.max_concurrent:
                return
            if sheet.status == "retry_scheduled":
                if now < self._retry_at.get((job.job_id, sheet.sheet_num), 0.0):
                    return
            elif sheet.status != "pending":
                continue
            if not self._resources_free(sheet, now):
                return
            self._start_attempt(job, sheet)
            return

    def _resources_free(self, sheet: SheetRun, now: float) -> bool:
        if sheet.plan.kind == "cpu":
            cpu_busy = any(self._kind_of(key) == "cpu" for key in self._processes)
            return not cpu_busy and now >= self._cpu_free_at
        if sheet.plan.kind == "memory":
            held = sum(
                self._jobs[job_id].sheets[num].plan.memory_target_mb
                for job_id, num in self._processes
                if job_id in self._jobs
            )
            return held + sheet.plan.memory_target_mb <= MEMORY_BUDGET_MB
        return True

    def _kind_of(self, key: tuple[str, int]) -> str:
        job = self._jobs.get(key[0])
        return job.sheets[key[1]].plan.kind if job is not None else ""

    def _start_attempt(self, job: JobRun, sheet: SheetRun) -> None:
        attempt = sheet.attempt_count + 1
        sheet.reset_outcome()
        sheet.status = "dispatched"
        sheet.attempt_count = attempt
        sheet.started_at = time.time()
        # The registry names the attempt before its process exists: a monitor that sees the
        # process always finds its sheet (it keeps the sheet it first assigns to a process).
        self._write(job)
        process = start_sheet_process(
            job.job_id, sheet.plan, attempt, Path(job.workspace), self.speed
        )
        self._processes[(job.job_id, sheet.sheet_num)] = process
        self._announce(
            f"job {job.job_id} sheet {sheet.sheet_num} attempt {attempt} started: "
            f"{sheet.plan.kind}, PID {process.pid}"
        )

    def _mark_in_progress(self, key: tuple[str, int]) -> None:
        job = self._jobs.get(key[0])
        if job is not None and job.sheets[key[1]].status == "dispatched":
            job.sheets[key[1]].status = "in_progress"
            self._write(job)

    def _finish_attempt(self, key: tuple[str, int], returncode: int) -> None:
        process = self._processes.pop(key)
        job = self._jobs.get(key[0])
        if job is None:
            return
        sheet = job.sheets[key[1]]
        sheet.completed_at = time.time()
        sheet.execution_duration_seconds = round(time.monotonic() - process.started_monotonic, 3)
        if sheet.plan.kind == "cpu":
            self._cpu_free_at = time.monotonic() + scaled_seconds(CPU_COOLDOWN_S, self.speed)
        sheet.record_exit(returncode, timed_out=process.timed_out)
        retry_wait = scaled_seconds(RETRY_DELAY_S, self.speed)
        if sheet.exit_reason == "completed":
            sheet.status = "completed"
        elif sheet.attempt_count <= job.plan.max_retries:
            sheet.status = "retry_scheduled"
            self._retry_at[key] = time.monotonic() + retry_wait
        else:
            sheet.status = "failed"
        self._write(job)
        self._learning.attempt_ended(
            job.job_id,
            sheet.sheet_num,
            started_at=sheet.started_at,
            succeeded=sheet.status == "completed",
            final=sheet.status != "retry_scheduled",
            model=sheet.plan.instrument_model,
        )
        if sheet.status == "retry_scheduled":
            self._learning.attempt_failed(
                job.job_id,
                sheet.sheet_num,
                sheet.error_code or "E999",
                sheet.completed_at,
                retry_wait,
            )
        outcome = (
            f"exit code {sheet.exit_code}"
            if sheet.exit_signal is None
            else f"signal {sheet.exit_signal}"
        )
        self._announce(
            f"job {job.job_id} sheet {sheet.sheet_num} attempt {sheet.attempt_count} "
            f"{sheet.status}: {outcome} after {sheet.execution_duration_seconds:.1f}s"
        )

    # ---- stopping ------------------------------------------------------------------------

    def _shutdown(self) -> None:
        for process in self._processes.values():
            process.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline and not all(
            process.has_exited() for process in self._processes.values()
        ):
            time.sleep(0.05)
        ended_at = time.time()
        for key, process in list(self._processes.items()):
            returncode = process.reap()
            job = self._jobs.get(key[0])
            if job is not None:
                sheet = job.sheets[key[1]]
                sheet.completed_at = ended_at
                sheet.record_exit(returncode, timed_out=False)
                sheet.status = "cancelled"
                sheet.execution_duration_seconds = round(
                    time.monotonic() - process.started_monotonic, 3
                )
        self._processes.clear()
        for job in list(self._jobs.values()):
            for sheet in job.sheets.values():
                if sheet.status == "retry_scheduled":
                    # Its last attempt failed earlier (see `error_history`); the sheet stops now.
                    sheet.status = "cancelled"
                    sheet.completed_at = ended_at
            job.status = "cancelled"
            job.completed_at = ended_at
            job.error_message = "demo conductor stopped"
            self._write(job)
            self._announce(f"job {job.job_id} cancelled: demo conductor stopped")
        self._jobs.clear()


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set `stop` on SIGINT and SIGTERM while inside, when running in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {
        signum: signal.signal(signum, request_stop) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
