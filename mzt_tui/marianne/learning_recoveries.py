"""The learning store's error recoveries: waits after errors, and the waits learned from them.

The conductor's API over `error_recoveries` (record_error_recovery, get_learned_wait_time,
get_learned_wait_time_with_fallback, get_error_recovery_sample_count) with the same rows
and the same values. Where the conductor ignores its `model` argument (the sample count
behind a learned wait's confidence), it is honoured here.
"""

from __future__ import annotations

import math
import sqlite3
import uuid
from datetime import datetime

from mzt_tui.marianne.checkpoint import as_float, as_int, as_str
from mzt_tui.marianne.learning_access import StoreAccess, insert_known_columns
from mzt_tui.marianne.learning_executions import local_iso
from mzt_tui.marianne.learning_rows import parse_iso
from mzt_tui.models.outcomes import (
    MIN_WAIT_CONFIDENCE,
    MIN_WAIT_SAMPLES,
    WAIT_HISTORY,
    ErrorRecoveryRecord,
    LearnedWait,
    learned_wait_seconds,
    wait_with_fallback,
)


def _local_hour(moment: datetime) -> int:
    """The local hour of `moment` (a naive time is taken as local already)."""
    return moment.hour if moment.tzinfo is None else moment.astimezone().hour


def _checked_wait(label: str, seconds: float) -> float:
    """Return `seconds` as a float, refusing what would poison the averages."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ValueError(f"{label} must be a number of seconds, not {seconds!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{label} must be a finite number of seconds ≥ 0, not {seconds!r}")
    return float(seconds)


def _model_clause(model: str | None) -> tuple[str, tuple[object, ...]]:
    """The SQL and parameters that keep only `model`'s rows (nothing for no model)."""
    return (" AND model = ?", (model,)) if model else ("", ())


class RecoveriesMixin(StoreAccess):
    """Error recoveries in `error_recoveries`; mixed into `LearningStore`."""

    def record_error_recovery(
        self,
        error_code: str,
        suggested_wait: float,
        actual_wait: float,
        recovery_success: bool,
        model: str | None = None,
    ) -> str:
        """Record a wait after an error and whether the retry after it succeeded.

        The row carries the time (naive local ISO text) and its local hour, which the
        hour-of-day window groups by.

        Args:
            error_code: The error code (`E101` ...).
            suggested_wait: Seconds the retry strategy suggested.
            actual_wait: Seconds actually waited.
            recovery_success: Whether the retry after the wait succeeded.
            model: The model, if known.

        Returns:
            The new row's ID.

        Raises:
            ValueError: An empty error code, or a wait that is negative or not finite.
            NewerSchemaError: The file's schema is newer than this code writes.
            StoreError: The file cannot be written (after retrying while it is locked).
        """
        if not isinstance(error_code, str) or not error_code.strip():
            raise ValueError("error_code must be a non-empty string")
        values: dict[str, object] = {
            "id": str(uuid.uuid4()),
            "error_code": error_code,
            "suggested_wait": _checked_wait("suggested_wait", suggested_wait),
            "actual_wait": _checked_wait("actual_wait", actual_wait),
            "recovery_success": int(bool(recovery_success)),
            "model": model,
        }

        def insert(connection: sqlite3.Connection) -> str:
            now = self._now()
            values["recorded_at"] = local_iso(now)
            values["time_of_day"] = _local_hour(now)
            insert_known_columns(connection, "error_recoveries", values)
            return str(values["id"])

        return self._write(insert)

    def get_learned_wait_time(
        self, error_code: str, model: str | None = None, min_samples: int = MIN_WAIT_SAMPLES
    ) -> float | None:
        """Return the wait learned for an error code, or None with too few samples.

        The mean and the shortest of the last 20 successful waits, averaged.

        Args:
            error_code: The error code.
            model: Only this model's recoveries.
            min_samples: Successful waits needed before anything is learned.

        Raises:
            StoreError: The file is not a readable database.
        """
        model_sql, model_params = _model_clause(model)
        rows = self._read(
            "SELECT actual_wait FROM error_recoveries"
            f" WHERE error_code = ?{model_sql} AND recovery_success = 1"
            " ORDER BY recorded_at DESC, rowid DESC LIMIT ?",
            (error_code, *model_params, WAIT_HISTORY),
        )
        waits = [wait for row in rows if (wait := as_float(row["actual_wait"])) is not None]
        return learned_wait_seconds(waits, min_samples)

    def get_learned_wait_time_with_fallback(
        self,
        error_code: str,
        static_delay: float,
        model: str | None = None,
        min_samples: int = MIN_WAIT_SAMPLES,
        min_confidence: float = MIN_WAIT_CONFIDENCE,
    ) -> LearnedWait:
        """Return `(delay_seconds, confidence, strategy)` for an error code.

        The learned wait, floored at half the static delay and blended with it below
        `min_confidence`; the static delay when nothing is learned (see
        `wait_with_fallback`). Confidence counts every successful recovery of the code
        (of `model` when given: the conductor counts every model's here).

        Raises:
            StoreError: The file is not a readable database.
        """
        learned = self.get_learned_wait_time(error_code, model, min_samples)
        if learned is None:
            return wait_with_fallback(None, 0, static_delay, min_confidence)
        count = self.get_error_recovery_sample_count(error_code, model=model)
        return wait_with_fallback(learned, count, static_delay, min_confidence)

    def get_error_recovery_sample_count(self, error_code: str, *, model: str | None = None) -> int:
        """Return how many recoveries from an error code succeeded (of `model`, when given).

        Raises:
            StoreError: The file is not a readable database.
        """
        model_sql, model_params = _model_clause(model)
        rows = self._read(
            "SELECT COUNT(*) AS count FROM error_recoveries"
            f" WHERE error_code = ? AND recovery_success = 1{model_sql}",
            (error_code, *model_params),
        )
        return (as_int(rows[0]["count"]) or 0) if rows else 0

    def recovery_error_codes(self, model: str | None = None) -> list[str]:
        """Return every error code with recorded recoveries (of `model`, when given), sorted.

        Raises:
            StoreError: The file is not a readable database.
        """
        model_sql, model_params = _model_clause(model)
        rows = self._read(
            "SELECT DISTINCT error_code FROM error_recoveries"
            f" WHERE error_code IS NOT NULL{model_sql} ORDER BY error_code",
            model_params,
        )
        return [code for row in rows if (code := as_str(row["error_code"]))]

    def read_error_recoveries(
        self, limit: int = 20, *, error_code: str | None = None
    ) -> list[ErrorRecoveryRecord]:
        """Return recorded recoveries, newest first.

        Raises:
            StoreError: The file is not a readable database.
        """
        where, params = ("", ()) if error_code is None else (" WHERE error_code = ?", (error_code,))
        rows = self._read(
            f"SELECT * FROM error_recoveries{where} ORDER BY recorded_at DESC, rowid DESC LIMIT ?",
            (*params, max(0, limit)),
        )
        return [
            ErrorRecoveryRecord(
                id=as_str(row.get("id")) or "",
                error_code=as_str(row.get("error_code")) or "",
                suggested_wait=as_float(row.get("suggested_wait")),
                actual_wait=as_float(row.get("actual_wait")),
                recovery_success=bool(row.get("recovery_success")),
                recorded_at=parse_iso(row.get("recorded_at")),
                model=as_str(row.get("model")),
                time_of_day=as_int(row.get("time_of_day")),
            )
            for row in rows
        ]
