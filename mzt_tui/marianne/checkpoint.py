"""Parse a registry row's `checkpoint_json` into sheets, tolerating anything.

The conductor rewrites this JSON on every change. Whatever it holds (nothing,
garbage, an older layout, odd values in a field), parsing never raises: the
sheets that can be read are returned and what could not is described in
`error`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mzt_tui.models.jobs import SheetState

_MAX_ERROR_CHARS = 300
_DECIMAL_INT = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True, slots=True)
class ParsedCheckpoint:
    """What could be read from one `checkpoint_json`.

    Attributes:
        sheets: Sheets by number.
        total_sheets: The checkpoint's sheet count (current, unlike the row's).
        last_completed_sheet: The highest sheet number completed so far.
        error: Why some or all of it could not be read; None when all was fine.
    """

    sheets: dict[int, SheetState] = field(default_factory=dict)
    total_sheets: int | None = None
    last_completed_sheet: int | None = None
    error: str | None = None


def as_int(value: object) -> int | None:
    """Return `value` as an int when it plainly is one (bools are not), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _DECIMAL_INT.fullmatch(text):
            return int(text)
    return None


def as_float(value: object) -> float | None:
    """Return `value` as a finite float when it is a number, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_str(value: object) -> str | None:
    """Return `value` as text (numbers are written out), None for None and containers."""
    if value is None or isinstance(value, dict | list):
        return None
    return value if isinstance(value, str) else str(value)


def as_bool(value: object) -> bool | None:
    """Return `value` as a bool when it is one (or the integers 0 and 1), else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def parse_utc(value: object) -> datetime | None:
    """Parse an ISO-8601 timestamp; one without a zone is UTC, as the conductor writes them."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _sheet_from_json(sheet_num: int, raw: dict[str, Any]) -> SheetState:
    """Build one sheet from its JSON object, each field coerced or dropped."""
    return SheetState(
        sheet_num=sheet_num,
        status=as_str(raw.get("status")) or "pending",
        started_at=parse_utc(raw.get("started_at")),
        completed_at=parse_utc(raw.get("completed_at")),
        attempt_count=as_int(raw.get("attempt_count")) or 0,
        exit_code=as_int(raw.get("exit_code")),
        exit_signal=as_int(raw.get("exit_signal")),
        exit_reason=as_str(raw.get("exit_reason")),
        instrument_name=as_str(raw.get("instrument_name")),
        instrument_model=as_str(raw.get("instrument_model")),
        execution_duration_seconds=as_float(raw.get("execution_duration_seconds")),
        validation_passed=as_bool(raw.get("validation_passed")),
        error_code=as_str(raw.get("error_code")),
        error_message=as_str(raw.get("error_message")),
    )


def _sheet_entries(raw_sheets: object) -> tuple[list[tuple[object, object]], str | None]:
    """List `(key, value)` pairs of the `sheets` member, whatever its layout."""
    if raw_sheets is None:
        return [], None
    if isinstance(raw_sheets, dict):
        return list(raw_sheets.items()), None
    if isinstance(raw_sheets, list):
        # An older or foreign layout: a list of sheet objects carrying `sheet_num`.
        return [(None, item) for item in raw_sheets], None
    return [], f"'sheets' is not an object but a JSON {type(raw_sheets).__name__}"


def _parse_sheets(raw_sheets: object) -> tuple[dict[int, SheetState], list[str]]:
    """Parse every readable sheet; describe each one that is not."""
    entries, layout_problem = _sheet_entries(raw_sheets)
    problems = [layout_problem] if layout_problem else []
    sheets: dict[int, SheetState] = {}
    for key, value in entries:
        if not isinstance(value, dict):
            problems.append(f"sheet {key!s} is not an object")
            continue
        sheet_num = as_int(key) if key is not None else None
        if sheet_num is None:
            sheet_num = as_int(value.get("sheet_num"))
        if sheet_num is None:
            problems.append(f"sheet key {key!r} is not a sheet number")
            continue
        sheets[sheet_num] = _sheet_from_json(sheet_num, value)
    return sheets, problems


def _describe(problems: list[str]) -> str | None:
    """Join problems into one short line, or None when there are none."""
    if not problems:
        return None
    text = " ".join("; ".join(problems).split())
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"


def parse_checkpoint(raw: str | bytes | None) -> ParsedCheckpoint:
    """Parse `checkpoint_json` as the registry stores it.

    Args:
        raw: The column's value: JSON text, bytes, or None when the job has none yet.

    Returns:
        The sheets and counters found; `error` says what was unreadable.
    """
    if raw is None:
        return ParsedCheckpoint()
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return ParsedCheckpoint(error="checkpoint_json is not UTF-8 text")
    if not raw.strip():
        return ParsedCheckpoint()
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return ParsedCheckpoint(error=_describe([f"checkpoint_json is not valid JSON: {exc}"]))
    if not isinstance(data, dict):
        return ParsedCheckpoint(
            error=f"checkpoint_json is a JSON {type(data).__name__}, not an object"
        )
    sheets, problems = _parse_sheets(data.get("sheets"))
    return ParsedCheckpoint(
        sheets=sheets,
        total_sheets=as_int(data.get("total_sheets")),
        last_completed_sheet=as_int(data.get("last_completed_sheet")),
        error=_describe(problems),
    )
