"""The bounded backlog the recorder holds while writes fail."""

from __future__ import annotations

import pytest

from mzt_tui.headless.backlog import Backlog


def test_the_oldest_are_dropped_and_counted_beyond_the_limit() -> None:
    backlog: Backlog[int] = Backlog(3)
    for item in range(5):
        backlog.add(item)
    assert len(backlog) == 3
    assert backlog.dropped == 2
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


def test_a_backlog_holds_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Backlog(0)
