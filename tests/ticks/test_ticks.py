"""The tick loop keeps its cadence, counts late ticks and stops promptly."""

from __future__ import annotations

import threading

import pytest

from mzt_tui.collect.ticks import TickStats, run_ticks


class FakeTime:
    """A clock that only moves when the loop waits or a tick takes time."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now


class FakeStop(threading.Event):
    def __init__(self, fake_time: FakeTime) -> None:
        super().__init__()
        self.fake_time = fake_time

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.fake_time.waits.append(round(timeout, 6))
        self.fake_time.now += timeout
        return self.is_set()


def test_ticks_keep_a_fixed_cadence_and_count_late_ones() -> None:
    fake = FakeTime()
    durations = iter([0.2, 0.2, 2.5, 0.1, 0.1])
    starts: list[float] = []

    def tick(stats: TickStats) -> float:
        starts.append(fake.now)
        fake.now += next(durations)
        return fake.now

    emitted: list[float] = []
    stats = run_ticks(tick, 1.0, emitted.append, FakeStop(fake), max_ticks=5, clock=fake.clock)

    assert stats.ticks == 5
    assert len(emitted) == 5
    # The third tick overran two slots: they are skipped and counted, not burst through.
    assert stats.late_ticks == 2
    assert [round(s - 100.0, 6) for s in starts] == [0.0, 1.0, 2.0, 5.0, 6.0]


def test_stop_ends_the_loop() -> None:
    stop = threading.Event()
    seen: list[int] = []

    def tick(stats: TickStats) -> int:
        if stats.ticks == 2:
            stop.set()
        return stats.ticks

    stats = run_ticks(tick, 0.01, seen.append, stop)
    assert seen == [0, 1, 2]
    assert stats.ticks == 3


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        run_ticks(lambda stats: 0, 0.0, lambda sample: None, threading.Event())


def test_a_first_gap_brings_the_second_tick_forward_then_the_cadence_resumes() -> None:
    fake = FakeTime()
    starts: list[float] = []

    def tick(stats: TickStats) -> int:
        starts.append(fake.now)
        fake.now += 0.1
        return stats.ticks

    stats = run_ticks(
        tick, 2.0, lambda _: None, FakeStop(fake), max_ticks=4, first_gap=0.5, clock=fake.clock
    )

    assert stats.ticks == 4
    assert stats.late_ticks == 0
    assert [round(s - 100.0, 6) for s in starts] == [0.0, 0.6, 2.6, 4.6]


@pytest.mark.parametrize("first_gap", [None, 0.0, 2.0, 3.0])
def test_a_first_gap_not_shorter_than_the_interval_changes_nothing(
    first_gap: float | None,
) -> None:
    fake = FakeTime()
    starts: list[float] = []

    def tick(stats: TickStats) -> int:
        starts.append(fake.now)
        return stats.ticks

    run_ticks(
        tick,
        2.0,
        lambda _: None,
        FakeStop(fake),
        max_ticks=3,
        first_gap=first_gap,
        clock=fake.clock,
    )

    assert [round(s - 100.0, 6) for s in starts] == [0.0, 2.0, 4.0]


def test_one_tick_with_a_first_gap_does_not_wait() -> None:
    fake = FakeTime()
    stats = run_ticks(
        lambda stats: 1,
        1.0,
        lambda _: None,
        FakeStop(fake),
        max_ticks=1,
        first_gap=0.5,
        clock=fake.clock,
    )
    assert stats.ticks == 1
    assert fake.waits == []
