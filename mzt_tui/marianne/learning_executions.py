"""The learning store's executions: sheet outcomes recorded, counted and looked up.

The conductor's execution API over `executions` (record_outcome, get_execution_stats,
get_recent_executions, get_similar_executions, get_optimal_execution_window), with the
same rows written and the same values returned, plus `record_sheet_outcome_once`, which
records a sheet attempt taken from the registry at most once.

Rows are written as the conductor writes them: a uuid4 ID, the job and workspace hashes,
`started_at` as the outcome's timestamp in ISO form with its zone as given (the
conductor's is UTC, `+00:00`), `completed_at` as naive local ISO time, the error codes as
a JSON array and the booleans as 0 and 1.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import datetime
from pathlib import Path

from mzt_tui.marianne import learning_hashes
from mzt_tui.marianne.checkpoint import as_int
from mzt_tui.marianne.learning_access import StoreAccess, insert_known_columns
from mzt_tui.models.jobs import JobRecord, SheetState
from mzt_tui.models.learning import ExecutionRecord
from mzt_tui.models.outcomes import (
    ExecutionStats,
    HourSuccess,
    OptimalWindow,
    SheetOutcome,
    optimal_window,
    outcome_from_sheet,
)

RECORDED_OUTCOMES_TABLE = "mzt_recorded_outcomes"
"""Our own table: which sheet attempts mzt_tui has recorded, so none is recorded twice."""

_RECORDED_OUTCOMES_DDL = f"""
    CREATE TABLE IF NOT EXISTS {RECORDED_OUTCOMES_TABLE} (
        job_id TEXT NOT NULL,
        sheet_num INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        attempt_started_at TEXT NOT NULL,
        execution_id TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (job_id, sheet_num, attempt, attempt_started_at)
    )
"""


def local_iso(moment: datetime) -> str:
    """Return `moment` as naive local ISO text, the form of the conductor's `completed_at`."""
    if moment.tzinfo is None:
        return moment.isoformat()
    return moment.astimezone().replace(tzinfo=None).isoformat()


def attempt_key(sheet: SheetState) -> tuple[int, int, str]:
    """Return what names one attempt of a sheet within a job: number, attempt, start.

    The start time tells apart two runs of a job under the same name (the job ID is the
    score's name, so a score run again starts again at sheet 1, attempt 1).
    """
    started = sheet.started_at.isoformat() if sheet.started_at is not None else ""
    return (sheet.sheet_num, sheet.attempt_count, started)


class ExecutionsMixin(StoreAccess):
    """Sheet outcomes in `executions`; mixed into `LearningStore`."""

    def read_executions(
        self,
        limit: int = 20,
        *,
        job_hash: str | None = None,
        workspace_hash: str | None = None,
        sheet_num: int | None = None,
    ) -> list[ExecutionRecord]:
        """Return execution records, newest first (`LearningStore` defines it)."""
        raise NotImplementedError

    # Recording -----------------------------------------------------------------------

    def record_outcome(
        self,
        outcome: SheetOutcome,
        workspace_path: str | Path,
        model: str | None = None,
        error_codes: list[str] | None = None,
    ) -> str:
        """Record a sheet outcome as a new `executions` row; return its ID.

        Args:
            outcome: The outcome.
            workspace_path: The job's workspace (hashed, resolved, as the conductor does).
            model: The model that ran the sheet; None takes the outcome's `model`.
            error_codes: The error codes met; None takes the outcome's `error_codes`.

        Raises:
            NewerSchemaError: The file's schema is newer than this code writes.
            StoreError: The file cannot be written (after retrying while it is locked).
        """
        execution_id = str(uuid.uuid4())
        values = self._execution_values(execution_id, outcome, workspace_path, model, error_codes)

        def insert(connection: sqlite3.Connection) -> str:
            values["completed_at"] = self._completed_at(outcome)
            insert_known_columns(connection, "executions", values)
            return execution_id

        return self._write(insert)

    def record_sheet_outcome_once(
        self, job: JobRecord, sheet: SheetState, *, model: str | None = None
    ) -> str | None:
        """Record a finished sheet attempt from the registry unless it was recorded before.

        An attempt is named by the job ID, the sheet number, the attempt count and the
        attempt's start time; `mzt_recorded_outcomes` keeps the names already recorded.
        Its row and the `executions` row are written in one transaction, so a crash or a
        lock never leaves one without the other, and two recorders racing record once.

        Args:
            job: The job, with its workspace.
            sheet: A sheet of it in a final status (completed, failed, skipped, cancelled).
            model: The model; None takes the sheet's `instrument_model`.

        Returns:
            The new execution's ID, or None when this attempt was already recorded.

        Raises:
            ValueError: The sheet has not finished, or the job has no workspace.
            NewerSchemaError: The file's schema is newer than this code writes.
            StoreError: The file cannot be written (after retrying while it is locked).
        """
        if not sheet.finished:
            raise ValueError(
                f"sheet {sheet.sheet_num} of job {job.job_id!r} has not finished ({sheet.status})"
            )
        if not job.workspace:
            raise ValueError(f"job {job.job_id!r} has no workspace to hash")
        sheet_num, attempt, started = attempt_key(sheet)
        key = (job.job_id, sheet_num, attempt, started)
        if self._attempt_recorded(key):
            return None
        outcome = outcome_from_sheet(job, sheet)
        execution_id = str(uuid.uuid4())
        values = self._execution_values(execution_id, outcome, job.workspace, model, None)

        def insert_once(connection: sqlite3.Connection) -> str | None:
            connection.execute(_RECORDED_OUTCOMES_DDL)
            cursor = connection.execute(
                f"INSERT OR IGNORE INTO {RECORDED_OUTCOMES_TABLE} (job_id, sheet_num, attempt,"
                " attempt_started_at, execution_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
                (*key, execution_id, self._now().isoformat()),
            )
            if cursor.rowcount == 0:
                return None  # recorded meanwhile by another recorder
            values["completed_at"] = self._completed_at(outcome)
            insert_known_columns(connection, "executions", values)
            return execution_id

        return self._write(insert_once)

    def recorded_sheet_attempts(self, job_id: str) -> set[tuple[int, int, str]]:
        """Return the attempts of a job already recorded, as `attempt_key` names them.

        One read for a whole job, so a recorder can skip the sheets it has done without
        asking about each (`record_sheet_outcome_once` stays the guarantee).

        Raises:
            StoreError: The file is not a readable database.
        """
        rows = self._read(
            f"SELECT sheet_num, attempt, attempt_started_at FROM {RECORDED_OUTCOMES_TABLE}"
            " WHERE job_id = ?",
            (job_id,),
        )
        return {
            (
                as_int(row["sheet_num"]) or 0,
                as_int(row["attempt"]) or 0,
                str(row["attempt_started_at"]),
            )
            for row in rows
        }

    def _attempt_recorded(self, key: tuple[str, int, int, str]) -> bool:
        """Whether this sheet attempt is in `mzt_recorded_outcomes` (read-only: no lock taken)."""
        rows = self._read(
            f"SELECT 1 AS found FROM {RECORDED_OUTCOMES_TABLE} WHERE job_id = ? AND sheet_num = ?"
            " AND attempt = ? AND attempt_started_at = ?",
            key,
        )
        return bool(rows)

    def _completed_at(self, outcome: SheetOutcome) -> str:
        """The outcome's end as naive local ISO text; now when it has none."""
        return local_iso(outcome.completed_at or self._now())

    def _execution_values(
        self,
        execution_id: str,
        outcome: SheetOutcome,
        workspace_path: str | Path,
        model: str | None,
        error_codes: list[str] | None,
    ) -> dict[str, object]:
        """The `executions` row for `outcome` (without `completed_at`, set when written)."""
        codes = list(outcome.error_codes) if error_codes is None else list(error_codes)
        for code in codes:
            if not isinstance(code, str):
                raise ValueError(f"error code {code!r} is not a string")
        return {
            "id": execution_id,
            "workspace_hash": learning_hashes.hash_workspace(workspace_path),
            "job_hash": learning_hashes.hash_job(outcome.job_id),
            "sheet_num": outcome.sheet_num,
            "started_at": outcome.timestamp.isoformat(),
            "duration_seconds": outcome.execution_duration,
            "status": outcome.final_status,
            "retry_count": outcome.retry_count,
            "success_without_retry": int(outcome.success_without_retry),
            "validation_pass_rate": outcome.validation_pass_rate,
            "confidence_score": outcome.confidence,
            "model": outcome.model if model is None else model,
            "error_codes": json.dumps(codes),
        }

    # Reading -------------------------------------------------------------------------

    def _scalar(self, sql: str, params: tuple[object, ...] = ()) -> object:
        """The first column of the first row of a query; None without rows."""
        rows = self._read(sql, params)
        return next(iter(rows[0].values())) if rows else None

    def _count(self, sql: str, params: tuple[object, ...] = ()) -> int:
        """A `COUNT(*)` query's value; 0 when the table is missing."""
        return as_int(self._scalar(sql, params)) or 0

    def get_execution_stats(self) -> ExecutionStats:
        """Return the conductor's aggregate statistics (zeros for a missing file).

        Raises:
            StoreError: The file is not a readable database.
        """
        totals = self._read(
            "SELECT SUM(CASE WHEN success_without_retry THEN 1 ELSE 0 END) AS successes,"
            " COUNT(*) AS total FROM executions"
        )
        first = totals[0] if totals else {}
        total = as_int(first.get("total")) or 0
        successes = as_int(first.get("successes")) or 0
        average = self._scalar("SELECT AVG(effectiveness_score) AS avg FROM patterns")
        return ExecutionStats(
            total_executions=self._count("SELECT COUNT(*) AS count FROM executions"),
            success_without_retry_rate=successes / total if total > 0 else 0.0,
            total_patterns=self._count("SELECT COUNT(*) AS count FROM patterns"),
            avg_pattern_effectiveness=float(average) if isinstance(average, int | float) else 0.0,
            total_error_recoveries=self._count("SELECT COUNT(*) AS count FROM error_recoveries"),
            unique_workspaces=self._count(
                "SELECT COUNT(DISTINCT workspace_hash) AS count FROM executions"
            ),
        )

    def get_recent_executions(
        self, limit: int = 20, workspace_hash: str | None = None
    ) -> list[ExecutionRecord]:
        """Return the latest execution records, newest `completed_at` first.

        Args:
            limit: At most this many.
            workspace_hash: Only this workspace (an empty value filters nothing).

        Raises:
            StoreError: The file is not a readable database.
        """
        return self.read_executions(limit, workspace_hash=workspace_hash or None)

    def get_similar_executions(
        self,
        job_hash: str | None = None,
        workspace_hash: str | None = None,
        sheet_num: int | None = None,
        limit: int = 10,
    ) -> list[ExecutionRecord]:
        """Return execution records matching every filter given, newest first.

        Raises:
            StoreError: The file is not a readable database.
        """
        return self.read_executions(
            limit, job_hash=job_hash, workspace_hash=workspace_hash, sheet_num=sheet_num
        )

    def hour_success(
        self, error_code: str | None = None, model: str | None = None
    ) -> list[HourSuccess]:
        """Return error recoveries grouped by the local hour they were recorded in.

        Args:
            error_code: Only this error code (an empty value filters nothing).
            model: Only this model (an empty value filters nothing).

        Raises:
            StoreError: The file is not a readable database.
        """
        clauses: list[str] = []
        params: list[object] = []
        if error_code:
            clauses.append("error_code = ?")
            params.append(error_code)
        if model:
            clauses.append("model = ?")
            params.append(model)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._read(
            "SELECT time_of_day, COUNT(*) AS total,"
            " SUM(CASE WHEN recovery_success THEN 1 ELSE 0 END) AS successes"
            f" FROM error_recoveries{where} GROUP BY time_of_day ORDER BY time_of_day",
            tuple(params),
        )
        return [
            HourSuccess(
                hour=as_int(row["time_of_day"]),
                successes=as_int(row["successes"]) or 0,
                total=as_int(row["total"]) or 0,
            )
            for row in rows
        ]

    def get_optimal_execution_window(
        self, error_code: str | None = None, model: str | None = None
    ) -> OptimalWindow:
        """Return the hours of the day when recoveries succeed, and those to avoid.

        The conductor's rule (see `optimal_window`) over `error_recoveries`. Unlike the
        conductor, which ignores it, `model` is honoured.

        Args:
            error_code: Only recoveries from this error code.
            model: Only recoveries with this model.

        Raises:
            StoreError: The file is not a readable database.
        """
        return optimal_window(self.hour_success(error_code, model))
