"""Rows of global-learning.db into models, with the conductor's reader's clamping.

The conductor's reader clamps scores into range when it reads them (an old row
with `validation_pass_rate` 50.0 comes back as 1.0). These converters return
the same values, never raise on an odd row (bad JSON, NULLs, text timestamps
that do not parse), and work on rows of older schemas that lack columns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from mzt_tui.marianne.checkpoint import as_float, as_int, as_str
from mzt_tui.models.learning import ExecutionRecord, LearnedPattern

Row = Mapping[str, object]


def _clamp(value: float, low: float, high: float) -> float:
    """Return `value` limited to `[low, high]`."""
    return max(low, min(high, value))


def parse_iso(value: object) -> datetime | None:
    """Parse an ISO-8601 text timestamp as stored (naive local or with a zone); None if not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _json_list(raw: object) -> tuple[str, ...] | None:
    """Parse a JSON array of scalars into strings; None when it is not one."""
    if raw is None:
        return ()
    if not isinstance(raw, str | bytes):
        return None
    try:
        parsed = json.loads(raw or "[]")
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, list):
        return None
    return tuple(
        item if isinstance(item, str) else json.dumps(item)
        for item in parsed
        if not isinstance(item, dict | list)
    )


def parse_tags(raw: object) -> tuple[str, ...]:
    """Parse `context_tags` (a JSON array of `key:value` strings); () when unreadable."""
    return _json_list(raw) or ()


def _float_or(value: object, default: float) -> float:
    """Return `value` as a float, or `default` when it is NULL or not a number."""
    number = as_float(value)
    return default if number is None else number


def _int_or(value: object, default: int) -> int:
    """Return `value` as an int, or `default` when it is NULL or not an integer."""
    number = as_int(value)
    return default if number is None else number


def pattern_from_row(row: Row) -> LearnedPattern:
    """Build a `LearnedPattern` from a `patterns` row (any schema version).

    Args:
        row: Column name to value; missing columns read as NULL.
    """
    active = row.get("active")
    return LearnedPattern(
        id=as_str(row.get("id")) or "",
        pattern_type=as_str(row.get("pattern_type")) or "",
        pattern_name=as_str(row.get("pattern_name")) or "",
        description=as_str(row.get("description")),
        occurrence_count=_int_or(row.get("occurrence_count"), 1),
        first_seen=parse_iso(row.get("first_seen")),
        last_seen=parse_iso(row.get("last_seen")),
        last_confirmed=parse_iso(row.get("last_confirmed")),
        led_to_success_count=_int_or(row.get("led_to_success_count"), 0),
        led_to_failure_count=_int_or(row.get("led_to_failure_count"), 0),
        effectiveness_score=_clamp(_float_or(row.get("effectiveness_score"), 0.5), 0.0, 1.0),
        variance=max(0.0, _float_or(row.get("variance"), 0.0)),
        suggested_action=as_str(row.get("suggested_action")),
        context_tags=parse_tags(row.get("context_tags")),
        priority_score=max(0.0, _float_or(row.get("priority_score"), 0.5)),
        quarantine_status=as_str(row.get("quarantine_status")) or "pending",
        trust_score=_clamp(_float_or(row.get("trust_score"), 0.5), 0.0, 1.0),
        # NULL means a row from before soft delete existed: active.
        active=True if active is None else bool(active),
        content_hash=as_str(row.get("content_hash")),
        instrument_name=as_str(row.get("instrument_name")),
    )


def execution_from_row(row: Row) -> ExecutionRecord:
    """Build an `ExecutionRecord` from an `executions` row, as the conductor's reader does.

    Args:
        row: Column name to value; missing columns read as NULL.
    """
    stored_pass_rate = as_float(row.get("validation_pass_rate"))
    return ExecutionRecord(
        id=as_str(row.get("id")) or "",
        workspace_hash=as_str(row.get("workspace_hash")) or "",
        job_hash=as_str(row.get("job_hash")) or "",
        sheet_num=_int_or(row.get("sheet_num"), 0),
        started_at=parse_iso(row.get("started_at")),
        completed_at=parse_iso(row.get("completed_at")),
        duration_seconds=max(0.0, _float_or(row.get("duration_seconds"), 0.0)),
        status=as_str(row.get("status")) or "",
        retry_count=max(0, _int_or(row.get("retry_count"), 0)),
        success_without_retry=bool(row.get("success_without_retry")),
        validation_pass_rate=_clamp(stored_pass_rate or 0.0, 0.0, 1.0),
        confidence_score=_clamp(_float_or(row.get("confidence_score"), 0.0), 0.0, 1.0),
        model=as_str(row.get("model")),
        error_codes=_json_list(row.get("error_codes")) or (),
        validation_pass_rate_stored=stored_pass_rate,
    )
