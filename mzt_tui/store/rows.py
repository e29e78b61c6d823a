"""Rows back into models, tolerant of what other writers may have stored.

Process rows are the bulk of every read (1,000 per snapshot), and pydantic validation
costs about 3 µs a row, more than everything else together. So process models are built
without re-validation, the way pydantic's own `model_construct` and `__copy__` build them,
from values that are valid already: rows our writer stored from validated models are read
as stored; rows of any other writer are made valid in SQL (NULL defaults as the conductor's
reader applies them, negatives, text and infinities replaced, the command truncated, a
one-letter state). Everything else (snapshots, GPUs, events, anomalies) is few rows and
goes through normal validation after clamping in Python. What a read repairs is noted (see
`faults.py` and `repairs.py`) so that readers can say it.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from typing import Any

from mzt_tui.models.process import COMMAND_MAX_CHARS, ProcessMetric

# Comparisons and CASE are plain VM steps in SQLite, far cheaper than MIN/MAX/COALESCE
# calls. A TEXT value compares greater than any number, so `x < bound` rejects it; NULL
# fails every comparison; both take the default, as the conductor's `value or default` does.
REAL_BOUND = "1.0e308"
INTEGER_BOUND = "9.0e18"


def sql_real(column: str, default: str = "0.0") -> str:
    """SQL for a non-negative finite REAL: NULL, text, negatives and infinities → `default`."""
    return f"CASE WHEN {column} >= 0.0 AND {column} < {REAL_BOUND} THEN {column} ELSE {default} END"


def sql_int(column: str, default: str = "0") -> str:
    """SQL for a non-negative INTEGER: NULL, text and negatives → `default`."""
    return (
        f"CASE WHEN {column} >= 0 AND {column} < {INTEGER_BOUND}"
        f" THEN CAST({column} AS INTEGER) ELSE {default} END"
    )


def sql_optional_real(column: str) -> str:
    """SQL for a nullable non-negative finite REAL (anything invalid becomes NULL)."""
    return f"CASE WHEN {column} >= 0.0 AND {column} < {REAL_BOUND} THEN {column} END"


def sql_command(column: str) -> str:
    """SQL for a command line as the conductor's reader keeps it (text, at most 500 chars)."""
    # Text of at most 500 bytes is kept whole (substr() would stop at an embedded NUL);
    # longer text is cut to 500 characters, anything else becomes text.
    return (
        f"CASE WHEN typeof({column}) = 'text' AND length(CAST({column} AS BLOB))"
        f" <= {COMMAND_MAX_CHARS} THEN {column}"
        f" ELSE COALESCE(substr(CAST({column} AS TEXT), 1, {COMMAND_MAX_CHARS}), '') END"
    )


def process_columns(alias: str, *, has_extras: bool, trusted: bool = False) -> str:
    """The SELECT list that yields one valid `ProcessMetric` per row.

    Select one key column before it; `process_from_row` turns the row into the model.

    Args:
        alias: The alias of `process_metrics` in the query.
        has_extras: Whether the table has our `mzt_*` columns.
        trusted: The rows are our own writer's (snapshots with a `mzt_snapshot_extras`
            row): written from validated models, they need only the NULL defaults, which
            saves a tenth of a read. Rows of any other writer are checked column by column.
    """
    a = alias
    if trusted and has_extras:
        # Our writer stores every one of these columns (no NULLs but the nullable fields).
        return (
            f"{a}.pid, {a}.ppid, {a}.command, {a}.state, {a}.cpu_percent, {a}.rss_mb,"
            f" {a}.vms_mb, {a}.threads, {a}.open_fds, {a}.age_seconds, {a}.job_id,"
            f" {a}.sheet_num, NULLIF({a}.syscall_counts, '{{}}'),"
            f" NULLIF({a}.syscall_time_pct, '{{}}'), {a}.mzt_start_time,"
            f" {a}.mzt_gpu_memory_mb, {a}.mzt_attribution_guessed"
        )
    if has_extras:
        extras = (
            f"{sql_optional_real(f'{a}.mzt_start_time')}, "
            f"{sql_real(f'{a}.mzt_gpu_memory_mb')}, "
            f"{a}.mzt_attribution_guessed = 1"
        )
    else:
        extras = "NULL, 0.0, 0"
    return (
        f"{sql_int(f'{a}.pid')}, {sql_int(f'{a}.ppid')}, "
        f"{sql_command(f'{a}.command')}, "
        f"CASE WHEN {a}.state GLOB '[A-Z]' THEN {a}.state ELSE 'S' END, "
        f"{sql_real(f'{a}.cpu_percent')}, {sql_real(f'{a}.rss_mb')}, "
        f"{sql_real(f'{a}.vms_mb')}, {sql_int(f'{a}.threads', '1')}, "
        f"{sql_int(f'{a}.open_fds')}, {sql_real(f'{a}.age_seconds')}, "
        f"CAST({a}.job_id AS TEXT), CAST({a}.sheet_num AS INTEGER), "
        f"NULLIF({a}.syscall_counts, '{{}}'), NULLIF({a}.syscall_time_pct, '{{}}'), "
        f"{extras}"
    )


def _finite_non_negative(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _json_object(text: str) -> dict[Any, Any]:
    try:
        parsed = json.loads(text)
    except (ValueError, TypeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


# Summaries repeat from row to row (a process's shares barely change between ticks), so the
# parsed, checked items are cached by their text; each model still gets a dict of its own.
@functools.lru_cache(maxsize=4096)
def _count_items(text: str) -> tuple[tuple[str, int], ...]:
    return tuple(
        (str(name), int(count))
        for name, count in _json_object(text).items()
        if _finite_non_negative(count) and float(count).is_integer()
    )


@functools.lru_cache(maxsize=4096)
def _share_items(text: str) -> tuple[tuple[str, float], ...]:
    return tuple(
        (str(name), float(share))
        for name, share in _json_object(text).items()
        if _finite_non_negative(share) and share <= 100.0
    )


def parse_counts(text: str | None) -> dict[str, int]:
    """Parse a `syscall_counts` column; keeps only non-negative whole counts."""
    return dict(_count_items(text)) if text else {}


def parse_shares(text: str | None) -> dict[str, float]:
    """Parse a `syscall_time_pct` column; keeps only percentages within 0–100."""
    return dict(_share_items(text)) if text else {}


def parse_number_list(text: str | None) -> list[float]:
    """Parse a JSON array of numbers (GPU columns, per-core CPU); bad entries become 0."""
    if not text or text == "[]":
        return []
    try:
        parsed = json.loads(text)
    except (ValueError, TypeError):
        return []
    if not isinstance(parsed, list):
        return []
    return [float(item) if _finite_non_negative(item) else 0.0 for item in parsed]


def clamp(value: Any, upper: float = math.inf, default: float = 0.0) -> float:
    """A stored number made valid for a non-negative field (NULL and junk → `default`)."""
    # The common case first: a finite non-negative REAL (NaN fails both comparisons).
    if type(value) is float and 0.0 <= value < math.inf:
        return value if value <= upper else upper
    if not _finite_non_negative(value):
        return default
    return min(float(value), upper)


def clamp_int(value: Any, default: int = 0) -> int:
    """A stored integer made valid for a non-negative field (NULL and junk → `default`)."""
    if type(value) is int and value >= 0:
        return value
    if not _finite_non_negative(value):
        return default
    return int(value)


def _process_builder() -> Callable[[tuple[Any, ...]], ProcessMetric]:
    """Make `process_from_row`; what it uses are closure variables, quicker than globals."""
    # Every field is set, so every instance shares one fields-set. Pydantic never changes
    # it in place on a frozen model (`model_copy` copies it first), and sharing it spares
    # the garbage collector 1,000 tracked objects per snapshot read.
    all_fields: set[str] = set(ProcessMetric.model_fields)
    model = ProcessMetric
    new = ProcessMetric.__new__
    set_attribute = object.__setattr__
    counts_of = parse_counts
    shares_of = parse_shares

    def process_from_row(row: tuple[Any, ...]) -> ProcessMetric:
        """Build a `ProcessMetric` from a row of one key column then `process_columns`.

        The key (a snapshot id, a timestamp) is the caller's and is skipped. This runs once
        per process row read: it unpacks and builds in one step, without validation.
        """
        (
            _key,
            pid,
            ppid,
            command,
            state,
            cpu_percent,
            rss_mb,
            vms_mb,
            threads,
            open_fds,
            age_seconds,
            job_id,
            sheet_num,
            syscall_counts,
            syscall_time_pct,
            start_time,
            gpu_memory_mb,
            attribution_guessed,
        ) = row
        process = new(model)
        set_attribute(
            process,
            "__dict__",
            {
                "pid": pid,
                "ppid": ppid,
                "command": command,
                "state": state,
                "cpu_percent": cpu_percent,
                "rss_mb": rss_mb,
                "vms_mb": vms_mb,
                "threads": threads,
                "open_fds": open_fds,
                "age_seconds": age_seconds,
                "job_id": job_id,
                "sheet_num": sheet_num,
                "syscall_counts": counts_of(syscall_counts) if syscall_counts else {},
                "syscall_time_pct": shares_of(syscall_time_pct) if syscall_time_pct else {},
                "start_time": start_time,
                "gpu_memory_mb": gpu_memory_mb,
                "attribution_guessed": attribution_guessed == 1,
            },
        )
        # What model_construct ends with, without its per-field Python loop: the values
        # were made valid in SQL, so validation would only cost time.
        set_attribute(process, "__pydantic_fields_set__", all_fields)
        set_attribute(process, "__pydantic_extra__", None)
        set_attribute(process, "__pydantic_private__", None)
        return process

    return process_from_row


process_from_row = _process_builder()
