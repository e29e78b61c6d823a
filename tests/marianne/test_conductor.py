"""Finding the conductor: its PID file, liveness checks, and the registry fallback."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mzt_tui.marianne.conductor import find_conductor, read_pid_file
from mzt_tui.marianne.liveness import pid_alive
from mzt_tui.marianne.paths import MarianneHome


def _alive_only(*pids: int) -> Callable[[int], bool]:
    """A liveness check that knows exactly which PIDs are alive."""
    alive = set(pids)
    return lambda pid: pid in alive


def _home_with_registry(tmp_path: Path, upstream_copy: Path) -> MarianneHome:
    """A Marianne home whose registry is a copy of the conductor's fixture."""
    home = MarianneHome(root=upstream_copy, pid_file=tmp_path / "marianne.pid")
    (upstream_copy / "registry.db").rename(home.registry_db)
    return home


# The PID file ------------------------------------------------------------------------


def test_a_plain_decimal_pid_is_read(tmp_path: Path) -> None:
    pid_file = tmp_path / "marianne.pid"
    pid_file.write_text("4242\n")
    assert read_pid_file(pid_file) == (4242, None)


@pytest.mark.parametrize(
    ("content", "reason_part"),
    [
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (b"abc\n", "not a plain decimal PID"),
        (b"12 34", "not a plain decimal PID"),
        (b"+12", "not a plain decimal PID"),
        (b"1e3", "not a plain decimal PID"),
        (b"-5\n", "negative number"),
        (b"0", "holds 0"),
        (b"\xff\xfe\x00", "binary junk"),
        (b"1" * 100, "too long"),
    ],
)
def test_junk_in_the_pid_file_gives_a_reason_not_an_exception(
    tmp_path: Path, content: bytes, reason_part: str
) -> None:
    pid_file = tmp_path / "marianne.pid"
    pid_file.write_bytes(content)
    pid, reason = read_pid_file(pid_file)
    assert pid is None
    assert reason is not None
    assert reason_part in reason
    assert str(pid_file) in reason
    assert "\n" not in reason


def test_a_missing_pid_file_gives_a_reason(tmp_path: Path) -> None:
    pid, reason = read_pid_file(tmp_path / "absent.pid")
    assert pid is None
    assert reason is not None
    assert "does not exist" in reason


def test_a_directory_in_place_of_the_pid_file_gives_a_reason(tmp_path: Path) -> None:
    pid, reason = read_pid_file(tmp_path)
    assert pid is None
    assert reason is not None
    assert "directory" in reason


def test_an_unreadable_pid_file_gives_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "marianne.pid"
    pid_file.write_text("4242")

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    # Tests may run as root, where chmod 000 would not stop a read.
    monkeypatch.setattr(Path, "open", refuse)
    pid, reason = read_pid_file(pid_file)
    assert pid is None
    assert reason is not None
    assert "cannot be read: Permission denied" in reason


# Liveness ----------------------------------------------------------------------------


def test_this_process_is_alive() -> None:
    assert pid_alive(os.getpid())


@pytest.mark.parametrize("pid", [0, -1, 1 << 22, 10**12])
def test_impossible_pids_are_dead(pid: int) -> None:
    assert not pid_alive(pid)


def test_an_exited_and_reaped_process_is_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not pid_alive(child.pid)


def test_a_zombie_is_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        # Not reaped yet: it stays a zombie until wait() below.
        deadline = time.monotonic() + 5.0
        while pid_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert Path(f"/proc/{child.pid}").exists(), "the zombie should still be listed"
        assert not pid_alive(child.pid)
    finally:
        child.wait()


def test_permission_denied_means_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    def deny(_pid: int, _signal: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "kill", deny)
    assert pid_alive(1)


def test_a_pid_missing_from_proc_is_dead(tmp_path: Path) -> None:
    fake_proc = tmp_path / "proc"
    (fake_proc / "self").mkdir(parents=True)
    assert not pid_alive(os.getpid(), proc_root=fake_proc)


# find_conductor -----------------------------------------------------------------------


def test_a_live_pid_from_the_pid_file_is_used(tmp_path: Path) -> None:
    home = MarianneHome(root=tmp_path, pid_file=tmp_path / "marianne.pid")
    home.pid_file.write_text("777\n")
    status = find_conductor(home, is_alive=_alive_only(777))
    assert (status.pid, status.source, status.reasons) == (777, "pid_file", ())
    assert status.found


def test_a_dead_pid_file_falls_back_to_a_live_running_row(
    tmp_path: Path, upstream_copy: Path
) -> None:
    home = _home_with_registry(tmp_path, upstream_copy)
    home.pid_file.write_text("999\n")
    status = find_conductor(home, is_alive=_alive_only(4242))
    assert status.pid == 4242
    assert status.source == "registry"
    assert status.reasons == (f"PID 999 from {home.pid_file} is not running",)


def test_junk_pid_file_falls_back_to_the_registry(tmp_path: Path, upstream_copy: Path) -> None:
    home = _home_with_registry(tmp_path, upstream_copy)
    home.pid_file.write_text("not-a-pid")
    status = find_conductor(home, is_alive=_alive_only(4242))
    assert (status.pid, status.source) == (4242, "registry")
    assert len(status.reasons) == 1
    assert "not a plain decimal PID" in status.reasons[0]


def test_the_newest_live_running_row_wins(tmp_path: Path, upstream_copy: Path) -> None:
    home = _home_with_registry(tmp_path, upstream_copy)
    with sqlite3.connect(home.registry_db) as connection:
        # beta-build (newer) runs under a dead PID, alpha-review (older) under a live one.
        connection.execute("UPDATE jobs SET pid = 5001 WHERE job_id = 'beta-build'")
        connection.execute("UPDATE jobs SET pid = 5002 WHERE job_id = 'alpha-review'")
    connection.close()
    status = find_conductor(home, is_alive=_alive_only(5002))
    assert (status.pid, status.source) == (5002, "registry")
    assert any("PID 5001" in reason for reason in status.reasons)


def test_nothing_alive_anywhere_gives_no_pid_and_every_reason(
    tmp_path: Path, upstream_copy: Path
) -> None:
    home = _home_with_registry(tmp_path, upstream_copy)
    status = find_conductor(home, is_alive=_alive_only())
    assert status.pid is None
    assert status.source is None
    assert not status.found
    assert status.reasons[0] == f"PID file {home.pid_file} does not exist"
    assert "PID 4242 of a running job in the registry is not running" in status.reasons


def test_no_pid_file_and_no_registry(tmp_path: Path) -> None:
    home = MarianneHome(root=tmp_path / "home", pid_file=tmp_path / "marianne.pid")
    status = find_conductor(home, is_alive=_alive_only(1))
    assert status.pid is None
    assert len(status.reasons) == 2
    assert "does not exist" in status.reasons[1]


def test_a_corrupt_registry_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    home = MarianneHome(root=tmp_path, pid_file=tmp_path / "marianne.pid")
    home.registry_db.write_bytes(b"this is not a database at all" * 100)
    status = find_conductor(home, is_alive=_alive_only())
    assert status.pid is None
    assert "cannot read conductor registry" in status.reasons[-1]
    assert all("\n" not in reason for reason in status.reasons)
