"""The learning store's rules for hours of the day and wait times, for the analysis side.

The rules themselves (`optimal_window`, `learned_wait_seconds`, `wait_with_fallback`, the
outcome confidence and sheet number) are implemented once in `mzt_tui.models.outcomes`:
the learning store in `mzt_tui.marianne` and the demo conductor apply them too, and the
layers let those import the models but not this package. This module is where the
screens and commands take them from, with the tables they show built on top.
"""

from __future__ import annotations

from collections.abc import Iterable

from mzt_tui.models.outcomes import (
    AVOID_SUCCESS_RATE,
    MIN_HOUR_SAMPLES,
    MIN_WAIT_CONFIDENCE,
    MIN_WAIT_SAMPLES,
    OPTIMAL_SUCCESS_RATE,
    WAIT_FLOOR_FRACTION,
    WAIT_FULL_CONFIDENCE_SAMPLES,
    WAIT_HISTORY,
    WINDOW_FULL_CONFIDENCE_SAMPLES,
    HourSuccess,
    LearnedWait,
    OptimalWindow,
    learned_wait_seconds,
    optimal_window,
    outcome_confidence,
    sheet_num_from_id,
    wait_with_fallback,
)

__all__ = [
    "AVOID_SUCCESS_RATE",
    "HOURS_OF_DAY",
    "MIN_HOUR_SAMPLES",
    "MIN_WAIT_CONFIDENCE",
    "MIN_WAIT_SAMPLES",
    "OPTIMAL_SUCCESS_RATE",
    "WAIT_FLOOR_FRACTION",
    "WAIT_FULL_CONFIDENCE_SAMPLES",
    "WAIT_HISTORY",
    "WINDOW_FULL_CONFIDENCE_SAMPLES",
    "HourSuccess",
    "LearnedWait",
    "OptimalWindow",
    "day_profile",
    "learned_wait_seconds",
    "optimal_window",
    "outcome_confidence",
    "sheet_num_from_id",
    "wait_with_fallback",
]

HOURS_OF_DAY = range(24)


def day_profile(hours: Iterable[HourSuccess]) -> list[HourSuccess]:
    """Return all 24 hours of the day in order, with zero counts where nothing was recorded.

    Rows for the same hour are added up; rows without an hour or outside 0–23 are left
    out (they still count in `optimal_window`'s sample count).
    """
    successes = dict.fromkeys(HOURS_OF_DAY, 0)
    totals = dict.fromkeys(HOURS_OF_DAY, 0)
    for hour in hours:
        if hour.hour is not None and hour.hour in totals:
            successes[hour.hour] += hour.successes
            totals[hour.hour] += hour.total
    return [
        HourSuccess(hour=hour, successes=successes[hour], total=totals[hour])
        for hour in HOURS_OF_DAY
    ]
