"""Reads say what they repaired or skipped in rows another writer stored, and only that."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from mzt_tui.models.events import Anomaly, AnomalyType, EventType, ProcessEvent
from mzt_tui.store import MonitorStore
from mzt_tui.store.dump import SampleQuery
from mzt_tui.store.repairs import MAX_TRACKED_IDS, ReadRepairs, RepairLog
from tests.store.factories import BASE_TIME, conductor_file, process, snapshot


def _read_everything(store: MonitorStore) -> None:
    store.read_snapshots(0.0, limit=1000)
    store.read_events(0.0, limit=1000)
    store.read_anomalies(0.0)
    store.read_job_resource_profile("job-a")
    store.read_process_samples(100, 0.0)
    for _ in store.iter_sample_chunks(SampleQuery(since=0.0)):
        pass


@pytest.mark.parametrize(
    ("column", "value", "what"),
    [
        ("cpu_percent", math.nan, "NaN or missing"),
        ("rss_mb", -3.5, "negative"),
        ("rss_mb", "big", "not a number"),
        ("vms_mb", math.inf, "infinite or too large"),
        ("threads", 2.5, "not a whole number"),
        ("open_fds", -1, "negative"),
        ("command", "z" * 501, "over 500 characters"),
        ("command", b"\x00claude", "not text"),
        ("state", "running", "not one capital letter"),
        ("syscall_counts", "{bad", "invalid JSON"),
        ("syscall_counts", '{"read": -1, "write": 2}', "bad entries dropped"),
        ("syscall_time_pct", "[1, 2]", "not a JSON object"),
        ("syscall_time_pct", '{"read": 150.0}', "bad entries dropped"),
        ("pid", -7, "negative"),
        ("age_seconds", None, "NaN or missing"),
        ("sheet_num", "third", "not a whole number"),
        ("job_id", b"job-a", "not text"),
    ],
)
def test_each_kind_of_bad_process_value_is_counted_with_its_key(
    tmp_path: Path, column: str, value: object, what: str
) -> None:
    path = conductor_file(tmp_path / "monitor.db", process_values={column: value})
    with MonitorStore(path, readonly=True) as store:
        store.read_snapshots(0.0)
        repairs = store.repairs()
    assert repairs.counts == ((("process_metrics", column, what), 1),)


@pytest.mark.parametrize(
    ("column", "value", "what"),
    [
        ("daemon_pid", -5, "negative"),
        ("load_avg_1", None, "NaN or missing"),
        ("system_memory_total_mb", "lots", "not a number"),
        ("gpu_memory_used_mb", "not json", "invalid JSON"),
        ("gpu_temperature", '{"0": 40}', "not a JSON array"),
        ("gpu_utilization_pct", "[150]", "bad entries dropped"),
        ("pressure_level", "apocalyptic", "unknown"),
    ],
)
def test_each_kind_of_bad_snapshot_value_is_counted_with_its_key(
    tmp_path: Path, column: str, value: object, what: str
) -> None:
    path = conductor_file(tmp_path / "monitor.db", snapshot_values={column: value})
    with MonitorStore(path, readonly=True) as store:
        store.read_snapshots(0.0)
        repairs = store.repairs()
    assert repairs.counts == ((("snapshots", column, what), 1),)


def test_an_unknown_event_type_is_counted_as_a_skipped_row(tmp_path: Path) -> None:
    path = conductor_file(tmp_path / "monitor.db")
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO process_events (timestamp, pid, event_type, details)"
            " VALUES (?, -1, 'exploded', 'not json'), (?, -2, 'exit', NULL)",
            (BASE_TIME + 1, BASE_TIME + 2),
        )
    conn.close()
    with MonitorStore(path, readonly=True) as store:
        events = store.read_events(0.0)
        repairs = store.take_repairs()
    assert len(events) == 2  # the valid exit, and the exit whose pid was repaired
    # The skipped row's own bad pid is not counted: the row was never read.
    assert repairs.counts == (
        (("process_events", "event_type", "unknown: row skipped"), 1),
        (("process_events", "pid", "negative"), 1),
    )
    assert repairs.summary() == (
        "monitor.db: repaired 1 value in rows another writer stored"
        " (process_events.pid 1 negative); skipped 1 row (process_events.event_type 1 unknown)"
    )


def test_an_unknown_anomaly_type_and_severity_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    with MonitorStore(path) as store:
        store.write_anomaly(
            Anomaly(
                anomaly_type=AnomalyType.ZOMBIE,
                severity="high",
                started_at=BASE_TIME,
                description="zombie",
            )
        )
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO mzt_anomalies (anomaly_type, severity, started_at, description)"
            " VALUES ('meteor', 'high', ?, ''), ('zombie', 'dire', ?, '')",
            (BASE_TIME, BASE_TIME),
        )
    conn.close()
    with MonitorStore(path, readonly=True) as store:
        assert len(store.read_anomalies(0.0)) == 2
        repairs = store.repairs()
    assert repairs.count("mzt_anomalies", "anomaly_type", "unknown: row skipped") == 1
    assert repairs.count("mzt_anomalies", "severity", "unknown") == 1
    assert len(repairs.counts) == 2


def test_our_own_rows_and_valid_conductor_rows_count_nothing(tmp_path: Path) -> None:
    # GIVEN a conductor file with valid rows, then ours in the same file
    path = conductor_file(tmp_path / "monitor.db")
    with MonitorStore(path) as store:
        store.write_snapshot(
            snapshot(BASE_TIME + 5, (process(100, syscall_counts={"read": 3}, command="x" * 500),))
        )
        store.write_event(
            ProcessEvent(timestamp=BASE_TIME + 5, pid=100, event_type=EventType.SPAWN)
        )
    # WHEN every reader reads it
    with MonitorStore(path, readonly=True) as store:
        _read_everything(store)
        store.generate_resource_report("job-a")
        repairs = store.repairs()
    # THEN nothing is said
    assert not repairs
    assert repairs.summary() is None


def test_the_conductors_own_recording_counts_nothing(upstream_copy: Path) -> None:
    path = upstream_copy / "monitor.db"
    with MonitorStore(path, readonly=True) as store:
        _read_everything(store)
        assert store.read_snapshots(0.0, limit=1000)  # the file was read, not empty
        assert not store.repairs()


def test_a_value_read_twice_counts_once_and_take_starts_afresh(tmp_path: Path) -> None:
    path = conductor_file(
        tmp_path / "monitor.db", process_values={"rss_mb": -1.0, "cpu_percent": -2.0}
    )
    with MonitorStore(path, readonly=True) as store:
        _read_everything(store)
        _read_everything(store)
        assert store.repairs().count("process_metrics", "rss_mb", "negative") == 1
        taken = store.take_repairs()
        assert store.repairs() == ReadRepairs()
        store.read_snapshots(0.0)
        again = store.take_repairs()
    assert taken.count("process_metrics", "cpu_percent", "negative") == 1
    assert again == taken


def test_reads_count_only_what_they_read(tmp_path: Path) -> None:
    path = conductor_file(
        tmp_path / "monitor.db",
        process_values={"rss_mb": -1.0, "job_id": "job-b"},
        snapshot_values={"load_avg_1": -1.0},
    )
    with MonitorStore(path, readonly=True) as store:
        # Another job's snapshots are not read, nor are the fields a dump leaves out.
        assert store.read_snapshots(0.0, job_id="job-a") == []
        for _ in store.iter_sample_chunks(SampleQuery(since=0.0, fields=("pid", "cpu_percent"))):
            pass
        assert not store.repairs()
        for _ in store.iter_sample_chunks(SampleQuery(since=0.0, fields=("pid", "rss_mb"))):
            pass
        assert store.repairs().counts == ((("process_metrics", "rss_mb", "negative"), 1),)


def test_the_summary_names_the_most_repaired_columns_first_and_counts_the_rest() -> None:
    counts = tuple(
        ((("process_metrics", f"column_{index}", "negative"), index + 1)) for index in range(8)
    )
    summary = ReadRepairs(counts).summary("other.db")
    assert summary is not None
    assert summary.startswith(
        "other.db: repaired 36 values in rows another writer stored"
        " (process_metrics.column_7 8 negative, process_metrics.column_6 7 negative,"
    )
    assert summary.endswith("process_metrics.column_2 3 negative, and 2 more)")
    assert "skipped" not in summary


def test_past_the_tracking_limit_values_are_still_counted() -> None:
    log = RepairLog()
    key = ("process_metrics", "rss_mb", "negative")
    log.note((key, row_id) for row_id in range(MAX_TRACKED_IDS + 5))
    assert log.peek().count(*key) == MAX_TRACKED_IDS + 5
    assert log.take().count(*key) == MAX_TRACKED_IDS + 5
    assert not log.peek()
