"""The hour-of-day and wait-time rules, at and around every boundary the conductor draws."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mzt_tui.analysis.learning_rules import (
    HourSuccess,
    day_profile,
    learned_wait_seconds,
    optimal_window,
    outcome_confidence,
    sheet_num_from_id,
    wait_with_fallback,
)


@st.composite
def hour_counts(draw: st.DrawFn) -> list[HourSuccess]:
    """Recoveries grouped by distinct hours, each with successes ≤ total."""
    hours = draw(st.lists(st.integers(0, 23), unique=True, max_size=24))
    result = []
    for hour in hours:
        total = draw(st.integers(1, 60))
        result.append(HourSuccess(hour=hour, successes=draw(st.integers(0, total)), total=total))
    return result


# The hour-of-day window ------------------------------------------------------------------


@given(hour_counts())
def test_every_hour_is_judged_by_its_exact_success_share(hours: list[HourSuccess]) -> None:
    window = optimal_window(hours)
    expected_optimal = sorted(
        h.hour
        for h in hours
        if h.hour is not None and h.total >= 3 and Fraction(h.successes, h.total) >= Fraction(7, 10)
    )
    expected_avoid = sorted(
        h.hour
        for h in hours
        if h.hour is not None and h.total >= 3 and Fraction(h.successes, h.total) <= Fraction(3, 10)
    )
    assert list(window.optimal_hours) == expected_optimal
    assert list(window.avoid_hours) == expected_avoid
    samples = sum(h.total for h in hours)
    assert window.sample_count == samples
    assert window.confidence == (min(samples / 50, 1.0) if samples else 0.0)
    assert 0.0 <= window.confidence <= 1.0


@pytest.mark.parametrize(
    ("successes", "total", "verdict"),
    [
        (2, 2, "too few"),  # 100 % but only 2 samples
        (0, 2, "too few"),
        (3, 3, "optimal"),  # 3 samples is enough
        (0, 3, "avoid"),
        (2, 3, "neutral"),  # 66.7 %
        (1, 3, "neutral"),  # 33.3 %
        (7, 10, "optimal"),  # exactly 70 %
        (69, 100, "neutral"),  # just below 70 %
        (3, 10, "avoid"),  # exactly 30 %
        (31, 100, "neutral"),  # just above 30 %
    ],
)
def test_the_boundaries_of_the_window(successes: int, total: int, verdict: str) -> None:
    hour = HourSuccess(hour=9, successes=successes, total=total)
    assert hour.verdict == verdict
    window = optimal_window([hour])
    assert (9 in window.optimal_hours) is (verdict == "optimal")
    assert (9 in window.avoid_hours) is (verdict == "avoid")


def test_confidence_reaches_one_at_fifty_recoveries() -> None:
    assert optimal_window([HourSuccess(hour=1, successes=1, total=49)]).confidence == 0.98
    assert optimal_window([HourSuccess(hour=1, successes=1, total=50)]).confidence == 1.0
    assert optimal_window([HourSuccess(hour=1, successes=1, total=500)]).confidence == 1.0
    assert optimal_window([]).model_dump() == {
        "optimal_hours": (),
        "avoid_hours": (),
        "confidence": 0.0,
        "sample_count": 0,
    }


def test_rows_without_an_hour_count_but_are_never_listed() -> None:
    window = optimal_window([HourSuccess(hour=None, successes=5, total=5)])
    assert (window.optimal_hours, window.sample_count) == ((), 5)


@given(hour_counts())
def test_the_day_profile_has_every_hour_once(hours: list[HourSuccess]) -> None:
    profile = day_profile(hours)
    assert [h.hour for h in profile] == list(range(24))
    assert sum(h.total for h in profile) == sum(h.total for h in hours)
    assert optimal_window(profile).model_dump() == optimal_window(hours).model_dump()


# Learned waits ---------------------------------------------------------------------------

waits = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(st.lists(waits, min_size=3, max_size=20))
def test_a_learned_wait_averages_the_mean_and_the_shortest(successful: list[float]) -> None:
    learned = learned_wait_seconds(successful)
    assert learned is not None
    mean = sum(successful) / len(successful)
    assert learned == (mean + min(successful)) / 2
    assert min(successful) - 1e-6 <= learned <= mean + 1e-6


@given(st.lists(waits, max_size=2))
def test_fewer_than_three_waits_learn_nothing(successful: list[float]) -> None:
    assert learned_wait_seconds(successful) is None


def test_min_samples_moves_the_threshold() -> None:
    assert learned_wait_seconds([10.0], min_samples=1) == 10.0
    assert learned_wait_seconds([10.0, 20.0, 30.0], min_samples=4) is None
    assert learned_wait_seconds([], min_samples=0) is None


static_delays = st.floats(min_value=0.001, max_value=1e5, allow_nan=False, allow_infinity=False)


@given(waits, st.integers(0, 50), static_delays)
def test_a_learned_wait_is_never_below_half_the_static_delay(
    learned: float, successes: int, static: float
) -> None:
    delay, confidence, strategy = wait_with_fallback(learned, successes, static)
    assert confidence == min(successes / 10, 1.0)
    assert delay >= static * 0.5 * (1 - 1e-12)
    floored = max(learned, static * 0.5)
    if successes >= 7:
        assert (strategy, delay) == ("global_learned", floored)
    else:
        assert strategy == "global_learned_blend"
        weight = (successes / 10) / 0.7
        assert math.isclose(delay, weight * floored + (1 - weight) * static, rel_tol=1e-12)
        assert min(floored, static) * (1 - 1e-12) <= delay <= max(floored, static) * (1 + 1e-12)


@given(st.integers(0, 50), static_delays)
def test_nothing_learned_falls_back_to_the_static_delay(successes: int, static: float) -> None:
    assert tuple(wait_with_fallback(None, successes, static)) == (static, 0.0, "static_fallback")


@pytest.mark.parametrize(
    ("successes", "strategy", "delay"),
    [
        (6, "global_learned_blend", 6 / 7 * 30.0 + 1 / 7 * 60.0),  # just below 0.7
        (7, "global_learned", 30.0),  # exactly 0.7: trusted, floored at 30
        (10, "global_learned", 30.0),
        (0, "global_learned_blend", 60.0),  # confidence 0: all static
    ],
)
def test_the_confidence_threshold_between_blend_and_learned(
    successes: int, strategy: str, delay: float
) -> None:
    result = wait_with_fallback(12.0, successes, 60.0)
    assert result.strategy == strategy
    assert math.isclose(result.delay_seconds, delay, rel_tol=1e-12)


def test_a_learned_wait_above_the_floor_is_used_as_learned() -> None:
    assert wait_with_fallback(45.0, 8, 60.0) == (45.0, 0.8, "global_learned")
    assert wait_with_fallback(45.0, 8, 60.0, min_confidence=0.9).strategy == "global_learned_blend"


# Outcomes --------------------------------------------------------------------------------


@given(
    st.floats(0.0, 100.0, allow_nan=False),
    st.integers(0, 100),
    st.booleans(),
)
def test_confidence_is_the_clamped_formula(pass_rate: float, retries: int, first_try: bool) -> None:
    confidence = outcome_confidence(pass_rate, retries, first_try)
    raw = pass_rate - 0.1 * min(retries, 5) + (0.1 if first_try else 0.0)
    assert 0.0 <= confidence <= 1.0
    assert math.isclose(confidence, max(0.0, min(1.0, raw)), abs_tol=1e-9)
    assert outcome_confidence(pass_rate, retries + 1, first_try) <= confidence


@given(st.from_regex(r"[a-z\-_ ]{0,12}", fullmatch=True), st.integers(0, 10**6))
def test_the_sheet_number_is_read_from_the_end(prefix: str, number: int) -> None:
    assert sheet_num_from_id(f"{prefix}{number}") == number
    assert sheet_num_from_id(f"{prefix}{number}x") == 0
