"""The demo as its own process: started in the background, stopped cleanly, never orphaning."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mzt_tui.demo.runner import start_demo_background
from mzt_tui.demo.sheets import child_environment
from mzt_tui.models.errors import MztError
from tests.demo import procfs
from tests.demo.test_conductor import read_jobs

SPEED = "10"


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def sheet_sessions(demo_pid: int) -> set[int]:
    """Sessions of the demo's sheet processes (direct children that lead their own session)."""
    return {
        stat.sid for stat in procfs.all_stats() if stat.ppid == demo_pid and stat.sid == stat.pid
    }


def watch_sheets(demo_pid: int, seconds: float) -> tuple[set[int], set[tuple[int, int]]]:
    """Collect the demo's sheet sessions and every process in them for `seconds`."""
    sessions: set[int] = set()
    identities: set[tuple[int, int]] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sessions |= sheet_sessions(demo_pid)
        identities |= {stat.identity for stat in procfs.in_sessions(sessions)}
        time.sleep(0.05)
    return sessions, identities


def test_background_demo_runs_sheets_and_stops_cleanly(tmp_path: Path) -> None:
    # GIVEN a demo started in the background
    home = tmp_path / "demo-home"
    demo = start_demo_background(home, seed=35, speed=10.0, jobs=2)
    try:
        # THEN it is its own session, wrote its pid file, and runs sheets as its children
        assert os.getsid(demo.pid) == demo.pid
        assert (home / "marianne.pid").read_text().strip() == str(demo.pid)
        sessions, identities = watch_sheets(demo.pid, 2.5)
        assert sessions
        rows = read_jobs(home / "daemon-state.db")
        assert rows and all(row["pid"] == demo.pid for row in rows)
    finally:
        # WHEN it is stopped
        status = demo.stop()
    # THEN it exits 0, removes its pid file, leaves no process and no open job
    assert status == 0
    assert not (home / "marianne.pid").exists()
    assert wait_until(lambda: not procfs.in_sessions(sessions), timeout=5.0)
    assert procfs.still_present(identities) == []
    assert {row["status"] for row in read_jobs(home / "daemon-state.db")} <= {
        "completed",
        "failed",
        "cancelled",
    }
    assert "demo conductor stopped" in demo.log_path.read_text()


def test_background_demo_stops_when_its_parent_dies(tmp_path: Path) -> None:
    # GIVEN a demo started by a process that is then SIGKILLed
    home = tmp_path / "demo-home"
    launcher = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from mzt_tui.demo.runner import start_demo_background\n"
        "demo = start_demo_background(Path(sys.argv[1]), seed=35, speed=10.0)\n"
        "print(demo.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", launcher, str(home)],
        stdout=subprocess.PIPE,
        env=child_environment(),
    )
    assert parent.stdout is not None
    demo_pid = int(parent.stdout.readline())
    sessions, identities = watch_sheets(demo_pid, 1.5)
    identities.add(procfs.read_stat(demo_pid).identity)  # type: ignore[union-attr]
    parent.kill()
    parent.wait()
    # THEN the demo notices, cleans up and exits, leaving nothing behind
    assert wait_until(lambda: not procfs.still_present(identities), timeout=10.0)
    assert wait_until(lambda: not procfs.in_sessions(sessions), timeout=5.0)
    assert not (home / "marianne.pid").exists()


def test_sigkilled_demo_leaves_no_orphan_sheet(tmp_path: Path) -> None:
    # GIVEN a running demo that is SIGKILLed, so it cannot clean up
    home = tmp_path / "demo-home"
    demo = start_demo_background(home, seed=35, speed=10.0)
    sessions, identities = watch_sheets(demo.pid, 1.5)
    assert sessions
    demo.popen.kill()
    demo.popen.wait()
    # THEN every sheet tree notices its parent is gone and exits by itself
    assert wait_until(lambda: not procfs.in_sessions(sessions), timeout=5.0)
    assert procfs.still_present(identities) == []


def test_foreground_demo_prints_transitions_and_exits_0_on_ctrl_c(tmp_path: Path) -> None:
    home = tmp_path / "demo-home"
    process = subprocess.Popen(
        [sys.executable, "-m", "mzt_tui.demo", "--home", str(home), "--speed", SPEED],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=child_environment(),
    )
    try:
        assert wait_until((home / "marianne.pid").exists, timeout=10.0)
        sessions, _ = watch_sheets(process.pid, 1.5)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    text = output.decode()
    assert process.returncode == 0, text
    assert " submitted: " in text and " started: " in text
    assert text.strip().splitlines()[-1].endswith("demo conductor stopped")
    assert not (home / "marianne.pid").exists()
    # orphaned zombies of a killed tree are init's to reap: give it a moment
    assert wait_until(lambda: not procfs.in_sessions(sessions), timeout=5.0)


def test_a_demo_that_cannot_start_says_why(tmp_path: Path) -> None:
    home = tmp_path / "demo-home"
    home.mkdir()
    (home / "marianne.pid").write_text(f"{os.getppid()}\n")
    with pytest.raises(MztError, match="already runs"):
        start_demo_background(home, speed=10.0)
