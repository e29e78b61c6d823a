"""Short, fixed-width renderings of sizes, ages, percentages and bars for the dashboard.

Pure functions over numbers and strings: no widgets, no clock. Every time shown on screen is
derived from a sample's own timestamp, so a frozen sample renders the same way every run.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text

_SPARK_LEVELS = " ▁▂▃▄▅▆▇█"
_BAR_FULL = "█"
_BAR_EMPTY = "░"
_WARN_PERCENT = 60.0
_HIGH_PERCENT = 85.0
_MB_PER_GB = 1024.0
_GB_PER_TB = 1024.0
_SECONDS_PER_MINUTE = 60
_SECONDS_PER_HOUR = 3600
_SECONDS_PER_DAY = 86400


def level_style(percent: float) -> str:
    """The colour of a load figure: green while low, yellow from 60 %, red from 85 %."""
    if percent >= _HIGH_PERCENT:
        return "red"
    if percent >= _WARN_PERCENT:
        return "yellow"
    return "green"


def format_mb(megabytes: float) -> str:
    """Format a size in MiB compactly: `512M`, `3.4M`, `1.2G`, `2.0T`."""
    if megabytes <= 0:
        return "0"
    if megabytes < 10:
        return f"{megabytes:.1f}M"
    if megabytes < _MB_PER_GB:
        return f"{megabytes:.0f}M"
    gigabytes = megabytes / _MB_PER_GB
    if gigabytes < _GB_PER_TB:
        return f"{gigabytes:.1f}G"
    return f"{gigabytes / _GB_PER_TB:.1f}T"


def format_age(seconds: float) -> str:
    """Format a duration compactly: `42s`, `12m05s`, `3h04m`, `2d03h`."""
    total = max(0, int(seconds))
    if total < _SECONDS_PER_MINUTE:
        return f"{total}s"
    if total < _SECONDS_PER_HOUR:
        minutes, secs = divmod(total, _SECONDS_PER_MINUTE)
        return f"{minutes}m{secs:02d}s"
    if total < _SECONDS_PER_DAY:
        hours, rest = divmod(total, _SECONDS_PER_HOUR)
        return f"{hours}h{rest // _SECONDS_PER_MINUTE:02d}m"
    days, rest = divmod(total, _SECONDS_PER_DAY)
    return f"{days}d{rest // _SECONDS_PER_HOUR:02d}h"


def format_clock(timestamp: float, timezone: tzinfo | None = None) -> str:
    """Format unix seconds as `HH:MM:SS` in `timezone` (local time when None)."""
    return datetime.fromtimestamp(timestamp, tz=timezone).strftime("%H:%M:%S")


def shorten(text: str, width: int) -> str:
    """Cut `text` to `width` cells, marking the cut with an ellipsis."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    return text[: width - 1] + "…"


def fit(text: str, width: int, *, right: bool = False) -> str:
    """Shorten `text` to `width` and pad it to exactly `width` cells."""
    cut = shorten(text, width)
    return cut.rjust(width) if right else cut.ljust(width)


def bar(percent: float, width: int, *, style: str | None = None) -> Text:
    """A horizontal bar `width` cells wide, filled to `percent`, coloured by level."""
    clamped = min(max(percent, 0.0), 100.0)
    filled = round(clamped / 100.0 * width)
    text = Text()
    text.append(_BAR_FULL * filled, style=style or level_style(clamped))
    text.append(_BAR_EMPTY * (width - filled), style="bright_black")
    return text


def spark(percent: float) -> str:
    """One cell whose height shows `percent` (a compact per-core bar)."""
    clamped = min(max(percent, 0.0), 100.0)
    index = round(clamped / 100.0 * (len(_SPARK_LEVELS) - 1))
    return _SPARK_LEVELS[index]


def command_name(command: str) -> str:
    """The program and its first arguments, without the program's directory."""
    if not command:
        return "?"
    program, _, arguments = command.partition(" ")
    program = program.rsplit("/", 1)[-1] or program
    return f"{program} {arguments}".strip()


def format_seconds(value: float | None) -> str:
    """Seconds for a table cell: `42.5s`, `12m05s`, `1h02m`, `-` for none."""
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.1f}s"
    minutes, seconds = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_share(value: float | None) -> str:
    """A 0–1 share as a percentage: `83%`, `-` for none."""
    return "-" if value is None else f"{value * 100:.0f}%"
