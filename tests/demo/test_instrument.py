"""Each sheet workload does what it says, as a real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from mzt_tui.demo.sheets import child_environment
from tests.demo import procfs


def start(
    tmp_path: Path, *args: str, stdout: int | None = subprocess.PIPE
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "mzt_tui.demo.instrument", *args]
    return subprocess.Popen(command, cwd=tmp_path, stdout=stdout, env=child_environment())


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_exit_code_is_returned_after_the_workload(tmp_path: Path) -> None:
    process = start(tmp_path, "quick", "--seconds", "0.1", "--exit-code", "3")
    output, _ = process.communicate(timeout=10)
    assert process.returncode == 3
    assert output.decode().strip().splitlines()[-1].startswith("peak_rss_mb=")
    assert not list((tmp_path / "reports").iterdir())


def test_cpu_burn_uses_a_core_for_its_duration(tmp_path: Path) -> None:
    process = start(tmp_path, "cpu", "--seconds", "0.6", stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0
    # a sleeper of the same length uses ~0.05 s; allow for a machine shared with other work
    assert usage.ru_utime + usage.ru_stime >= 0.25


def test_hang_dies_by_sigterm(tmp_path: Path) -> None:
    process = start(tmp_path, "quick", "--seconds", "0.1", "--hang")
    assert process.stdout is not None
    assert process.stdout.readline().startswith(b"peak_rss_mb=")
    time.sleep(0.2)
    assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=5) == -signal.SIGTERM


def test_stubborn_hang_ignores_sigterm_and_needs_sigkill(tmp_path: Path) -> None:
    process = start(tmp_path, "quick", "--seconds", "0.1", "--hang", "--ignore-term")
    assert process.stdout is not None
    assert process.stdout.readline().startswith(b"peak_rss_mb=")
    process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert process.poll() is None
    process.kill()
    assert process.wait(timeout=5) == -signal.SIGKILL


def test_zombie_child_stays_unreaped_for_a_while(tmp_path: Path) -> None:
    process = start(tmp_path, "zombie", "--seconds", "1.5", stdout=subprocess.DEVNULL)

    def zombie_child() -> bool:
        return any(stat.ppid == process.pid and stat.state == "Z" for stat in procfs.all_stats())

    try:
        assert wait_until(zombie_child, timeout=1.0)
    finally:
        assert process.wait(timeout=10) == 0
    assert not zombie_child()


def test_kill_child_kills_its_tool_with_the_signal_asked(tmp_path: Path) -> None:
    for signal_name, number in (("KILL", 9), ("TERM", 15)):
        process = start(tmp_path, "kill-child", "--seconds", "0.8", "--signal", signal_name)
        output, _ = process.communicate(timeout=15)
        assert process.returncode == 0
        assert f"ended by signal {number}" in output.decode()


def test_memory_grows_to_the_target(tmp_path: Path) -> None:
    process = start(tmp_path, "memory", "--seconds", "0.6", "--peak-mb", "160")
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 0
    peak = float(output.decode().strip().splitlines()[-1].split("=")[1])
    assert 160 <= peak <= 230


def test_files_holds_200_open_files_then_removes_them(tmp_path: Path) -> None:
    process = start(tmp_path, "files", "--seconds", "1.0", stdout=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: procfs.open_fd_count(process.pid) >= 200, timeout=3.0)
    finally:
        assert process.wait(timeout=10) == 0
    assert not list((tmp_path / "scratch").iterdir())


def test_agent_has_two_tool_children_in_its_group(tmp_path: Path) -> None:
    process = start(tmp_path, "agent", "--seconds", "1.5", stdout=subprocess.DEVNULL)

    def tools() -> list[procfs.ProcStat]:
        return [stat for stat in procfs.all_stats() if stat.ppid == process.pid]

    try:
        assert wait_until(lambda: len(tools()) == 2, timeout=3.0)
        own = procfs.read_stat(process.pid)
        assert own is not None
        assert {stat.pgid for stat in tools()} == {own.pgid}
        assert all(" tool " in procfs.cmdline(stat.pid) for stat in tools())
        assert all(procfs.cwd(stat.pid) == tmp_path for stat in tools())
    finally:
        assert process.wait(timeout=10) == 0


def test_a_tree_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    # GIVEN an agent tree whose parent (standing in for the demo) is SIGKILLed
    launcher = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-m', 'mzt_tui.demo.instrument', 'agent',"
        " '--seconds', '60'], start_new_session=True)\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", launcher],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        env=child_environment(),
    )
    assert parent.stdout is not None
    agent_pid = int(parent.stdout.readline())
    agent = procfs.read_stat(agent_pid)
    assert agent is not None
    assert wait_until(lambda: len(procfs.in_sessions({agent.sid})) == 3, timeout=5.0)
    assert agent.sid == agent_pid
    tree = {stat.identity for stat in procfs.in_sessions({agent.sid})}
    assert len(tree) == 3
    parent.kill()
    parent.wait()
    # THEN the agent and its tools exit on their own
    assert wait_until(lambda: not procfs.still_present(tree), timeout=5.0)
