"""The duration parser follows the conductor's rules and rejects everything else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mzt_tui.models.durations import format_duration, parse_duration
from mzt_tui.models.errors import UsageError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h", 3600),
        ("2h30m", 9000),
        ("1h30m15s", 5415),
        ("1H30M", 5400),
        ("  10m ", 600),
        ("15", 900),
        ("1h15s", 3615),
    ],
)
def test_parses_the_conductors_forms(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "abc", "1d", "-5m", "5m1h", "1.5h", "0", "0s", "h", "5 m", "\u00b2", "\u0663m"]
)
def test_rejects_anything_else_with_one_line(text: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_duration(text)
    message = str(raised.value)
    assert "\n" not in message
    assert repr(text) in message


@given(
    hours=st.integers(min_value=0, max_value=500),
    minutes=st.integers(min_value=0, max_value=59),
    seconds=st.integers(min_value=0, max_value=59),
)
def test_format_and_parse_round_trip(hours: int, minutes: int, seconds: int) -> None:
    total = hours * 3600 + minutes * 60 + seconds
    if total == 0:
        return
    assert parse_duration(format_duration(total)) == total


@given(st.text(max_size=12))
def test_never_raises_anything_but_usage_error(text: str) -> None:
    try:
        value = parse_duration(text)
    except UsageError:
        return
    assert value > 0
