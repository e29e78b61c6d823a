"""Recoveries recorded in the store give the conductor's window and waits, models honoured."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

from mzt_tui.marianne.learning import LearningStore


class _Clock:
    """A clock that moves one second per reading from a settable time."""

    def __init__(self, start: str) -> None:
        self.now = datetime.fromisoformat(start)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def at_hour(self, hour: int) -> None:
        self.now = self.now.replace(hour=hour)


def _record(
    store: LearningStore,
    code: str,
    waits_and_success: list[tuple[float, bool]],
    model: str | None = None,
) -> None:
    for wait, success in waits_and_success:
        store.record_error_recovery(code, 30.0, wait, success, model)


def test_the_window_groups_recoveries_by_local_hour(learning_db: Path) -> None:
    # GIVEN the conductor's one recovery at 07h, and ours at 09h, 03h and 12h
    clock = _Clock("2026-11-24T00:00:00")
    store = LearningStore(learning_db, now=clock)
    clock.at_hour(9)
    _record(store, "E101", [(10.0, True), (10.0, True), (10.0, True), (10.0, False)])
    clock.at_hour(3)
    _record(store, "E101", [(10.0, False)] * 3)
    clock.at_hour(12)
    _record(store, "E102", [(10.0, True)] * 2)

    # WHEN the window is asked for, for every code and for one
    window = store.get_optimal_execution_window()
    only_e102 = store.get_optimal_execution_window("E102")

    # THEN 09h (75 %) is optimal, 03h (0 %) to avoid, 12h and 07h have too few samples
    assert (window.optimal_hours, window.avoid_hours) == ((9,), (3,))
    assert (window.sample_count, window.confidence) == (10, 10 / 50)
    assert (only_e102.optimal_hours, only_e102.sample_count) == ((), 2)
    hours = {hour.hour: (hour.successes, hour.total) for hour in store.hour_success()}
    assert hours == {3: (0, 3), 7: (1, 1), 9: (3, 4), 12: (2, 2)}


def test_the_window_honours_the_model(learning_db: Path) -> None:
    clock = _Clock("2026-11-24T00:00:00")
    store = LearningStore(learning_db, now=clock)
    clock.at_hour(9)
    _record(store, "E101", [(10.0, True)] * 3, model="model-a")
    _record(store, "E101", [(10.0, False)] * 3, model="model-b")
    # The conductor ignores `model` and would call 09h neutral (50 %) for both.
    assert store.get_optimal_execution_window().optimal_hours == ()
    window_a = store.get_optimal_execution_window(model="model-a")
    window_b = store.get_optimal_execution_window("E101", model="model-b")
    assert (window_a.optimal_hours, window_a.avoid_hours, window_a.sample_count) == ((9,), (), 3)
    assert (window_b.optimal_hours, window_b.avoid_hours, window_b.sample_count) == ((), (9,), 3)


def test_a_wait_is_learned_from_the_last_twenty_successes(learning_db: Path) -> None:
    store = LearningStore(learning_db, now=_Clock("2026-11-24T10:00:00"))
    _record(store, "E103", [(1000.0, True)] * 5)  # older: pushed out of the last 20
    _record(store, "E103", [(10.0, True)] * 10 + [(40.0, True)] * 10 + [(1.0, False)] * 3)
    # mean 25, shortest 10 → 17.5; failed waits and the older five play no part
    assert store.get_learned_wait_time("E103") == 17.5
    assert store.get_error_recovery_sample_count("E103") == 25
    assert tuple(store.get_learned_wait_time_with_fallback("E103", 60.0)) == (
        30.0,  # floored at half the static delay
        1.0,
        "global_learned",
    )
    assert store.get_learned_wait_time_with_fallback("E103", 20.0).delay_seconds == 17.5


def test_few_successes_blend_the_learned_wait_with_the_static_delay(learning_db: Path) -> None:
    store = LearningStore(learning_db, now=_Clock("2026-11-24T10:00:00"))
    _record(store, "E104", [(40.0, True), (50.0, True)])
    assert store.get_learned_wait_time("E104") is None
    assert store.get_learned_wait_time_with_fallback("E104", 60.0).strategy == "static_fallback"
    _record(store, "E104", [(60.0, True)])  # the third success: 3 samples, confidence 0.3
    learned = (50.0 + 40.0) / 2
    delay, confidence, strategy = store.get_learned_wait_time_with_fallback("E104", 60.0)
    assert (confidence, strategy) == (0.3, "global_learned_blend")
    weight = 0.3 / 0.7
    assert math.isclose(delay, weight * learned + (1 - weight) * 60.0, rel_tol=1e-12)


def test_waits_and_their_confidence_honour_the_model(learning_db: Path) -> None:
    store = LearningStore(learning_db, now=_Clock("2026-11-24T10:00:00"))
    _record(store, "E105", [(20.0, True)] * 3, model="model-a")
    _record(store, "E105", [(200.0, True)] * 10, model="model-b")
    assert store.get_learned_wait_time("E105", model="model-a") == 20.0
    assert store.get_learned_wait_time("E105", model="model-b") == 200.0
    # The conductor counts every model's successes (13 → confidence 1); model-a has 3.
    wait_a = store.get_learned_wait_time_with_fallback("E105", 30.0, model="model-a")
    assert (wait_a.confidence, wait_a.strategy) == (0.3, "global_learned_blend")
    assert store.get_error_recovery_sample_count("E105") == 13
    assert store.get_error_recovery_sample_count("E105", model="model-b") == 10
    assert store.recovery_error_codes() == ["E101", "E105"]
    assert store.recovery_error_codes("model-a") == ["E105"]
