"""What we write reads back equal, and obeys every rule of the conductor's reader."""

from __future__ import annotations

import json
import tempfile
import threading
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mzt_tui.models.events import Anomaly, EventType, ProcessEvent
from mzt_tui.models.process import SystemSnapshot
from mzt_tui.store import MonitorStore
from tests.store import factories
from tests.store.factories import BASE_TIME, full_snapshot, raw_rows

EVENT_TYPES = {"spawn", "exit", "signal", "kill", "oom"}
PROPERTY_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@PROPERTY_SETTINGS
@given(series=factories.snapshot_series(), events=st.lists(factories.events, max_size=5))
def test_random_snapshots_and_events_read_back_equal(
    series: list[SystemSnapshot], events: list[ProcessEvent]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "monitor.db"
        with MonitorStore(path) as store:
            ids = [store.write_snapshot(snapshot) for snapshot in series]
            store.write_events(events)
            # Every field: Marianne's columns and our extras alike.
            assert store.read_snapshots(0.0, limit=100) == series
            assert store.read_snapshots(0.0, limit=1) == series[-1:]
            assert ids == sorted(ids)
            expected_events = sorted(events, key=lambda e: e.timestamp)
            assert store.read_events(0.0, limit=100) == expected_events
            for snapshot in series:
                for proc in snapshot.processes:
                    history = store.read_process_history(proc.pid, snapshot.timestamp)
                    assert proc in history
            assert_obeys_reject_rules(path)


@PROPERTY_SETTINGS
@given(anomaly=factories.anomalies)
def test_random_anomalies_read_back_equal(anomaly: Anomaly) -> None:
    with tempfile.TemporaryDirectory() as folder, MonitorStore(Path(folder) / "m.db") as store:
        anomaly_id = store.write_anomaly(anomaly)
        assert store.read_anomalies(0.0) == [anomaly]
        store.end_anomaly(anomaly_id, anomaly.started_at + 30.0)
        ended = anomaly.model_copy(update={"ended_at": anomaly.started_at + 30.0})
        assert store.read_anomalies(0.0) == [ended]
        assert store.read_anomalies(anomaly.started_at + 31.0) == []


def assert_obeys_reject_rules(path: Path) -> None:
    """Query the raw rows: every rule the conductor's reader enforces holds."""
    # Timestamps are REAL, never TEXT.
    assert raw_rows(path, "SELECT DISTINCT typeof(timestamp) FROM snapshots") in ([], [("real",)])
    assert raw_rows(path, "SELECT DISTINCT typeof(timestamp) FROM process_events") in (
        [],
        [("real",)],
    )
    # Event types are exactly the five.
    assert {row[0] for row in raw_rows(path, "SELECT event_type FROM process_events")} <= (
        EVENT_TYPES
    )
    # No negative metric anywhere.
    assert raw_rows(
        path,
        "SELECT COUNT(*) FROM snapshots WHERE system_memory_total_mb < 0"
        " OR system_memory_available_mb < 0 OR system_memory_used_mb < 0 OR daemon_rss_mb < 0"
        " OR load_avg_1 < 0 OR load_avg_5 < 0 OR load_avg_15 < 0 OR child_count < 0"
        " OR zombie_count < 0 OR gpu_count < 0",
    ) == [(0,)]
    assert raw_rows(
        path,
        "SELECT COUNT(*) FROM process_metrics WHERE cpu_percent < 0 OR rss_mb < 0"
        " OR vms_mb < 0 OR threads < 0 OR open_fds < 0 OR age_seconds < 0",
    ) == [(0,)]
    # JSON columns hold valid JSON of the right shape; "[]" and "{}" when empty.
    for utilization, memory, temperature, gpu_count in raw_rows(
        path,
        "SELECT gpu_utilization_pct, gpu_memory_used_mb, gpu_temperature, gpu_count FROM snapshots",
    ):
        arrays = [json.loads(str(text)) for text in (utilization, memory, temperature)]
        assert all(isinstance(array, list) and len(array) == gpu_count for array in arrays)
        assert all(0 <= value <= 100 for value in arrays[0])
        assert all(value >= 0 for array in arrays[1:] for value in array)
    for counts, shares in raw_rows(
        path, "SELECT syscall_counts, syscall_time_pct FROM process_metrics"
    ):
        parsed_counts, parsed_shares = json.loads(str(counts)), json.loads(str(shares))
        assert isinstance(parsed_counts, dict) and isinstance(parsed_shares, dict)
        assert all(0 <= value <= 100 for value in parsed_shares.values())
    # SQLite agrees that every JSON column is valid.
    assert raw_rows(
        path,
        "SELECT COUNT(*) FROM snapshots WHERE NOT (json_valid(gpu_utilization_pct)"
        " AND json_valid(gpu_memory_used_mb) AND json_valid(gpu_temperature))",
    ) == [(0,)]
    assert raw_rows(
        path,
        "SELECT COUNT(*) FROM process_metrics"
        " WHERE NOT (json_valid(syscall_counts) AND json_valid(syscall_time_pct))",
    ) == [(0,)]


def test_a_full_snapshot_obeys_each_reject_rule(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    with MonitorStore(path) as store:
        store.write_snapshot(full_snapshot(BASE_TIME))
        store.write_snapshot(factories.snapshot(BASE_TIME + 5.0))
        store.write_events(
            [factories.event(BASE_TIME + float(i), kind) for i, kind in enumerate(EventType)]
        )
    assert_obeys_reject_rules(path)
    assert raw_rows(path, "SELECT gpu_utilization_pct, gpu_memory_used_mb FROM snapshots") == [
        ("[100.0]", "[2048.0]"),
        ("[]", "[]"),
    ]
    assert ("{}", "{}") in raw_rows(
        path, "SELECT syscall_counts, syscall_time_pct FROM process_metrics"
    )
    assert {
        row[0] for row in raw_rows(path, "SELECT event_type FROM process_events")
    } == EVENT_TYPES
    # Integral values given as int still land as REAL.
    assert raw_rows(
        path, "SELECT DISTINCT typeof(rss_mb), typeof(cpu_percent) FROM process_metrics"
    ) == [("real", "real")]


def test_writers_and_readers_in_several_threads(tmp_path: Path) -> None:
    store = MonitorStore(tmp_path / "monitor.db")
    store.initialize()
    errors: list[BaseException] = []

    def write(offset: int) -> None:
        try:
            for index in range(20):
                store.write_snapshot(full_snapshot(BASE_TIME + offset + index * 10.0))
                store.read_snapshots(0.0, limit=10)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count_snapshots() == 80
    assert all(len(s.processes) == 2 for s in store.read_snapshots(0.0, limit=100))
    store.close()


def test_undecodable_text_is_written_replaced_not_fatal(tmp_path: Path) -> None:
    # /proc may hold bytes that decode to lone surrogates; SQLite and JSON cannot take them.
    jsonl = tmp_path / "monitor.jsonl"
    bad = factories.snapshot(BASE_TIME, (factories.process(1, command="tool \udcff arg"),))
    with MonitorStore(tmp_path / "monitor.db", jsonl_path=jsonl) as store:
        store.write_snapshot(bad)
        store.write_events([factories.event(BASE_TIME, EventType.EXIT, details="bye \udcfe")])
        store.write_anomaly(
            factories.anomaly(BASE_TIME).model_copy(update={"description": "\ud800"})
        )
        store.append_jsonl(bad)
        (read,) = store.read_snapshots(0.0)
        assert read.processes[0].command == "tool ? arg"
        assert store.read_events(0.0)[0].details == "bye ?"
        assert store.read_anomalies(0.0)[0].description == "?"
    assert (
        SystemSnapshot.model_validate_json(jsonl.read_text()).processes[0].command == "tool ? arg"
    )
