"""Disk full: the recorder keeps sampling, says so once, holds the newest ticks, writes again."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.headless.engine import TickResult
from mzt_tui.headless.recorder import Recorder
from mzt_tui.models import ConductorStatus, SystemSnapshot
from mzt_tui.models.errors import MztError, StoreError
from mzt_tui.store import MonitorStore
from mzt_tui.store.jsonl import JsonlAppender
from tests.reliability.diskfull_child import SCRIPTED_JOB, SHEET_ROOT
from tests.reliability.helpers import count, figure, integrity
from tests.store.factories import BASE_TIME, process, raw_rows, snapshot

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


def _wait_for(predicate: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return True
        time.sleep(0.05)
    return False


def _record_while_full(
    tmp_path: Path,
    home: Path,
    limit: int,
    jsonl_max: int,
    seconds: float,
    free_space: Callable[[], None],
) -> tuple[str, list[SystemSnapshot]]:
    """Record in a child until writes fail, 2 s more, then `free_space()`; return its output.

    In those 2 s a scripted anomaly opens, then closes as a sheet run ends and a second one
    opens (left open until exit): all while nothing can be written.
    """
    flag = tmp_path / "full"
    flag.touch()
    stderr_path = tmp_path / "stderr"
    lines: list[bytes] = []
    with stderr_path.open("wb") as stderr:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.reliability.diskfull_child",
                str(home),
                str(limit),
                str(flag),
                str(seconds),
                str(jsonl_max),
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,  # a pipe: neither limit applies to it
            stderr=stderr,
        )
        reader = threading.Thread(target=lines.extend, args=(child.stdout,))
        reader.start()
        try:
            full = _wait_for(lambda: b"not written" in stderr_path.read_bytes(), seconds - 6)
            # Sampling goes on while nothing can be written.
            Path(f"{flag}.outage").touch()
            time.sleep(1.0)
            Path(f"{flag}.close").touch()
            time.sleep(1.0)
            free_space()
            flag.unlink()
            child.wait(timeout=60)
            reader.join(timeout=10)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    status = stderr_path.read_text()
    assert full, status
    assert child.returncode == 0, status
    assert "Traceback" not in status
    return status, [SystemSnapshot.model_validate_json(line) for line in lines]


def _check_nothing_lost(home: Path, status: str, streamed: list[SystemSnapshot]) -> str:
    warnings = [line for line in status.splitlines() if "monitor.db not written" in line]
    assert len(warnings) == 1, status  # once a minute, and the run was shorter
    (again,) = [line for line in status.splitlines() if "monitor.db written again" in line]
    db = home / "monitor.db"
    assert integrity(db) == "ok"
    with MonitorStore(db, readonly=True) as store:
        recorded = store.read_snapshots(0.0, limit=len(streamed) + 10)
    # Every tick sampled, the ones held in memory while the disk was full included.
    assert [s.timestamp for s in recorded] == [s.timestamp for s in streamed]
    jsonl = [
        json.loads(line)["timestamp"]
        for path in (home / "monitor.jsonl.2", home / "monitor.jsonl.1", home / "monitor.jsonl")
        if path.exists()
        for line in path.read_text().splitlines()
    ]
    # No half line; rotation dropped only whole old files, the newest lines are all there.
    assert jsonl == [s.timestamp for s in streamed][-len(jsonl) :]
    assert all(
        stat.S_IMODE(path.stat().st_mode) == 0o600 for path in home.iterdir() if path.is_file()
    )
    anomalies, run = _check_scripted_rows(db, streamed)
    return (
        f"{len(streamed)} ticks sampled, {count(db, 'snapshots')} recorded; "
        f"{anomalies} anomalies and {run} sheet run of the outage recorded once; "
        f"{len(warnings)} warning ({warnings[0].split(';')[0].split(': ')[-1]}); "
        f"{again.removeprefix('mzt: ')}"
    )


def _check_scripted_rows(db: Path, streamed: list[SystemSnapshot]) -> tuple[int, int]:
    """The outage's anomalies and sheet run are in monitor.db once, with the ticks' times."""
    with_root = [s.timestamp for s in streamed if any(p.pid == SHEET_ROOT.pid for p in s.processes)]
    stamps = {s.timestamp for s in streamed}
    anomalies = raw_rows(
        db,
        "SELECT anomaly_type, started_at, ended_at FROM mzt_anomalies"
        f" WHERE job_id = '{SCRIPTED_JOB}' ORDER BY started_at",
    )
    # The spike opens while the root runs and closes at the first tick without it; the
    # second one opens then and is closed at exit.
    assert [(kind, start in stamps) for kind, start, _ in anomalies] == [
        ("memory_spike", True),
        ("fd_exhaustion", True),
    ], anomalies
    (_, spike_start, spike_end), (_, second_start, second_end) = anomalies
    first_without_root = min(t for t in stamps if t > with_root[-1])
    assert with_root[0] < spike_start <= with_root[-1]
    assert spike_end == second_start == first_without_root
    assert second_end is not None and second_end >= streamed[-1].timestamp
    runs = raw_rows(
        db,
        "SELECT first_seen, ended_at, samples, anomaly_types FROM mzt_sheet_runs"
        f" WHERE job_id = '{SCRIPTED_JOB}'",
    )
    assert runs == [(with_root[0], with_root[-1], len(with_root), '["memory_spike"]')]
    return len(anomalies), len(runs)


def test_a_real_file_size_limit_then_space_returns(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes every write past 1 MB fail with EFBIG, as a full disk would."""
    home = tmp_path / "home"
    status, streamed = _record_while_full(
        tmp_path, home, 1024 * 1024, 64 * 1024 * 1024, 14.0, lambda: None
    )
    # EFBIG reads as SQLite's "disk I/O error".
    assert "disk I/O error" in status
    figure("disk full (RLIMIT_FSIZE)", _check_nothing_lost(home, status, streamed))


def _can_mount(target: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(target)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def test_a_small_file_system_fills_up_then_grows(tmp_path: Path) -> None:
    """A 1 MB tmpfs: a real ENOSPC, JSONL rotating at 256 KB; then it is grown to 64 MB."""
    mount_point = tmp_path / "fs"
    mount_point.mkdir()
    if not _can_mount(mount_point):
        pytest.skip("mounting a small tmpfs needs root (CAP_SYS_ADMIN)")
    try:
        home = mount_point / "home"

        def grow() -> None:
            subprocess.run(["mount", "-o", "remount,size=64m", str(mount_point)], check=True)

        status, streamed = _record_while_full(tmp_path, home, 0, 256 * 1024, 20.0, grow)
        assert "database or disk is full" in status
        assert (home / "monitor.jsonl.1").exists()
        figure("disk full (1 MB tmpfs)", _check_nothing_lost(home, status, streamed))
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def _result(stamp: float) -> TickResult:
    shot: SystemSnapshot = snapshot(stamp, (process(6002, job_id="job-a", sheet_num=1),))
    return TickResult(
        snapshot=shot,
        all_processes=shot.processes,
        events=(),
        anomalies=AnomalyChanges(),
        jobs=(),
        conductor=ConductorStatus(pid=4242, source="pid_file"),
        gpu_reason="no GPU",
    )


class FullDisk(MonitorStore):
    """A real store whose writes fail as on a full disk while `full` is set."""

    full = False

    def write_snapshot(self, snapshot: SystemSnapshot) -> int:
        if self.full:
            raise StoreError(f"{self.db_path}: writing failed: database or disk is full")
        return super().write_snapshot(snapshot)

    def append_jsonl(self, snapshot: SystemSnapshot) -> None:
        if self.full:
            raise StoreError("cannot append to monitor.jsonl: No space left on device")
        super().append_jsonl(snapshot)


def test_the_backlog_is_bounded_says_once_a_minute_and_drains(tmp_path: Path) -> None:
    store = FullDisk(tmp_path / "monitor.db", jsonl_path=tmp_path / "monitor.jsonl")
    status = io.StringIO()
    now = [BASE_TIME]
    recorder = Recorder(store=store, status_out=status, clock=lambda: now[0], backlog_ticks=50)
    for tick in range(10):
        now[0] = BASE_TIME + tick
        recorder.handle(_result(now[0]))
    store.full = True
    for tick in range(10, 190):  # three minutes full at one tick a second
        now[0] = BASE_TIME + tick
        recorder.handle(_result(now[0]))
    assert recorder.ticks_waiting == 50
    assert recorder.ticks_dropped == 130
    warnings = [line for line in status.getvalue().splitlines() if "warning" in line]
    assert len([w for w in warnings if "monitor.db" in w]) == 3  # at 10 s, 70 s, 130 s
    assert len([w for w in warnings if "JSONL" in w]) == 3
    assert (
        "keeping the newest 50 ticks in memory (at most 50); dropped so far: 71 ticks;"
        in warnings[-1]
    )
    store.full = False
    now[0] = BASE_TIME + 190
    recorder.handle(_result(now[0]))
    assert recorder.ticks_waiting == 0
    assert (
        "monitor.db written again: 50 held ticks written;"
        " dropped while it could not be written: 131 ticks\n"
    ) in status.getvalue()
    with MonitorStore(tmp_path / "monitor.db", readonly=True) as reader:
        stamps = [s.timestamp for s in reader.read_snapshots(0.0, limit=1000)]
    # The ten before, then the newest fifty (the last one written at once), in order.
    assert stamps == [BASE_TIME + t for t in (*range(10), *range(141, 191))]
    lines = (tmp_path / "monitor.jsonl").read_text().splitlines()
    assert [json.loads(line)["timestamp"] for line in lines] == stamps
    store.close()


def test_a_rotation_that_fails_midway_loses_no_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "monitor.jsonl"
    appender = JsonlAppender(path, max_bytes=1)
    shots = [snapshot(BASE_TIME + i, (process(10 + i),)) for i in range(6)]
    for shot in shots[:3]:
        appender.append(shot)  # monitor.jsonl, .1 and .2 each hold one line
    real_replace = os.replace
    calls = [0]

    def failing_replace(src: object, dst: object) -> None:
        calls[0] += 1
        if calls[0] == 2:  # .1 went to .2; the file to .1 fails (a full directory)
            raise OSError(28, "No space left on device")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(StoreError, match="No space left"):
        appender.append(shots[3])
    monkeypatch.setattr(os, "replace", real_replace)
    for shot in shots[4:]:
        appender.append(shot)
    stamps = sorted(
        json.loads(line)["timestamp"]
        for suffix in ("", ".1", ".2")
        if (tmp_path / f"monitor.jsonl{suffix}").exists()
        for line in (tmp_path / f"monitor.jsonl{suffix}").read_text().splitlines()
    )
    # The failed append is the only line missing: A went the way rotation drops the oldest
    # file, B was dropped by the next rotation, C, E and F are kept whole.
    assert stamps == [BASE_TIME + 2, BASE_TIME + 4, BASE_TIME + 5]
    assert all(
        (tmp_path / f"monitor.jsonl{suffix}").stat().st_mode & 0o777 == 0o600
        for suffix in ("", ".1", ".2")
        if (tmp_path / f"monitor.jsonl{suffix}").exists()
    )


class FullFile(io.StringIO):
    """A stdout redirected to a file on a full disk."""

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_stdout_ends_streaming_not_recording(tmp_path: Path) -> None:
    store = MonitorStore(tmp_path / "monitor.db")
    status = io.StringIO()
    recorder = Recorder(store=store, ndjson_out=FullFile(), status_out=status)
    for tick in range(3):
        recorder.handle(_result(BASE_TIME + tick))
    assert recorder.ticks_recorded == 3
    said = [line for line in status.getvalue().splitlines() if "stdout" in line]
    assert said == [
        "mzt: warning: stdout cannot be written (No space left on device); recording goes on"
    ]
    store.close()


def test_a_full_stdout_without_recording_is_one_error() -> None:
    recorder = Recorder(ndjson_out=FullFile())
    with pytest.raises(MztError, match=r"^cannot write to stdout: No space left on device$"):
        recorder.handle(_result(BASE_TIME))
