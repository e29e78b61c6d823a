"""Syscall summaries: the `strace -c` table, the rolling profiler, and `--trace`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mzt_tui.cli import run
from mzt_tui.collect.strace import StraceProfiler, parse_strace_summary, strace_path

SUMMARY = """\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 18.47    0.025662          14      1724           openat
 16.78    0.023318          13      1724           close
 16.18    0.022493          13      1724      1724 ioctl
 48.57    0.067502          13      5172           getpid
------ ----------- ----------- --------- --------- ----------------
100.00    0.138975          13     10344      1724 total
"""

needs_strace = pytest.mark.skipif(strace_path() is None, reason="strace is not installed")


def test_parses_the_summary_table() -> None:
    counts, shares = parse_strace_summary(SUMMARY)
    assert counts == {"openat": 1724, "close": 1724, "ioctl": 1724, "getpid": 5172}
    assert shares["getpid"] == 48.57
    assert "total" not in counts
    assert sum(shares.values()) == pytest.approx(100.0)


@pytest.mark.parametrize("text", ["", "strace: Process 1 attached\n", "garbage\n1 2 3\n"])
def test_empty_or_odd_output_gives_nothing(text: str) -> None:
    assert parse_strace_summary(text) == ({}, {})


def test_without_strace_it_says_why_and_stays_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mzt_tui.collect.strace.strace_path", lambda: None)
    profiler = StraceProfiler()
    assert not profiler.enabled
    assert profiler.reason is not None
    assert "not installed" in profiler.reason
    assert profiler.update([1, 2]) == {}


@pytest.fixture
def busy_child() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(
        [sys.executable, "-c", "import os\nwhile True:\n    os.getppid()\n"],
    )
    yield child
    child.kill()
    child.wait()


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@needs_strace
def test_profiler_summarises_a_real_process(busy_child: subprocess.Popen[bytes]) -> None:
    import time

    clock = FakeClock()
    profiler = StraceProfiler(window_seconds=1.0, clock=clock)
    try:
        assert profiler.update([busy_child.pid]) == {}
        time.sleep(1.0)
        clock.now = 2.0
        summaries = profiler.update([busy_child.pid])
    finally:
        profiler.close()
    if profiler.reason is not None:
        pytest.skip(profiler.reason)
    counts, shares = summaries[busy_child.pid]
    assert counts["getppid"] > 100
    assert max(shares, key=lambda name: shares[name]) == "getppid"
    assert all(0.0 <= share <= 100.0 for share in shares.values())


def test_trace_of_a_missing_process_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["top", "--trace", "999999999"]) == 2
    error = capsys.readouterr().err.strip()
    assert error == "mzt: error: --trace 999999999: no such process"


@needs_strace
def test_trace_streams_syscalls(busy_child: subprocess.Popen[bytes]) -> None:
    trace = subprocess.Popen(
        [str(Path(sys.executable).parent / "mzt"), "top", "--trace", str(busy_child.pid)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert trace.stdout is not None
        line = trace.stdout.readline()
    finally:
        trace.terminate()
        trace.wait(timeout=10)
    assert "getppid" in line or "attached" in line
