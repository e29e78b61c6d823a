"""What is wrong with a stored value that a read repairs: SQL for process rows, Python for the rest.

Each check names the fault the way a summary says it ("negative", "invalid JSON") or gives
None for a valid value, and matches what the repair in `rows.py` and `reader.py` does: a
value flagged here is one the read replaced, cut or dropped entries from. NULL counts as
"NaN or missing" where a default stands in for it (SQLite stores NaN as NULL), never in a
column that is nullable by meaning (a job id, our `mzt_*` columns of rows we did not write).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable
from typing import Any

from mzt_tui.models.process import COMMAND_MAX_CHARS
from mzt_tui.store.repairs import RepairLog
from mzt_tui.store.rows import INTEGER_BOUND, REAL_BOUND

MISSING = "NaN or missing"
NOT_A_NUMBER = "not a number"
NEGATIVE = "negative"
TOO_LARGE = "infinite or too large"
NOT_WHOLE = "not a whole number"
INVALID_JSON = "invalid JSON"
NOT_OBJECT = "not a JSON object"
NOT_ARRAY = "not a JSON array"
BAD_ENTRIES = "bad entries dropped"
NOT_TEXT = "not text"
TOO_LONG = f"over {COMMAND_MAX_CHARS} characters"
BAD_STATE = "not one capital letter"
UNKNOWN = "unknown"
UNKNOWN_SKIPPED = f"{UNKNOWN}: row skipped"


# -- SQL (process rows) ---------------------------------------------------------------------

_Check = tuple[str, str]
"""(SQL true exactly when the value is read as stored, SQL naming its fault or NULL)."""


def _number_check(column: str, bound: str, *, nullable: bool, whole: bool) -> _Check:
    in_range = f"{column} >= 0 AND {column} < {bound}"
    if whole:
        in_range += f" AND {column} = CAST({column} AS INTEGER)"
    valid = (
        f"({column} IS NULL OR ({in_range}))"
        if nullable
        else f"({column} IS NOT NULL AND {in_range})"
    )
    missing = "NULL" if nullable else f"'{MISSING}'"
    fraction = f" WHEN {column} != CAST({column} AS INTEGER) THEN '{NOT_WHOLE}'" if whole else ""
    fault = (
        f"CASE WHEN {column} IS NULL THEN {missing}"
        f" WHEN typeof({column}) NOT IN ('integer', 'real') THEN '{NOT_A_NUMBER}'"
        f" WHEN {column} < 0 THEN '{NEGATIVE}'"
        f" WHEN {column} >= {bound} THEN '{TOO_LARGE}'{fraction} END"
    )
    return valid, fault


def _json_check(column: str, entry_ok: str) -> _Check:
    entries_ok = (
        f"NOT EXISTS (SELECT 1 FROM json_each({column}) WHERE type NOT IN ('integer', 'real')"
        f" OR NOT ({entry_ok}))"
    )
    valid = (
        f"({column} IS NULL OR {column} = '{{}}' OR (json_valid({column})"
        f" AND json_type({column}) = 'object' AND {entries_ok}))"
    )
    fault = (
        f"CASE WHEN {column} IS NULL OR {column} = '{{}}' THEN NULL"
        f" WHEN NOT json_valid({column}) THEN '{INVALID_JSON}'"
        f" WHEN json_type({column}) != 'object' THEN '{NOT_OBJECT}'"
        f" WHEN NOT {entries_ok} THEN '{BAD_ENTRIES}' END"
    )
    return valid, fault


def _process_checks(alias: str, *, has_extras: bool) -> dict[str, _Check]:
    """The check of each checked column of `process_metrics` (alias `alias`)."""
    a = alias
    command, state = f"{a}.command", f"{a}.state"
    checks = {
        "pid": _number_check(f"{a}.pid", INTEGER_BOUND, nullable=False, whole=True),
        "ppid": _number_check(f"{a}.ppid", INTEGER_BOUND, nullable=False, whole=True),
        "command": (
            # Text sorts above every number and below every blob.
            f"({command} >= '' AND {command} < x'' AND (length(CAST({command} AS BLOB))"
            f" <= {COMMAND_MAX_CHARS} OR length({command}) <= {COMMAND_MAX_CHARS}))",
            f"CASE WHEN {command} IS NULL THEN '{MISSING}'"
            f" WHEN typeof({command}) != 'text' THEN '{NOT_TEXT}'"
            f" WHEN length(CAST({command} AS BLOB)) > {COMMAND_MAX_CHARS}"
            f" AND length({command}) > {COMMAND_MAX_CHARS} THEN '{TOO_LONG}' END",
        ),
        "state": (
            f"({state} IS NOT NULL AND {state} GLOB '[A-Z]')",
            f"CASE WHEN {state} IS NULL THEN '{MISSING}'"
            f" WHEN NOT {state} GLOB '[A-Z]' THEN '{BAD_STATE}' END",
        ),
        "cpu_percent": _number_check(f"{a}.cpu_percent", REAL_BOUND, nullable=False, whole=False),
        "rss_mb": _number_check(f"{a}.rss_mb", REAL_BOUND, nullable=False, whole=False),
        "vms_mb": _number_check(f"{a}.vms_mb", REAL_BOUND, nullable=False, whole=False),
        "threads": _number_check(f"{a}.threads", INTEGER_BOUND, nullable=False, whole=True),
        "open_fds": _number_check(f"{a}.open_fds", INTEGER_BOUND, nullable=False, whole=True),
        "age_seconds": _number_check(f"{a}.age_seconds", REAL_BOUND, nullable=False, whole=False),
        "job_id": (
            f"({a}.job_id IS NULL OR ({a}.job_id >= '' AND {a}.job_id < x''))",
            f"CASE WHEN typeof({a}.job_id) NOT IN ('text', 'null') THEN '{NOT_TEXT}' END",
        ),
        "sheet_num": (
            f"({a}.sheet_num IS NULL OR ({a}.sheet_num < ''"
            f" AND {a}.sheet_num = CAST({a}.sheet_num AS INTEGER)))",
            f"CASE WHEN typeof({a}.sheet_num) NOT IN ('integer', 'null') THEN '{NOT_WHOLE}' END",
        ),
        "syscall_counts": _json_check(
            f"{a}.syscall_counts", f"value >= 0 AND value < {REAL_BOUND} AND value = round(value)"
        ),
        "syscall_time_pct": _json_check(f"{a}.syscall_time_pct", "value >= 0 AND value <= 100"),
    }
    if has_extras:
        checks["mzt_start_time"] = _number_check(
            f"{a}.mzt_start_time", REAL_BOUND, nullable=True, whole=False
        )
        checks["mzt_gpu_memory_mb"] = _number_check(
            f"{a}.mzt_gpu_memory_mb", REAL_BOUND, nullable=True, whole=False
        )
    return checks


def note_process_faults(
    conn: sqlite3.Connection,
    repairs: RepairLog,
    *,
    has_extras: bool,
    source: str,
    where: str,
    params: list[Any],
    snapshot_id: str = "pm.snapshot_id",
    columns: tuple[str, ...] | None = None,
) -> None:
    """Note what a read of `process_metrics pm` rows repairs, for rows of other writers only.

    Args:
        conn: A connection inside the read's transaction.
        repairs: Where the faults go.
        has_extras: Whether the file has our `mzt_*` schema.
        source: The FROM clause, naming `process_metrics` as `pm` (with `snapshots s` if
            `where` needs it).
        where: The read's own filter (the rows it reads).
        params: The filter's parameters.
        snapshot_id: The column that tells a row's snapshot (`s.id` when `source` drives
            from `snapshots s`: our snapshots are then passed over without their rows).
        columns: Only these columns are checked (those the read returns); all by default.
    """
    checks = _process_checks("pm", has_extras=has_extras)
    names = tuple(name for name in checks if columns is None or name in columns)
    if not names:
        return
    foreign = (
        f" AND {snapshot_id} NOT IN (SELECT snapshot_id FROM mzt_snapshot_extras)"
        if has_extras
        else ""
    )
    # Every row is tested with plain comparisons (cheap VM steps, never NULL); only the
    # rare row that fails one has its faults named.
    valid = " AND ".join(checks[name][0] for name in names)
    faults = ", ".join(checks[name][1] for name in names)
    rows = conn.execute(
        f"SELECT pm.id, {faults} FROM {source} WHERE {where}{foreign} AND NOT ({valid})",
        params,
    )
    repairs.note_faults("process_metrics", names, rows)


def _event_fault_sql(known_types: str) -> dict[str, str]:
    """The fault expression of each checked column of `process_events` (a skip first)."""
    number = "typeof({0}) NOT IN ('integer', 'real')"
    return {
        "event_type": (
            f"CASE WHEN event_type IS NULL OR event_type NOT IN ({known_types})"
            f" THEN '{UNKNOWN_SKIPPED}' END"
        ),
        "timestamp": (
            f"CASE WHEN {number.format('timestamp')} THEN '{NOT_A_NUMBER}'"
            f" WHEN timestamp < 0 THEN '{NEGATIVE}' END"
        ),
        "pid": (
            f"CASE WHEN pid IS NULL THEN '{MISSING}' WHEN {number.format('pid')}"
            f" THEN '{NOT_A_NUMBER}' WHEN pid < 0 THEN '{NEGATIVE}' END"
        ),
        "signal_num": (
            f"CASE WHEN signal_num IS NULL THEN NULL WHEN {number.format('signal_num')}"
            f" THEN '{NOT_A_NUMBER}' WHEN signal_num < 0 THEN '{NEGATIVE}' END"
        ),
    }


def note_event_faults(
    conn: sqlite3.Connection,
    repairs: RepairLog,
    *,
    known_types: str,
    where: str,
    params: list[Any],
) -> None:
    """Note the events a read of `process_events` (filtered by `where`) skips or repairs.

    Args:
        conn: A connection inside the read's transaction.
        repairs: Where the faults go.
        known_types: The SQL list of the event types read (the rest are skipped).
        where: The read's window and job filter.
        params: Its parameters.
    """
    faults = _event_fault_sql(known_types)
    skip, *repaired = faults.values()
    rows = conn.execute(
        f"SELECT id, {skip}, {', '.join(repaired)} FROM process_events WHERE {where}"
        f" AND COALESCE({', '.join(faults.values())}) IS NOT NULL",
        params,
    ).fetchall()
    # A skipped row is only skipped: what else is wrong with it was never read.
    repairs.note_faults(
        "process_events",
        tuple(faults),
        (row if row[1] is None else (*row[:2], *(None,) * len(repaired)) for row in rows),
    )


# -- Python (snapshot rows) --------------------------------------------------------------


def number_fault(value: Any, *, whole: bool = False, upper: float = math.inf) -> str | None:
    """What a read of a non-negative number column repairs in `value`, or None."""
    if value is None:
        return MISSING
    if isinstance(value, bool) or not isinstance(value, int | float):
        return NOT_A_NUMBER
    if value < 0:
        return NEGATIVE
    if not math.isfinite(value) or value > upper:
        return TOO_LARGE
    if whole and isinstance(value, float) and not value.is_integer():
        return NOT_WHOLE
    return None


def list_fault(text: Any, *, upper: float = math.inf) -> str | None:
    """What a read of a JSON array of numbers (a GPU column) repairs, or None."""
    if text is None or text == "[]":
        return None
    try:
        parsed = json.loads(text)
    except (ValueError, TypeError):
        return INVALID_JSON
    if not isinstance(parsed, list):
        return NOT_ARRAY
    if any(number_fault(item, upper=upper) for item in parsed):
        return BAD_ENTRIES
    return None


def choice_fault(value: Any, allowed: frozenset[str]) -> str | None:
    """What a read of a column that holds one of `allowed` repairs, or None."""
    if value is None:
        return MISSING
    return None if value in allowed else UNKNOWN


RowCheck = tuple[str, int, Callable[[Any], str | None]]
"""(column name, position in the row, the check of its value)."""


def row_faults(row: tuple[Any, ...], checks: tuple[RowCheck, ...]) -> tuple[str | None, ...]:
    """The fault of each checked column of `row`, in `checks` order."""
    return tuple(check(row[position]) for _, position, check in checks)
