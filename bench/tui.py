"""Benchmark: what the `mzt top` dashboard costs, beside htop, in one run.

Run: `.venv/bin/python bench/tui.py [--seconds 60] [--rounds 3] [--children 500]
[--soak-seconds 600]`.

Both tools draw into a pseudo-terminal of 120x40 (made here with `os.openpty`; the output
is read and thrown away as a terminal would show it) and refresh once a second while about
570 processes exist (the bench spawns idle `sleep` children to get there):

* `mzt`: `mzt top --interval 1` on a fresh home with no conductor, so the dashboard lists
  every process of the machine (its heaviest case);
* `htop`: `htop -d 10` (tenths of a second).

Measured per tool and round: time to first frame (from the spawn until the footer's key
hints are written, for mzt; until htop's first screen for htop), then after a warm-up the CPU
of the tool's process tree (user + system from /proc) over the window, scaled to CPU seconds
per minute, and its RSS. Medians over the rounds, with ratios. With `--soak-seconds`, mzt
then runs alone that long and its RSS is read every 10 s: the growth from the first reading
after warm-up to the last shows whether memory stays flat.

mzt's package is byte-compiled first, as pip does when it installs a package (an editable
install writes the bytecode on its first run, unless PYTHONDONTWRITEBYTECODE forbids it).

Targets: mzt's CPU at most 1.5x htop's; first frame within 1 s; RSS at most 80 MiB and flat
over 10 minutes (growth below 5 MiB).
"""

from __future__ import annotations

import argparse
import compileall
import fcntl
import os
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from headless import tree_cpu_seconds, tree_pids

COLUMNS, ROWS = 120, 40
WARMUP_SECONDS = 5.0
FIRST_FRAME_TIMEOUT = 30.0
CPU_RATIO_TARGET = 1.5
FIRST_FRAME_TARGET = 1.0
RSS_TARGET_MIB = 80.0
RSS_GROWTH_TARGET_MIB = 5.0


@dataclass(frozen=True)
class Sample:
    """One tool's cost over one measured window."""

    first_frame_seconds: float
    cpu_seconds_per_minute: float
    rss_mib: float


def tree_rss_mib(root: int) -> float:
    """The resident memory (VmRSS) of the tree, summed."""
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class PtyTool:
    """A command running in its own pseudo-terminal whose output is drained in a thread.

    Args:
        command: The command line.
        ready: Bytes whose appearance in the output means the first frame is drawn.
    """

    def __init__(self, command: list[str], ready: bytes) -> None:
        """Start the command in a fresh 120x40 pty."""
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(ROWS)}
        env.pop("NO_COLOR", None)
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            command,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self._master = master
        self._ready = ready
        self._tail = b""
        self.first_frame: float | None = None
        self._frame_seen = threading.Event()
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self._master], [], [], 0.2)
            if not readable:
                continue
            try:
                data = os.read(self._master, 65536)
            except OSError:
                return
            if not data:
                return
            if self.first_frame is None:
                window = self._tail + data
                if self._ready in window:
                    self.first_frame = time.monotonic() - self.started
                    self._frame_seen.set()
                self._tail = window[-len(self._ready) :]

    def wait_first_frame(self) -> float:
        """Seconds from the spawn to the first frame.

        Raises:
            RuntimeError: The tool exited or drew nothing recognisable in time.
        """
        if not self._frame_seen.wait(FIRST_FRAME_TIMEOUT) or self.first_frame is None:
            raise RuntimeError(f"{self.process.args!r}: no first frame within 30 s")
        return self.first_frame

    def stop(self) -> None:
        """Stop the tool and the reader; close the pty."""
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._stop.set()
        self._reader.join(timeout=2)
        os.close(self._master)


def tools(home: Path) -> dict[str, tuple[list[str], bytes]]:
    """The tools to compare, each refreshing once a second, with their first-frame marker."""
    mzt = str(Path(sys.executable).parent / "mzt")
    found: dict[str, tuple[list[str], bytes]] = {
        # The footer's first key hint is written with the first full frame.
        "mzt": ([mzt, "top", "--interval", "1", "--marianne-home", str(home)], b"Quit"),
    }
    if shutil.which("htop"):
        # htop's function-key bar (F10Quit) ends its first screen.
        found["htop"] = (["htop", "-d", "10"], b"Quit")
    else:
        print("htop left out: install htop", file=sys.stderr)
    return found


def measure(command: list[str], ready: bytes, seconds: float) -> Sample:
    """Start `command` in a pty, time its first frame, then measure CPU and RSS."""
    tool = PtyTool(command, ready)
    try:
        first_frame = tool.wait_first_frame()
        time.sleep(max(0.0, WARMUP_SECONDS - first_frame))
        if tool.process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited early with {tool.process.returncode}")
        start_cpu = tree_cpu_seconds(tool.process.pid)
        started = time.monotonic()
        time.sleep(seconds)
        cpu = tree_cpu_seconds(tool.process.pid) - start_cpu
        elapsed = time.monotonic() - started
        rss = tree_rss_mib(tool.process.pid)
    finally:
        tool.stop()
    return Sample(first_frame, cpu * 60.0 / elapsed, rss)


def soak(command: list[str], ready: bytes, seconds: float, report: Callable[[str], None]) -> float:
    """Run `command` for `seconds`, reading its RSS every 10 s; return the growth in MiB."""
    tool = PtyTool(command, ready)
    readings: list[float] = []
    try:
        tool.wait_first_frame()
        time.sleep(WARMUP_SECONDS)
        deadline = time.monotonic() + seconds
        while True:
            readings.append(tree_rss_mib(tool.process.pid))
            report(f"soak {len(readings) * 10 - 10:>4} s: RSS {readings[-1]:.1f} MiB")
            if time.monotonic() >= deadline:
                break
            time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
    finally:
        tool.stop()
    return readings[-1] - readings[0]


def main() -> int:
    """Run the comparison, print the table, and return 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window per tool")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--children", type=int, default=500, help="idle processes to add")
    parser.add_argument(
        "--soak-seconds", type=float, default=0.0, help="then run mzt alone this long (RSS)"
    )
    args = parser.parse_args()
    package = Path(__file__).resolve().parent.parent / "mzt_tui"
    if not compileall.compile_dir(package, quiet=1):
        print(f"could not byte-compile {package}", file=sys.stderr)
        return 2
    sleepers = [
        subprocess.Popen(["sleep", "3600"], start_new_session=True) for _ in range(args.children)
    ]
    results: dict[str, list[Sample]] = {}
    growth: float | None = None
    try:
        with tempfile.TemporaryDirectory() as folder:
            compared = tools(Path(folder))
            process_count = sum(1 for name in os.listdir("/proc") if name.isdigit())
            print(
                f"{process_count} processes, {COLUMNS}x{ROWS} pty, {args.seconds:g} s windows,"
                f" {args.rounds} rounds"
            )
            for round_number in range(args.rounds):
                for name, (command, ready) in compared.items():
                    results.setdefault(name, []).append(measure(command, ready, args.seconds))
                print(f"round {round_number + 1} done", file=sys.stderr)
            if args.soak_seconds > 0:
                command, ready = compared["mzt"]
                growth = soak(
                    command, ready, args.soak_seconds, lambda line: print(line, file=sys.stderr)
                )
    finally:
        for sleeper in sleepers:
            sleeper.kill()
        for sleeper in sleepers:
            sleeper.wait()
    medians = {
        name: Sample(
            statistics.median(s.first_frame_seconds for s in samples),
            statistics.median(s.cpu_seconds_per_minute for s in samples),
            statistics.median(s.rss_mib for s in samples),
        )
        for name, samples in results.items()
    }
    mzt = medians["mzt"]
    print(f"{'tool':<8}{'first frame s':>15}{'CPU s/min':>11}{'RSS MiB':>9}{'mzt CPU / tool':>16}")
    for name, sample in medians.items():
        shown = f"{mzt.cpu_seconds_per_minute / sample.cpu_seconds_per_minute:.2f}x"
        print(
            f"{name:<8}{sample.first_frame_seconds:>15.2f}{sample.cpu_seconds_per_minute:>11.2f}"
            f"{sample.rss_mib:>9.1f}{shown:>16}"
        )
    verdicts = [
        f"first frame {mzt.first_frame_seconds:.2f} s <= {FIRST_FRAME_TARGET:g} s: "
        + ("met" if mzt.first_frame_seconds <= FIRST_FRAME_TARGET else "MISSED"),
        f"RSS {mzt.rss_mib:.1f} MiB <= {RSS_TARGET_MIB:g}: "
        + ("met" if mzt.rss_mib <= RSS_TARGET_MIB else "MISSED"),
    ]
    if "htop" in medians:
        ratio = mzt.cpu_seconds_per_minute / medians["htop"].cpu_seconds_per_minute
        verdicts.append(
            f"CPU vs htop {ratio:.2f}x <= {CPU_RATIO_TARGET:g}x: "
            + ("met" if ratio <= CPU_RATIO_TARGET else "MISSED")
        )
    if growth is not None:
        verdicts.append(
            f"RSS growth over {args.soak_seconds:g} s {growth:+.1f} MiB < "
            f"{RSS_GROWTH_TARGET_MIB:g}: " + ("met" if growth < RSS_GROWTH_TARGET_MIB else "MISSED")
        )
    print("targets: " + "; ".join(verdicts))
    return 0 if all("MISSED" not in verdict for verdict in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
