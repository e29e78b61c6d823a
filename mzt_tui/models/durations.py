"""Durations as the conductor's `mzt top --history` parses them."""

from __future__ import annotations

import re

from mzt_tui.models.errors import UsageError

_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$")
_MINUTES = re.compile(r"^[0-9]+$")
_ALLOWED = "a number of minutes (30) or h/m/s parts in that order (30s, 5m, 1h, 2h30m, 1h30m15s)"


def parse_duration(text: str) -> float:
    """Parse `30s`, `5m`, `1h`, `2h30m`, `1h30m15s` (any case); a bare number is minutes.

    Args:
        text: What the user typed.

    Returns:
        The duration in seconds, always above zero.

    Raises:
        UsageError: The text is not a duration, or it is zero.
    """
    cleaned = text.strip().lower()
    if _MINUTES.fullmatch(cleaned):
        seconds = int(cleaned) * 60
    else:
        match = _DURATION.fullmatch(cleaned)
        if not cleaned or match is None:
            raise UsageError(f"invalid duration {text!r}: expected {_ALLOWED}")
        hours, minutes, secs = (int(part) if part else 0 for part in match.groups())
        seconds = (
            hours * _UNIT_SECONDS["h"] + minutes * _UNIT_SECONDS["m"] + secs * _UNIT_SECONDS["s"]
        )
    if seconds <= 0:
        raise UsageError(f"invalid duration {text!r}: it must be longer than zero")
    return float(seconds)


def format_duration(seconds: float) -> str:
    """Format seconds back into the compact form `parse_duration` reads (`2h30m`)."""
    remaining = round(seconds)
    parts: list[str] = []
    for unit, size in _UNIT_SECONDS.items():
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
