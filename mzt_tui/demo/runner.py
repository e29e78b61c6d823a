"""Entry points of the demo conductor: in the foreground (`mzt demo`) or as a background process.

`run_demo` runs the demo in this process until Ctrl-C or SIGTERM, printing one line per job or
sheet transition. `start_demo_background` starts ``python -m mzt_tui.demo --home HOME`` in its own
session and returns a `DemoProcess` whose `stop()` ends it cleanly (it also stops by itself when
the process that started it dies).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Final, TextIO

from mzt_tui.demo import home as demo_home
from mzt_tui.demo.conductor import DemoConductor
from mzt_tui.demo.sheets import child_environment
from mzt_tui.models.errors import MztError

LOG_FILE_NAME: Final = "demo.log"


def run_demo(
    home: Path | None = None,
    *,
    seed: int | None = None,
    speed: float = 1.0,
    jobs: int = 3,
    out: TextIO | None = None,
    parent_pid: int | None = None,
) -> int:
    """Run the demo conductor in the foreground until Ctrl-C or SIGTERM.

    Args:
        home: The demo's home; default ``~/.marianne-demo``.
        seed: Seed of every random choice; None draws one.
        speed: Divides every duration.
        jobs: How many jobs run at once.
        out: Where the transition lines go; default standard output.
        parent_pid: Stop when this process is no longer our parent.

    Returns:
        The exit status: 0 after a clean stop.

    Raises:
        MztError: The home is refused or another demo already runs in it.
    """
    stream = out if out is not None else sys.stdout

    def announce(line: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {line}", file=stream, flush=True)

    conductor = DemoConductor(
        demo_home.resolve_demo_home(home),
        seed=seed,
        speed=speed,
        jobs=jobs,
        on_transition=announce,
        parent_pid=parent_pid,
    )
    conductor.run(threading.Event())
    announce("demo conductor stopped")
    return 0


class DemoProcess:
    """A demo conductor running as a child process in its own session.

    Attributes:
        home: The demo's home.
        popen: The demo process.
    """

    def __init__(self, home: Path, popen: subprocess.Popen[bytes]) -> None:
        self.home = home
        self.popen = popen

    @property
    def pid(self) -> int:
        """The demo conductor's PID (the `pid` of its registry rows)."""
        return self.popen.pid

    @property
    def registry_path(self) -> Path:
        """The registry the demo writes."""
        return self.home / demo_home.REGISTRY_FILE_NAME

    @property
    def pid_file(self) -> Path:
        """The demo's pid file."""
        return self.home / demo_home.PID_FILE_NAME

    @property
    def log_path(self) -> Path:
        """Where the demo's transition lines go."""
        return self.home / LOG_FILE_NAME

    def running(self) -> bool:
        """Whether the demo process is still running."""
        return self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """Ask the demo to stop (SIGTERM), wait for its clean-up, SIGKILL it if it hangs.

        Returns:
            The demo's exit status (0 after a clean stop), None if it could not be reaped.
        """
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.popen.wait(5.0)
        return self.popen.returncode

    def __enter__(self) -> DemoProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_demo_background(
    home: Path | None = None,
    *,
    seed: int | None = None,
    speed: float = 1.0,
    jobs: int = 3,
    ready_timeout: float = 15.0,
) -> DemoProcess:
    """Start the demo as ``python -m mzt_tui.demo`` in its own session; return once it runs.

    The demo writes its transition lines to ``HOME/demo.log`` and stops by itself if this
    process dies.

    Raises:
        MztError: The demo exited at once (its last log line says why) or did not write its
            pid file within `ready_timeout` seconds.
    """
    resolved = demo_home.resolve_demo_home(home)
    resolved.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "mzt_tui.demo",
        "--home",
        str(resolved),
        "--speed",
        f"{speed}",
        "--jobs",
        str(jobs),
        "--parent-pid",
        str(os.getpid()),
    ]
    if seed is not None:
        command += ["--seed", str(seed)]
    with (resolved / LOG_FILE_NAME).open("ab") as log_file:
        popen = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=child_environment(),
            start_new_session=True,
        )
    demo = DemoProcess(resolved, popen)
    deadline = time.monotonic() + ready_timeout
    while demo_home.read_pid_file(demo.pid_file) != popen.pid:
        if popen.poll() is not None:
            raise MztError(f"the demo conductor exited at once: {_last_line(demo.log_path)}")
        if time.monotonic() > deadline:
            demo.stop()
            raise MztError(f"the demo conductor did not start within {ready_timeout:g} s")
        time.sleep(0.05)
    return demo


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1] if lines else "no log"


def main(argv: list[str] | None = None) -> int:
    """Command line of ``python -m mzt_tui.demo``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m mzt_tui.demo", description="Run the mzt_tui demo conductor."
    )
    parser.add_argument("--home", type=Path, default=None, help="default ~/.marianne-demo")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.speed <= 0 or args.jobs < 1:
        print("error: --speed must be positive and --jobs at least 1", file=sys.stderr)
        return 2
    try:
        return run_demo(
            args.home,
            seed=args.seed,
            speed=args.speed,
            jobs=args.jobs,
            parent_pid=args.parent_pid,
        )
    except MztError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return error.exit_code
