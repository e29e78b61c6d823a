"""The bounded backlog the recorder holds while writes fail, and the writes of one tick."""

from __future__ import annotations

import pytest

from mzt_tui.headless.backlog import Backlog
from mzt_tui.headless.pending import (
    CloseAnomaly,
    OpenAnomaly,
    PendingWrites,
    RowCounts,
    WriteEvents,
    WriteSnapshot,
)
from mzt_tui.models.events import EventType
from tests.store.factories import BASE_TIME, anomaly, event, snapshot


def test_the_oldest_are_dropped_and_counted_beyond_the_limit() -> None:
    backlog: Backlog[int] = Backlog(3)
    lost = [backlog.add(item) for item in range(5)]
    assert lost == [[], [], [], [0], [1]]
    assert len(backlog) == 3
    assert backlog.dropped == 2
    assert list(backlog) == [2, 3, 4]
    assert backlog.newest == 4
    written: list[int] = []
    assert backlog.flush(written.append) == 3
    assert written == [2, 3, 4]
    assert len(backlog) == 0


def test_a_failing_write_keeps_that_item_first() -> None:
    backlog: Backlog[int] = Backlog(10)
    for item in range(4):
        backlog.add(item)
    written: list[int] = []

    def write(item: int) -> None:
        if item == 2:
            raise OSError("full")
        written.append(item)

    with pytest.raises(OSError, match="full"):
        backlog.flush(write)
    assert written == [0, 1]
    assert len(backlog) == 2
    assert backlog.flush(written.append) == 2
    assert written == [0, 1, 2, 3]


def test_an_empty_backlog_has_no_newest() -> None:
    assert Backlog[int](2).newest is None


def test_a_backlog_holds_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Backlog(0)


def test_a_tick_writes_in_order_and_counts_what_it_holds() -> None:
    opened = anomaly(BASE_TIME)
    closing = CloseAnomaly(anomaly(BASE_TIME - 10), BASE_TIME)
    exits = (event(BASE_TIME, EventType.EXIT), event(BASE_TIME, EventType.EXIT, pid=5002))
    pending = PendingWrites.of_tick(snapshot(BASE_TIME), exits, [opened], [closing], [])
    assert list(pending.steps) == [
        WriteSnapshot(snapshot(BASE_TIME)),
        WriteEvents(exits),
        OpenAnomaly(opened),
        closing,
    ]
    assert pending.counts() == RowCounts(ticks=1, events=2, openings=1, closings=1)
    assert (
        pending.counts().in_words() == "1 tick, 2 events, 1 anomaly opening and 1 anomaly closing"
    )
    assert (
        PendingWrites.of_tick(snapshot(BASE_TIME), (), (), (), ()).counts().in_words() == "1 tick"
    )
    assert RowCounts().in_words() == ""
