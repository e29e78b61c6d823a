"""The one tick loop that the TUI and headless mode both run, in a thread.

`run_ticks` calls `tick()` on a fixed cadence and hands each result to `emit`. The next tick
is scheduled from when the loop started (not from when the last tick ended), so ticks do not
drift; a tick that overran its slot skips the missed slots and counts them as late instead of
bursting to catch up. `stop` (a `threading.Event`) ends the loop within one wait.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass
class TickStats:
    """How the loop has kept time so far."""

    ticks: int = 0
    late_ticks: int = 0
    last_tick_seconds: float = 0.0


def run_ticks(
    tick: Callable[[TickStats], T],
    interval: float,
    emit: Callable[[T], None],
    stop: threading.Event,
    *,
    max_ticks: int | None = None,
    first_gap: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> TickStats:
    """Run `tick` every `interval` seconds until `stop` is set or `max_ticks` ran.

    Args:
        tick: Collects one sample; it receives the loop's stats (for the monitor's own cost).
        interval: Seconds between tick starts.
        emit: Receives every sample (post a message, write to the store, print a line).
        stop: Set from another thread to end the loop.
        max_ticks: Stop after this many ticks (`--once` is 1).
        first_gap: Seconds from the first tick to the second, when shorter than `interval`;
            the cadence counts from the second. A screen uses it: the first sample has no
            CPU % yet (that takes two readings), and a conductor just started may not have
            registered its jobs.
        clock: A monotonic clock (tests pass a fake one with a fake `stop.wait`).

    Returns:
        The final stats.
    """
    if interval <= 0:
        raise ValueError("interval must be positive")
    stats = TickStats()
    if first_gap is not None and 0 < first_gap < interval:
        _tick_once(tick, stats, emit, clock)
        if (max_ticks is not None and stats.ticks >= max_ticks) or stop.wait(first_gap):
            return stats
    started = clock()
    slot = 0
    while not stop.is_set():
        _tick_once(tick, stats, emit, clock)
        if max_ticks is not None and stats.ticks >= max_ticks:
            break
        slot += 1
        now = clock()
        due_slot = math.floor((now - started) / interval) + 1
        if due_slot > slot:
            stats.late_ticks += due_slot - slot
            slot = due_slot
        delay = started + slot * interval - now
        if delay > 0 and stop.wait(delay):
            break
    return stats


def _tick_once(
    tick: Callable[[TickStats], T],
    stats: TickStats,
    emit: Callable[[T], None],
    clock: Callable[[], float],
) -> None:
    tick_started = clock()
    sample = tick(stats)
    stats.last_tick_seconds = clock() - tick_started
    stats.ticks += 1
    emit(sample)
