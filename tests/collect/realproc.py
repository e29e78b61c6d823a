"""Helpers for tests on real processes: spawn, wait, read /proc independently, clean up."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


class Reaper:
    """Remembers spawned processes and stray PIDs, and ends them all at teardown."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen[bytes]] = []
        self.stray_pids: list[int] = []
        self.groups: list[int] = []

    def spawn(self, args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(args, **kwargs)
        self.children.append(child)
        return child

    def adopt(self, pid: int) -> None:
        """Kill `pid` at teardown too (a process that is not our child, e.g. an orphan)."""
        self.stray_pids.append(pid)

    def adopt_group(self, pgid: int) -> None:
        """Kill the whole process group `pgid` at teardown (a sheet's tree and its orphans)."""
        self.groups.append(pgid)

    def cleanup(self) -> None:
        for pgid in self.groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        for pid in self.stray_pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for child in self.children:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=10)
            for stream in (child.stdout, child.stderr, child.stdin):
                if stream is not None:
                    stream.close()


def python_child(reaper: Reaper, code: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    """Start `python -c code` that prints `ready` once set up; wait for that line."""
    child = reaper.spawn([sys.executable, "-c", code], stdout=subprocess.PIPE, **kwargs)
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip() == b"ready", line
    return child


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until `condition()` holds or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.01)


def kernel_state(pid: int) -> str:
    """The state letter of `/proc/PID/stat` (read independently of the sampler)."""
    data = Path(f"/proc/{pid}/stat").read_bytes()
    return data[data.rfind(b")") + 2 :].split()[0].decode()


def cpu_seconds(pid: int) -> float:
    """utime + stime of `/proc/PID/stat` in seconds (read independently of the sampler)."""
    data = Path(f"/proc/{pid}/stat").read_bytes()
    fields = data[data.rfind(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vmrss_mb(pid: int) -> float:
    """VmRSS of `/proc/PID/status` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


needs_procfs = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.path.isdir("/proc/self"),
    reason="needs Linux /proc",
)
