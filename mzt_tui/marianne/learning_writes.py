"""How a pattern is written: the conductor's insert and update rules, column by column.

Only columns the file's `patterns` table has are written, so a file from an
older conductor (before soft delete or content hashes) takes our rows too; the
conductor adds the missing columns when it migrates.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from mzt_tui.marianne.sqlite_files import table_columns


def checked_tags(context_tags: Sequence[str]) -> tuple[str, ...]:
    """Return the tags as a tuple, refusing a bare string or anything that is not text."""
    if isinstance(context_tags, str):
        raise ValueError("context_tags must be a sequence of 'key:value' strings, not one string")
    tags = tuple(context_tags)
    for tag in tags:
        if not isinstance(tag, str):
            raise ValueError(f"context tag {tag!r} is not a string")
    return tags


@dataclass(frozen=True, slots=True, kw_only=True)
class PatternFields:
    """What `record_pattern` writes, computed before the transaction opens."""

    pattern_id: str
    pattern_type: str
    name: str
    description: str
    suggested_action: str | None
    tags_json: str
    content_hash: str
    effectiveness_score: float | None
    priority_score: float | None
    active: bool
    instrument_name: str | None
    provenance_job_hash: str | None
    provenance_sheet_num: int | None


def upsert_pattern(connection: sqlite3.Connection, fields: PatternFields, now: str) -> None:
    """Update the row with this ID if there is one, else insert it (inside the transaction)."""
    columns = set(table_columns(connection, "patterns"))
    exists = connection.execute(
        "SELECT 1 FROM patterns WHERE id = ?", (fields.pattern_id,)
    ).fetchone()
    if exists is not None:
        assignments: list[tuple[str, str, object]] = [
            ("occurrence_count", "COALESCE(occurrence_count, 1) + 1", None),
            ("last_seen", "?", now),
            ("description", "?", fields.description),
            ("suggested_action", "COALESCE(?, suggested_action)", fields.suggested_action),
            ("context_tags", "?", fields.tags_json),
            ("content_hash", "?", fields.content_hash),
            ("active", "?", int(fields.active)),
            # Rows written elsewhere may lack these; the conductor's reader needs them.
            ("first_seen", "COALESCE(first_seen, ?)", now),
            ("last_confirmed", "COALESCE(last_confirmed, ?)", now),
        ]
        if fields.effectiveness_score is not None:
            assignments.append(("effectiveness_score", "?", fields.effectiveness_score))
        if fields.priority_score is not None:
            assignments.append(("priority_score", "?", fields.priority_score))
        present = [item for item in assignments if item[0] in columns]
        set_sql = ", ".join(f"{column} = {expression}" for column, expression, _ in present)
        params = [value for _, expression, value in present if "?" in expression]
        connection.execute(
            f"UPDATE patterns SET {set_sql} WHERE id = ?", (*params, fields.pattern_id)
        )
        return
    values: dict[str, object] = {
        "id": fields.pattern_id,
        "pattern_type": fields.pattern_type,
        "pattern_name": fields.name,
        "description": fields.description,
        "occurrence_count": 1,
        "first_seen": now,
        "last_seen": now,
        "last_confirmed": now,
        "led_to_success_count": 0,
        "led_to_failure_count": 0,
        "effectiveness_score": 0.5
        if fields.effectiveness_score is None
        else fields.effectiveness_score,
        "variance": 0.0,
        "suggested_action": fields.suggested_action,
        "context_tags": fields.tags_json,
        "priority_score": 0.5 if fields.priority_score is None else fields.priority_score,
        "quarantine_status": "pending",
        "provenance_job_hash": fields.provenance_job_hash,
        "provenance_sheet_num": fields.provenance_sheet_num,
        "trust_score": 0.5,
        "trust_calculation_date": now,
        "content_hash": fields.content_hash,
        "instrument_name": fields.instrument_name,
        "active": int(fields.active),
    }
    present_values = {column: value for column, value in values.items() if column in columns}
    column_sql = ", ".join(present_values)
    placeholders = ", ".join("?" for _ in present_values)
    connection.execute(
        f"INSERT INTO patterns ({column_sql}) VALUES ({placeholders})",
        tuple(present_values.values()),
    )
