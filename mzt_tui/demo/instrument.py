"""Sheet workloads the demo conductor runs as real process trees.

Usage: ``python -m mzt_tui.demo.instrument KIND --seconds S [options]``. Each kind is small and
deterministic given its arguments:

- ``agent``: an idle agent, a parent with two ``tool`` children that mostly sleep.
- ``tool``: one idle child (used by ``agent`` and ``kill-child``).
- ``cpu``: a busy loop for S seconds.
- ``memory``: allocates and touches ``--peak-mb`` MB over the first fifth of S, then holds it
  for the rest (at least 12 s of a memory sheet's 15-20 s at speed 1, so that a monitor
  sampling every 5 s sees the peak two or three times).
- ``files``: opens ``--files`` files in the workspace and holds them open.
- ``zombie``: forks a child that exits at once and leaves it unreaped for 70 % of S.
- ``kill-child``: starts a ``tool`` child and kills it with ``--signal`` (KILL or TERM).
- ``quick``: a short CLI-like step that writes a small report file.

After the workload it exits with ``--exit-code``, or with ``--hang`` sleeps until killed
(``--ignore-term`` makes it ignore SIGTERM so that only SIGKILL ends it). Every process of a
tree exits when its parent goes away, so a killed conductor leaves nothing behind. The last
line printed is ``peak_rss_mb=N``, the process's own peak RSS. Only the standard library is
imported here, to keep every process of a tree small.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

MIB = 1024 * 1024
PAGE_SIZE = 4096
POLL_SECONDS = 0.1
MEMORY_STEP_MB = 8
MEMORY_RAMP_SHARE = 0.2
"""Share of a memory workload's time spent growing; the peak is held for the rest."""


class ParentGoneError(Exception):
    """The process that started this one has exited."""


class TerminatedError(Exception):
    """SIGTERM arrived: clean up, then die by the signal."""


class ParentWatch:
    """Sleeps in short steps and raises `ParentGoneError` once this process has been re-parented."""

    def __init__(self) -> None:
        self.parent_pid = os.getppid()

    def check(self) -> None:
        """Raise `ParentGoneError` if the original parent has exited."""
        if os.getppid() != self.parent_pid:
            raise ParentGoneError

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds`, checking the parent every `POLL_SECONDS`."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self.check()
            time.sleep(min(POLL_SECONDS, remaining))


def spawn_tool(seconds: float) -> subprocess.Popen[bytes]:
    """Start an idle ``tool`` child in this process's group and working directory."""
    command = [
        sys.executable,
        "-m",
        "mzt_tui.demo.instrument",
        "tool",
        "--seconds",
        f"{seconds:.3f}",
    ]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL)


@contextmanager
def reaped_children(children: list[subprocess.Popen[bytes]]) -> Iterator[None]:
    """Kill and reap whatever in `children` is still running when the block ends."""
    try:
        yield
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait()


def run_agent(args: argparse.Namespace, watch: ParentWatch) -> None:
    """An agent: two tool children, light periodic work, then wait for the tools."""
    children = [spawn_tool(args.seconds * 0.9), spawn_tool(args.seconds * 0.9)]
    with reaped_children(children):
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            sum(range(20_000))
            watch.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        for child in children:
            while child.poll() is None and time.monotonic() < deadline + 1.0:
                watch.sleep(POLL_SECONDS)


def run_tool(args: argparse.Namespace, watch: ParentWatch) -> None:
    """An idle tool process: sleeps, waking up now and then."""
    watch.sleep(args.seconds)


def run_cpu(args: argparse.Namespace, watch: ParentWatch) -> None:
    """Burn one core for `--seconds`."""
    deadline = time.monotonic() + args.seconds
    counter = 0
    while time.monotonic() < deadline:
        for _ in range(50_000):
            counter += 1
        watch.check()


def run_memory(args: argparse.Namespace, watch: ParentWatch) -> None:
    """Grow to `--peak-mb` MB in 8 MB steps over a fifth of the time, touch every page, hold."""
    chunks: list[bytearray] = []
    steps = max(1, args.peak_mb // MEMORY_STEP_MB)
    started = time.monotonic()
    for step in range(1, steps + 1):
        chunk = bytearray(MEMORY_STEP_MB * MIB)
        chunk[::PAGE_SIZE] = b"\x01" * len(range(0, len(chunk), PAGE_SIZE))
        chunks.append(chunk)
        watch.check()
        watch.sleep(started + args.seconds * MEMORY_RAMP_SHARE * step / steps - time.monotonic())
    watch.sleep(started + args.seconds - time.monotonic())
    chunks.clear()


def run_files(args: argparse.Namespace, watch: ParentWatch) -> None:
    """Open `--files` files under ``scratch/`` in the workspace, hold them, then remove them."""
    scratch = Path.cwd() / "scratch" / f"files-{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    handles = []
    try:
        for index in range(args.files):
            handle = (scratch / f"part-{index:04d}.txt").open("w", encoding="utf-8")
            handle.write(f"part {index}\n")
            handle.flush()
            handles.append(handle)
        watch.sleep(args.seconds)
    finally:
        for handle in handles:
            handle.close()
        for path in scratch.iterdir():
            path.unlink()
        scratch.rmdir()


def run_zombie(args: argparse.Namespace, watch: ParentWatch) -> None:
    """Fork a child that exits at once; reap it only after 70 % of the time."""
    child_pid = os.fork()
    if child_pid == 0:
        os._exit(0)
    try:
        watch.sleep(args.seconds * 0.7)
    finally:
        os.waitpid(child_pid, 0)
    watch.sleep(args.seconds * 0.3)


def run_kill_child(args: argparse.Namespace, watch: ParentWatch) -> None:
    """Start a tool child, kill it with `--signal` after 40 % of the time, and report how."""
    child = spawn_tool(args.seconds * 2)
    with reaped_children([child]):
        watch.sleep(args.seconds * 0.4)
        child.send_signal(signal.Signals[f"SIG{args.signal}"])
        status = child.wait()
        print(f"tool {child.pid} ended by signal {-status}", flush=True)
    watch.sleep(args.seconds * 0.6)


def run_quick(args: argparse.Namespace, watch: ParentWatch) -> None:
    """A short CLI-like step: a little work, a report file, some waiting."""
    checksum = sum(index * index for index in range(200_000)) % 9973
    report = Path.cwd() / "reports" / f"quick-{os.getpid()}.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(f"checksum {checksum}\n", encoding="utf-8")
    watch.sleep(args.seconds)
    report.unlink()


WORKLOADS: dict[str, Callable[[argparse.Namespace, ParentWatch], None]] = {
    "agent": run_agent,
    "tool": run_tool,
    "cpu": run_cpu,
    "memory": run_memory,
    "files": run_files,
    "zombie": run_zombie,
    "kill-child": run_kill_child,
    "quick": run_quick,
}


def peak_rss_mb() -> float:
    """Return this process's peak RSS (VmHWM) in MB, or 0 where /proc is missing."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the instrument's command line."""
    parser = argparse.ArgumentParser(prog="python -m mzt_tui.demo.instrument")
    parser.add_argument("kind", choices=sorted(WORKLOADS))
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--peak-mb", type=int, default=64)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--signal", choices=("KILL", "TERM"), default="KILL")
    parser.add_argument("--exit-code", type=int, default=0)
    parser.add_argument("--hang", action="store_true")
    parser.add_argument("--ignore-term", action="store_true")
    return parser.parse_args(argv)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise TerminatedError


def main(argv: list[str] | None = None) -> int:
    """Run one workload; return its exit status (or die by SIGTERM when terminated)."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_terminated)
    watch = ParentWatch()
    try:
        WORKLOADS[args.kind](args, watch)
        if args.hang:
            signal.signal(signal.SIGTERM, signal.SIG_IGN if args.ignore_term else signal.SIG_DFL)
        print(f"peak_rss_mb={peak_rss_mb():.1f}", flush=True)
        if args.hang:
            watch.sleep(float("inf"))
    except ParentGoneError:
        return 1
    except TerminatedError:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1.0)
    return int(args.exit_code)


if __name__ == "__main__":
    sys.exit(main())
