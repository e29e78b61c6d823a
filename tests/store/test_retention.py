"""Retention by age and size, 1-minute downsampling, consistency after the conductor's deletes."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mzt_tui.models.config import RetentionConfig
from mzt_tui.models.events import EventType
from mzt_tui.store import MonitorStore
from mzt_tui.store.connection import used_bytes
from mzt_tui.store.schema import SNAPSHOT_CHILD_TABLES
from tests.store.factories import (
    BASE_TIME,
    anomaly,
    event,
    full_snapshot,
    process,
    raw_rows,
    snapshot,
)

HOUR = 3600.0
DAY = 86_400.0


def orphan_counts(path: Path) -> dict[str, int]:
    """Rows of each per-snapshot table whose snapshot is gone."""
    return {
        table: int(
            raw_rows(
                path,
                f"SELECT COUNT(*) FROM {table} WHERE snapshot_id NOT IN (SELECT id FROM snapshots)",
            )[0][0]
        )
        for table in SNAPSHOT_CHILD_TABLES
    }


def test_retention_by_age(tmp_path: Path) -> None:
    # GIVEN two days of snapshots (one per hour), 40 days of events and two anomalies
    path = tmp_path / "monitor.db"
    now = BASE_TIME + 2 * DAY
    store = MonitorStore(path)
    for hour in range(48):
        store.write_snapshot(full_snapshot(BASE_TIME + hour * HOUR + 1.0))
    store.write_events([event(now - day * DAY, EventType.SPAWN, pid=day) for day in range(40)])
    old_anomaly = store.write_anomaly(anomaly(now - 35 * DAY))
    store.end_anomaly(old_anomaly, now - 31 * DAY)
    store.write_anomaly(anomaly(now - 35 * DAY))  # still active: kept however old

    # WHEN the default retention runs
    result = store.cleanup(RetentionConfig(), now=now)

    # THEN 24 h of snapshots, 30 days of events and the active anomaly remain
    remaining = store.read_snapshots(0.0, 1000)
    assert len(remaining) == 24
    assert min(s.timestamp for s in remaining) >= now - 24 * HOUR
    assert result.snapshots_deleted == 24
    assert result.process_rows_deleted == 48
    assert store.count_events() == 31
    assert result.events_deleted == 9
    assert [a.ended_at for a in store.read_anomalies(0.0)] == [None]
    assert result.anomalies_deleted == 1
    assert orphan_counts(path) == dict.fromkeys(SNAPSHOT_CHILD_TABLES, 0)
    # Every hour with a snapshot was summarised before its rows went.
    minutes = store.read_system_minutes(0.0)
    assert len(minutes) == 48
    # Writing summarised all but the newest minute (no later snapshot closed it); clean-up
    # closed that one.
    assert result.minutes_downsampled == 1
    assert {m.minute for m in store.read_job_minutes("job-a", 0.0)} == {m.minute for m in minutes}
    store.close()


def test_downsampled_history_ages_out_after_its_own_period(tmp_path: Path) -> None:
    store = MonitorStore(tmp_path / "monitor.db")
    for day in range(10):
        store.write_snapshot(snapshot(BASE_TIME + day * DAY, (process(1),)))
    now = BASE_TIME + 10 * DAY
    result = store.cleanup(RetentionConfig(), now=now)
    assert result.minutes_downsampled == 1
    kept = store.read_system_minutes(0.0)
    assert all(m.minute >= now - 7 * DAY for m in kept)
    assert len(kept) == 7
    assert len(store.read_job_minutes("job-a", 0.0)) == 7
    assert result.minutes_deleted == 6  # 3 system minutes + 3 job minutes
    store.close()


@contextmanager
def counting_transactions(store: MonitorStore, changes: list[int]) -> Iterator[None]:
    """Record how many rows each write transaction of `store` changed."""
    database = store._database
    original = database.transaction

    @contextmanager
    def counted() -> Iterator[sqlite3.Connection]:
        with original() as conn:
            before = conn.total_changes
            yield conn
            changes.append(conn.total_changes - before)

    database.transaction = counted  # type: ignore[method-assign]
    try:
        yield
    finally:
        database.transaction = original  # type: ignore[method-assign]


def test_cleanup_works_in_bounded_batches(tmp_path: Path) -> None:
    # GIVEN 40 old snapshots of 4 processes each (5 rows a snapshot, 6 with our extras row)
    store = MonitorStore(tmp_path / "monitor.db")
    for index in range(40):
        store.write_snapshot(
            snapshot(BASE_TIME + index * 60.0, tuple(process(pid) for pid in range(1, 5)))
        )
    store.downsample()
    changes: list[int] = []

    # WHEN clean-up deletes them with a batch of 12 rows
    with counting_transactions(store, changes):
        result = store.cleanup(
            RetentionConfig(cleanup_batch_rows=12), now=BASE_TIME + 40 * 60.0 + 2 * DAY
        )

    # THEN no transaction changed more than two snapshots' worth of rows
    assert result.snapshots_deleted == 40
    assert store.count_snapshots() == 0
    assert max(changes) <= 2 * 6
    assert len([c for c in changes if c]) >= 20
    store.close()


def test_retention_by_byte_cap_deletes_the_oldest_first(tmp_path: Path) -> None:
    # GIVEN recent snapshots (nothing is old enough for the age rules) filling a few MB
    path = tmp_path / "monitor.db"
    store = MonitorStore(path)
    for index in range(150):
        store.write_snapshot(
            snapshot(
                BASE_TIME + index * 5.0,
                tuple(process(pid, command="x" * 400) for pid in range(1, 31)),
            )
        )
    conn = sqlite3.connect(path)
    used = used_bytes(conn)
    conn.close()
    cap = used // 2

    # WHEN the cap is half the data
    result = store.cleanup(
        RetentionConfig(max_bytes=cap, cleanup_batch_rows=500), now=BASE_TIME + 150 * 5.0
    )

    # THEN the pages in use fit under it, the newest snapshots remain, the oldest went
    assert result.used_bytes_before == used
    assert result.used_bytes_after <= cap
    assert result.snapshots_deleted_for_size == result.snapshots_deleted > 0
    remaining = store.read_snapshots(0.0, 1000)
    assert remaining[-1].timestamp == BASE_TIME + 149 * 5.0
    assert remaining[0].timestamp == BASE_TIME + result.snapshots_deleted * 5.0
    assert 40 < len(remaining) < 110
    assert orphan_counts(path) == dict.fromkeys(SNAPSHOT_CHILD_TABLES, 0)
    store.close()


def test_minutes_are_summarised_from_their_snapshots(tmp_path: Path) -> None:
    # GIVEN two minutes of 5 s ticks: job-a sheet 1 has two processes, sheet 2 one
    store = MonitorStore(tmp_path / "monitor.db")
    for tick in range(24):
        cpu = float(tick)
        store.write_snapshot(
            snapshot(
                BASE_TIME + tick * 5.0,
                (
                    process(1, sheet_num=1, cpu_percent=cpu, rss_mb=100.0 + tick),
                    process(2, sheet_num=1, cpu_percent=1.0, rss_mb=50.0, open_fds=7),
                    process(3, sheet_num=2, cpu_percent=50.0, rss_mb=10.0),
                    process(4, job_id=None, sheet_num=None, cpu_percent=99.0),
                ),
                cpu_percent=10.0 + tick,
            )
        )

    # WHEN the closed minutes are summarised
    assert store.downsample(now=BASE_TIME + 180.0) == 2

    # THEN each minute holds per-sheet sums per tick, averaged and maxed over its ticks
    minutes = store.read_job_minutes("job-a", 0.0)
    assert [(m.minute, m.sheet_num) for m in minutes] == [
        (BASE_TIME, 1),
        (BASE_TIME, 2),
        (BASE_TIME + 60.0, 1),
        (BASE_TIME + 60.0, 2),
    ]
    first = minutes[0]
    assert first.samples == 12
    assert first.cpu_percent_mean == pytest.approx(sum(t + 1.0 for t in range(12)) / 12)
    assert first.cpu_percent_max == 12.0
    assert first.rss_mb_max == 100.0 + 11 + 50.0
    assert first.process_rss_mb_max == 111.0
    assert first.open_fds_max == 17
    assert first.process_count_max == 2 and first.process_count_mean == 2.0
    assert minutes[1].cpu_percent_mean == 50.0 and minutes[1].process_count_max == 1
    system = store.read_system_minutes(0.0)
    assert [m.samples for m in system] == [12, 12]
    assert system[1].cpu_percent_mean == pytest.approx(10.0 + sum(range(12, 24)) / 12)
    assert system[1].cpu_percent_max == 33.0
    # Nothing is summarised twice.
    assert store.downsample(now=BASE_TIME + 180.0) == 0
    store.close()


def test_minutes_are_summarised_as_snapshots_are_written(tmp_path: Path) -> None:
    # Without any clean-up call, writing keeps the history at most ~10 minutes behind.
    store = MonitorStore(tmp_path / "monitor.db")
    for tick in range(15 * 12):
        store.write_snapshot(snapshot(BASE_TIME + tick * 5.0, (process(1),)))
    summarised = store.read_system_minutes(0.0)
    assert len(summarised) >= 10
    assert summarised[0].minute == BASE_TIME
    store.close()


def test_the_conductors_delete_keeps_our_rows_consistent(tmp_path: Path) -> None:
    # GIVEN 30 minutes of our snapshots, with every extra, summarised as they were written
    path = tmp_path / "monitor.db"
    store = MonitorStore(path)
    for tick in range(30 * 12):
        store.write_snapshot(full_snapshot(BASE_TIME + tick * 5.0))
    summarised_before = len(store.read_job_minutes("job-a", 0.0))
    assert summarised_before >= 19

    # WHEN the conductor runs its own clean-up on another connection, snapshots only
    cutoff = BASE_TIME + 20 * 60.0
    conductor = sqlite3.connect(path)
    conductor.execute("DELETE FROM snapshots WHERE timestamp < ?", (cutoff,))
    conductor.commit()
    conductor.close()

    # THEN no per-snapshot row of ours, nor any process row, outlives its snapshot
    assert orphan_counts(path) == dict.fromkeys(SNAPSHOT_CHILD_TABLES, 0)
    assert all(s.timestamp >= cutoff for s in store.read_snapshots(0.0, 1000))
    assert all(t >= cutoff for t, _ in store.read_process_samples(5001, 0.0))
    # ... and the summarised minutes of the deleted snapshots are still there.
    assert len(store.read_job_minutes("job-a", 0.0)) == summarised_before
    store.close()


def test_orphans_left_before_our_trigger_existed_are_never_shown(upstream_copy: Path) -> None:
    # GIVEN a conductor-made file whose oldest snapshots were deleted without their processes
    path = upstream_copy / "monitor.db"
    conductor = sqlite3.connect(path)
    first_ids = [
        row[0] for row in conductor.execute("SELECT id FROM snapshots ORDER BY id LIMIT 3")
    ]
    conductor.execute("DELETE FROM snapshots WHERE id IN (?, ?, ?)", first_ids)
    conductor.commit()
    orphaned = conductor.execute(
        "SELECT COUNT(*) FROM process_metrics WHERE snapshot_id NOT IN (SELECT id FROM snapshots)"
    ).fetchone()[0]
    conductor.close()
    assert orphaned > 0

    # WHEN we open it (upgrading it) and read
    store = MonitorStore(path)
    assert len(store.read_process_history(5001, 0.0)) == 9
    assert store.read_job_resource_profile("gamma-docs").sample_count == 9

    # THEN clean-up removes the orphans, and nothing else
    store.cleanup(RetentionConfig(), now=BASE_TIME)
    assert orphan_counts(path) == dict.fromkeys(SNAPSHOT_CHILD_TABLES, 0)
    assert store.count_snapshots() == 9
    store.close()


def test_writes_go_on_while_a_cleanup_runs(tmp_path: Path) -> None:
    # GIVEN a day-old backlog that takes many batches to delete
    store = MonitorStore(tmp_path / "monitor.db")
    old = tuple(process(pid) for pid in range(1, 41))
    for index in range(300):
        store.write_snapshot(snapshot(BASE_TIME + index * 5.0, old))
    now = BASE_TIME + 2 * DAY
    finished = threading.Event()
    writes_during_cleanup: list[float] = []

    def clean() -> None:
        store.cleanup(RetentionConfig(cleanup_batch_rows=200), now=now)
        finished.set()

    # WHEN a clean-up runs in another thread while this one keeps writing
    cleaner = threading.Thread(target=clean)
    cleaner.start()
    tick = 0
    while not finished.is_set() and tick < 200:
        started = time.perf_counter()
        store.write_snapshot(snapshot(now + tick, (process(1),)))
        if not finished.is_set():
            writes_during_cleanup.append(time.perf_counter() - started)
        tick += 1
    cleaner.join()

    # THEN writes got in between the clean-up's batches, none waiting for all of it
    assert len(writes_during_cleanup) >= 3
    assert max(writes_during_cleanup) < 1.0
    assert store.count_snapshots(0.0, now - DAY) == 0
    store.close()
