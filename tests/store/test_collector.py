"""The collector pause around bulk reads, and the number clamps the readers use."""

from __future__ import annotations

import gc
import math
import threading
from collections.abc import Iterator

import pytest

from mzt_tui.store.collector import collector_paused
from mzt_tui.store.rows import clamp, clamp_int


@pytest.fixture
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collector_enabled")
def test_the_collector_is_paused_inside_and_enabled_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_enabled")
def test_it_is_enabled_again_after_an_exception() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("read failed")
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_enabled")
def test_nested_pauses_end_with_the_outermost() -> None:
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_disabled_by_the_program_stays_disabled() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


@pytest.mark.usefixtures("collector_enabled")
def test_overlapping_pauses_in_two_threads_enable_it_once_both_end() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with collector_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with collector_paused():
            second_in.set()
            first_out.wait(5)
            # The first pause ended while this one runs: still paused.
            seen.append(gc.isenabled())

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [False]
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("value", "upper", "expected"),
    [
        (12.5, math.inf, 12.5),
        (150.0, 100.0, 100.0),
        (0.0, math.inf, 0.0),
        (-1.0, math.inf, 0.0),
        (math.nan, math.inf, 0.0),
        (math.inf, math.inf, 0.0),
        (-math.inf, 100.0, 0.0),
        (7, math.inf, 7.0),
        (250, 100.0, 100.0),
        (True, math.inf, 0.0),
        ("12", math.inf, 0.0),
        (None, math.inf, 0.0),
    ],
)
def test_clamp_keeps_finite_non_negative_numbers_within_the_bound(
    value: object, upper: float, expected: float
) -> None:
    result = clamp(value, upper)
    assert result == expected
    assert isinstance(result, float)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, 5), (0, 0), (-3, 0), (4.0, 4), (math.nan, 0), (math.inf, 0), (False, 0), ("9", 0)],
)
def test_clamp_int_keeps_non_negative_integers(value: object, expected: int) -> None:
    result = clamp_int(value)
    assert result == expected
    assert type(result) is int
