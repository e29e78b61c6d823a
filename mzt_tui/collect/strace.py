"""Syscall summaries with `strace -c`, and the full trace behind `mzt top --trace PID`.

`StraceProfiler` keeps one `strace -c -f` attached to each sheet root (following its
children) for a window, then detaches it with SIGINT, parses the summary table, and starts
the next window. The latest summary of each process is what the tick reports in its
`syscall_counts` and `syscall_time_pct` columns. Without strace, or when ptrace is denied
(`kernel.yama.ptrace_scope`, containers), it says so once in `reason` and stays off; the
rest of the monitor keeps running.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

_MIN_WINDOW_SECONDS = 1.0
_STOP_TIMEOUT_SECONDS = 2.0
_DENIED_MARKERS = ("Operation not permitted", "EPERM", "ptrace")

SyscallSummary = tuple[dict[str, int], dict[str, float]]
"""Calls per syscall, and each syscall's share of syscall time (0–100, summing to ~100)."""


def parse_strace_summary(text: str) -> SyscallSummary:
    """Parse the table `strace -c` prints when it detaches.

    Rows look like `18.47 0.025662 14 1724 [errors] openat`; the `total` row is skipped.
    """
    counts: dict[str, int] = {}
    shares: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 5 or parts[-1] == "total" or parts[0].startswith(("%", "-")):
            continue
        try:
            share = float(parts[0])
            calls = int(parts[3])
        except ValueError:
            continue
        name = parts[-1]
        counts[name] = counts.get(name, 0) + calls
        shares[name] = min(100.0, shares.get(name, 0.0) + max(share, 0.0))
    return counts, shares


def strace_path() -> str | None:
    """Where strace is, or None."""
    return shutil.which("strace")


@dataclass
class _Attachment:
    process: subprocess.Popen[bytes]
    output: Path
    started: float


@dataclass
class StraceProfiler:
    """Rolling `strace -c` windows over a changing set of processes.

    Args:
        window_seconds: How long each summary window lasts.
        binary: The strace executable (None finds it on PATH).
        clock: A monotonic clock.
    """

    window_seconds: float = 10.0
    binary: str | None = None
    clock: Callable[[], float] = time.monotonic
    reason: str | None = None
    """Why profiling is off, when it is."""
    _attached: dict[int, _Attachment] = field(default_factory=dict)
    _latest: dict[int, SyscallSummary] = field(default_factory=dict)
    _folder: Path | None = None

    def __post_init__(self) -> None:
        self.window_seconds = max(self.window_seconds, _MIN_WINDOW_SECONDS)
        if self.binary is None:
            self.binary = strace_path()
        if self.binary is None:
            self.reason = "strace is not installed: syscall summaries are off"

    @property
    def enabled(self) -> bool:
        """Whether profiling runs."""
        return self.reason is None

    def update(self, pids: Iterable[int]) -> dict[int, SyscallSummary]:
        """Follow exactly `pids`; return the latest finished summary of each one that has one."""
        if not self.enabled:
            return {}
        wanted = set(pids)
        for pid in list(self._attached):
            if pid not in wanted:
                self._finish(pid)
                self._latest.pop(pid, None)
        now = self.clock()
        for pid in wanted:
            attachment = self._attached.get(pid)
            if attachment is not None and now - attachment.started >= self.window_seconds:
                self._finish(pid)
                attachment = None
            if attachment is None and self.enabled:
                self._attach(pid, now)
        return {pid: self._latest[pid] for pid in wanted if pid in self._latest}

    def close(self) -> None:
        """Detach from everything."""
        for pid in list(self._attached):
            self._finish(pid)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _attach(self, pid: int, now: float) -> None:
        assert self.binary is not None
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="mzt-strace-"))
        output = self._folder / f"{pid}.txt"
        try:
            process = subprocess.Popen(
                [self.binary, "-c", "-f", "-q", "-p", str(pid), "-o", str(output)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        except OSError as error:
            self.reason = f"strace cannot run: {error.strerror or error}"
            return
        self._attached[pid] = _Attachment(process, output, now)

    def _finish(self, pid: int) -> None:
        attachment = self._attached.pop(pid)
        process = attachment.process
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
        message = stderr.decode("utf-8", "replace").strip()
        if process.returncode not in (0, -signal.SIGINT) and any(
            marker in message for marker in _DENIED_MARKERS
        ):
            self.reason = f"strace cannot attach (ptrace denied): {message.splitlines()[0]}"
        try:
            text = attachment.output.read_text()
        except OSError:
            return
        counts, shares = parse_strace_summary(text)
        if counts:
            self._latest[pid] = (counts, shares)


def trace_command(pid: int) -> list[str]:
    """The command `mzt top --trace PID` runs: a full, timed trace of the process tree.

    Raises:
        FileNotFoundError: strace is not installed.
    """
    binary = strace_path()
    if binary is None:
        raise FileNotFoundError("strace is not installed")
    return [binary, "-f", "-tt", "-T", "-p", str(pid)]
