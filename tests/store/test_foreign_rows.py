"""Rows another writer left, valid or not: read as valid models, never as a crash."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mzt_tui.models.process import ProcessMetric, SystemSnapshot
from mzt_tui.store import MonitorStore
from mzt_tui.store.schema import create_marianne_schema
from tests.store.factories import BASE_TIME


def _conductor_file(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    create_marianne_schema(conn)
    return conn


def test_hostile_rows_become_valid_models(tmp_path: Path) -> None:
    # GIVEN rows the conductor's own reader would reject, written behind our back
    path = tmp_path / "monitor.db"
    conn = _conductor_file(path)
    conn.execute(
        "INSERT INTO snapshots (id, timestamp, daemon_pid, system_memory_total_mb, load_avg_1,"
        " gpu_count, gpu_utilization_pct, gpu_memory_used_mb, gpu_temperature, pressure_level,"
        " zombie_count) VALUES (1, ?, -5, 'lots', -1.0, 2, '[150, -3]', 'not json', NULL,"
        " 'apocalyptic', NULL)",
        (BASE_TIME,),
    )
    conn.execute(
        "INSERT INTO process_metrics (snapshot_id, pid, ppid, command, state, cpu_percent,"
        " rss_mb, vms_mb, threads, open_fds, age_seconds, job_id, sheet_num, syscall_counts,"
        " syscall_time_pct) VALUES (1, -7, NULL, ?, 'running', -3.5, 'big', 1e999, 2.5, -1,"
        " NULL, 42, '3', '{\"read\": -1, \"write\": 2}', '[1, 2]')",
        ("x" * 700,),
    )
    conn.execute(
        "INSERT INTO process_metrics (snapshot_id, pid, command, state, threads)"
        " VALUES (1, 8, NULL, NULL, NULL)"
    )
    conn.execute(
        "INSERT INTO process_events (timestamp, pid, event_type, details)"
        " VALUES (?, 1, 'started', 'not one of the five'), (?, 1, 'exit', NULL)",
        (BASE_TIME, BASE_TIME + 1),
    )
    conn.commit()
    conn.close()

    # WHEN we read it, read-only (no migration, no clean-up)
    with MonitorStore(path, readonly=True) as store:
        (read,) = store.read_snapshots(0.0)
        events = store.read_events(0.0)
        profile = store.read_job_resource_profile("42")

    # THEN every model passes its own validation, with the conductor's defaults for NULLs
    assert SystemSnapshot.model_validate(read.model_dump()) == read
    assert read.daemon_pid == 0 and read.system_memory_total_mb == 0.0
    assert read.pressure_level == "none"
    assert [gpu.utilization_pct for gpu in read.gpus] == [100.0, 0.0]
    assert [gpu.memory_used_mb for gpu in read.gpus] == [0.0, 0.0]
    hostile, empty = read.processes
    assert ProcessMetric.model_validate(hostile.model_dump()) == hostile
    assert hostile.pid == 0 and hostile.ppid == 0
    assert hostile.command == "x" * 500
    assert hostile.state == "S"
    assert (hostile.cpu_percent, hostile.rss_mb, hostile.vms_mb) == (0.0, 0.0, 0.0)
    assert hostile.open_fds == 0 and hostile.age_seconds == 0.0
    assert hostile.job_id == "42" and hostile.sheet_num == 3
    assert hostile.syscall_counts == {"write": 2}
    assert hostile.syscall_time_pct == {}
    assert (empty.command, empty.state, empty.threads) == ("", "S", 1)
    # The unknown event type is skipped, not fatal; NULL details read as "".
    assert [(e.event_type.value, e.details) for e in events] == [("exit", "")]
    assert profile.unique_pid_count == 1


def test_conductor_rows_and_ours_in_one_file(tmp_path: Path) -> None:
    # GIVEN a conductor snapshot, then ours, in the same file
    path = tmp_path / "monitor.db"
    conn = _conductor_file(path)
    conn.execute(
        "INSERT INTO snapshots (timestamp, gpu_count, gpu_utilization_pct, gpu_memory_used_mb,"
        " gpu_temperature) VALUES (?, 1, '[10.0]', '[100.0]', '[40.0]')",
        (BASE_TIME,),
    )
    conn.execute(
        "INSERT INTO process_metrics (snapshot_id, pid, ppid, command, state, cpu_percent,"
        " rss_mb, vms_mb, threads, open_fds, age_seconds, job_id, sheet_num, syscall_counts,"
        " syscall_time_pct) VALUES (1, 5, 1, 'claude', 'R', 1.0, 2.0, 3.0, 4, 5, 6.0, 'j', 1,"
        " '{}', '{}')"
    )
    conn.commit()
    conn.close()
    ours = SystemSnapshot(
        timestamp=BASE_TIME + 5,
        processes=(ProcessMetric(pid=5, command="claude", job_id="j", start_time=BASE_TIME),),
    )
    with MonitorStore(path) as store:
        store.write_snapshot(ours)
        first, second = store.read_snapshots(0.0)

    # THEN each reads back: the conductor's with defaults for what it never stored
    assert second == ours
    assert first.processes[0].start_time is None
    assert first.processes[0].threads == 4
    assert first.gpus[0].memory_total_mb == 0.0 and first.gpus[0].index == 0
    assert first.cpu_percent == 0.0
