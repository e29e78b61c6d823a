"""The history source: windowing, chunked reads, frames as of their time, jump targets, seeks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mzt_tui.headless.history import (
    HISTORY_NOTE,
    HistorySource,
    open_history,
    parse_seek,
)
from mzt_tui.models.errors import NoDataError, StoreError, UsageError
from mzt_tui.store import MonitorStore
from tests.history.recorded import COUNT, FIRST, at, record
from tests.ui.factories import NOW


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return record(tmp_path / "monitor.db")


def test_the_window_holds_the_snapshots_recorded_in_it(db: Path) -> None:
    source = open_history(db, 300.0, NOW)
    try:
        assert source.count == COUNT
        assert source.times[0] == FIRST
        assert source.times[-1] == at(COUNT - 1)
    finally:
        source.close()
    shorter = open_history(db, 95.0, NOW)
    try:
        assert shorter.times[0] == at(21)
        assert shorter.count == COUNT - 21
    finally:
        shorter.close()


def test_an_empty_window_says_how_to_record(db: Path) -> None:
    with pytest.raises(NoDataError, match="mzt top --headless"):
        open_history(db, 60.0, NOW + 3_600.0)


def test_a_missing_database_is_one_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no monitor database"):
        open_history(tmp_path / "missing.db", 3_600.0, NOW)
    assert not (tmp_path / "missing.db").exists()


def test_frames_are_read_a_chunk_at_a_time_and_cached(db: Path) -> None:
    store = MonitorStore(db, readonly=True)
    source = HistorySource(store, FIRST, NOW, chunk_size=8)
    try:
        first = source.frame(0)
        assert first.timestamp == FIRST
        assert first.tick.snapshot.processes
        assert first.tick.all_processes == first.tick.snapshot.processes
        assert source.frame(7).timestamp == at(7)
        assert source.chunk_reads == 1
        assert source.frame(8).timestamp == at(8)
        assert source.frame(3).timestamp == at(3)
        assert source.chunk_reads == 2
        source.frame(20)  # a third chunk pushes out the least recently used (8-15)
        source.frame(0)
        assert source.chunk_reads == 3
        source.frame(8)
        assert source.chunk_reads == 4
    finally:
        source.close()


def test_a_frame_shows_events_and_anomalies_as_they_stood(db: Path) -> None:
    source = open_history(db, 300.0, NOW)
    try:
        before = source.frame(5)
        assert before.recent_events == ()
        assert before.tick.events == ()
        spawn = source.frame(6)
        assert [event.pid for event in spawn.tick.events] == [1101]
        later = source.frame(7)
        assert later.tick.events == ()
        assert [event.pid for event in later.recent_events] == [1101]
        opened = source.frame(15)
        assert [a.pid for a in opened.tick.anomalies.opened] == [1101]
        assert opened.recent_anomalies[0].active  # it ended later, so it was open then
        during = source.frame(20)
        assert during.tick.anomalies.opened == ()
        assert during.recent_anomalies[0].active
        closed = source.frame(26)
        assert [a.pid for a in closed.tick.anomalies.closed] == [1101]
        assert not closed.recent_anomalies[0].active
        assert closed.tick.conductor.reasons == (HISTORY_NOTE,)
        assert closed.index == 26 and closed.count == COUNT
    finally:
        source.close()


def test_jumps_go_to_the_snapshots_that_first_show_an_event_or_anomaly(db: Path) -> None:
    source = open_history(db, 300.0, NOW)
    try:
        assert source.next_mark(0) == 6  # the spawn
        assert source.next_mark(6) == 15  # the anomaly starts
        assert source.next_mark(15) == 21  # the exit
        assert source.next_mark(21) is None
        assert source.previous_mark(29) == 21
        assert source.previous_mark(21) == 15
        assert source.previous_mark(15) == 6
        assert source.previous_mark(6) is None
    finally:
        source.close()


def test_index_at_finds_the_snapshot_shown_at_a_time(db: Path) -> None:
    source = open_history(db, 300.0, NOW)
    try:
        assert source.index_at(at(4)) == 4
        assert source.index_at(at(4) + 9.9) == 4
        assert source.index_at(FIRST - 1.0) is None
        assert source.index_at(NOW + 1.0) is None
    finally:
        source.close()


def test_seek_reads_clock_times_and_durations_ago() -> None:
    now = datetime(2026, 11, 23, 14, 30, 0, tzinfo=UTC).timestamp()
    assert parse_seek("14:05", now=now, timezone=UTC) == now - 25 * 60
    assert parse_seek("14:05:30", now=now, timezone=UTC) == now - 24 * 60 - 30
    assert parse_seek("-10m", now=now, timezone=UTC) == now - 600
    assert parse_seek("90s", now=now, timezone=UTC) == now - 90
    # A clock time later than now is yesterday's.
    assert parse_seek("15:00", now=now, timezone=UTC) == now + 30 * 60 - 86_400


@pytest.mark.parametrize("text", ["", "soon", "25:00", "14:5", "10", "-", "1x"])
def test_seek_refuses_what_is_not_a_time(text: str) -> None:
    with pytest.raises(UsageError, match="invalid time"):
        parse_seek(text, now=NOW, timezone=UTC)
