"""Read the conductor's job registry (`daemon-state.db`), strictly read-only.

Every call opens the file with a `mode=ro` URI, runs one query and closes it,
so no read transaction is ever held open against the conductor's writes and
nothing is ever written (WAL files included: the conductor keeps them).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from mzt_tui.marianne.checkpoint import as_float, as_int, as_str, parse_checkpoint
from mzt_tui.marianne.liveness import pid_alive
from mzt_tui.marianne.sqlite_files import fetch_read_only, one_line
from mzt_tui.models.errors import StoreError
from mzt_tui.models.jobs import SHEET_ACTIVE_STATUSES, JobRecord, SheetState


class RegistryReader:
    """The conductor's job registry, as `JobRecord`s with their checkpoints parsed.

    Args:
        path: The registry file (`<marianne home>/daemon-state.db`).
        is_alive: Tells whether a PID is a live process; decides whether a
            `running` row still has its conductor (tests pass a fake). A
            `running` row without a PID is taken as alive: nothing says otherwise.
        timeout_seconds: How long one query waits for the conductor's lock.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        is_alive: Callable[[int], bool] = pid_alive,
        timeout_seconds: float = 2.0,
    ) -> None:
        self._path = Path(path)
        self._is_alive = is_alive
        self._timeout_seconds = timeout_seconds

    @property
    def path(self) -> Path:
        """The registry file this reader opens."""
        return self._path

    def exists(self) -> bool:
        """Whether the registry file is there (no conductor has run here otherwise)."""
        return self._path.is_file()

    def list_jobs(self, *, status: str | None = None, limit: int | None = None) -> list[JobRecord]:
        """Return the registry's jobs, most recently submitted first (as the conductor lists them).

        Args:
            status: Only jobs with this registry status.
            limit: At most this many jobs.

        Raises:
            StoreError: The file is missing, not a database, or has no `jobs` table.
        """
        sql = "SELECT * FROM jobs"
        params: list[object] = []
        if status is not None:
            sql += " WHERE status = ?"
            params.append(status)
        sql += " ORDER BY submitted_at DESC, rowid DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(0, limit))
        return self._records(self._fetch(sql, tuple(params)))

    def get_job(self, job_id: str) -> JobRecord | None:
        """Return one job by its ID (the score name), or None when the registry has none.

        Raises:
            StoreError: The file is missing, not a database, or has no `jobs` table.
        """
        records = self._records(self._fetch("SELECT * FROM jobs WHERE job_id = ?", (job_id,)))
        return records[0] if records else None

    def running_jobs(self) -> list[JobRecord]:
        """Return the `running` jobs whose conductor is alive (stale rows left out).

        Raises:
            StoreError: The file is missing, not a database, or has no `jobs` table.
        """
        return [job for job in self.list_jobs(status="running") if job.running]

    def active_sheets(self) -> list[tuple[JobRecord, SheetState]]:
        """Return every dispatched or in-progress sheet of the running jobs, with its job.

        Raises:
            StoreError: The file is missing, not a database, or has no `jobs` table.
        """
        return [(job, sheet) for job in self.running_jobs() for sheet in job.active_sheets()]

    def running_pids(self) -> list[int]:
        """Return the conductor PIDs recorded on `running` rows, newest row first, each once.

        Their liveness is not checked here (see `find_conductor`).

        Raises:
            StoreError: The file is missing, not a database, or has no `jobs` table.
        """
        rows = self._fetch(
            "SELECT pid FROM jobs WHERE status = 'running' AND pid IS NOT NULL "
            "ORDER BY submitted_at DESC, rowid DESC",
            (),
        )
        pids: list[int] = []
        for row in rows:
            pid = as_int(row["pid"])
            if pid is not None and pid > 0 and pid not in pids:
                pids.append(pid)
        return pids

    # Reading -------------------------------------------------------------------------

    def _fetch(self, sql: str, params: tuple[object, ...]) -> list[sqlite3.Row]:
        """Run one read query on a fresh read-only connection."""
        if not self._path.exists():
            raise StoreError(f"conductor registry {self._path} does not exist")
        try:
            return fetch_read_only(self._path, sql, params, timeout_seconds=self._timeout_seconds)
        except sqlite3.Error as exc:
            raise self._store_error(exc) from exc

    def _store_error(self, exc: sqlite3.Error) -> StoreError:
        """Describe a SQLite failure on the registry in one line."""
        message = str(exc)
        if "no such table" in message:
            return StoreError(f"conductor registry {self._path} has no jobs table")
        if "no such column" in message:
            return StoreError(f"conductor registry {self._path} lacks a column: {one_line(exc)}")
        return StoreError(f"cannot read conductor registry {self._path}: {one_line(exc)}")

    # Rows into records ---------------------------------------------------------------

    def _records(self, rows: list[sqlite3.Row]) -> list[JobRecord]:
        """Turn rows into records, checking each distinct conductor PID once."""
        alive_cache: dict[int, bool] = {}
        records: list[JobRecord] = []
        for row in rows:
            record = self._record(row, alive_cache)
            if record is not None:
                records.append(record)
        return records

    def _record(self, row: sqlite3.Row, alive_cache: dict[int, bool]) -> JobRecord | None:
        """Build one `JobRecord`; None for a row without a job ID."""
        values: dict[str, Any] = {key: row[key] for key in row.keys()}  # noqa: SIM118
        job_id = as_str(values.get("job_id"))
        if job_id is None:
            return None
        status = as_str(values.get("status")) or "queued"
        pid = as_int(values.get("pid"))
        conductor_alive = True
        if status == "running" and pid is not None:
            # A crashed conductor leaves `running` rows behind with its dead PID.
            if pid not in alive_cache:
                alive_cache[pid] = self._is_alive(pid)
            conductor_alive = alive_cache[pid]
        checkpoint = parse_checkpoint(values.get("checkpoint_json"))
        return JobRecord(
            job_id=job_id,
            config_path=as_str(values.get("config_path")),
            workspace=as_str(values.get("workspace")),
            status=status,
            pid=pid,
            submitted_at=as_float(values.get("submitted_at")),
            started_at=as_float(values.get("started_at")),
            completed_at=as_float(values.get("completed_at")),
            error_message=as_str(values.get("error_message")),
            current_sheet=as_int(values.get("current_sheet")),
            total_sheets=as_int(values.get("total_sheets")),
            last_event_at=as_float(values.get("last_event_at")),
            sheets=checkpoint.sheets,
            checkpoint_total_sheets=checkpoint.total_sheets,
            last_completed_sheet=checkpoint.last_completed_sheet,
            conductor_alive=conductor_alive,
            checkpoint_error=checkpoint.error,
        )


def sheet_started_at_or_before(
    job: JobRecord,
    when: float | datetime,
    *,
    tolerance_seconds: float = 0.0,
) -> SheetState | None:
    """Pick the job's in-progress sheet that a process started at `when` belongs to.

    It is the dispatched or in-progress sheet whose `started_at` is the latest at
    or before `when` (SCHEMA.md, "How the conductor runs sheets").

    Args:
        job: The job the process was attributed to.
        when: The process's start time, as unix seconds or an aware datetime.
        tolerance_seconds: Also accept sheets that started this much after
            `when` (clock rounding between /proc and the conductor's record).

    Returns:
        The sheet, or None when no active sheet had started by then.
    """
    moment = when.timestamp() if isinstance(when, datetime) else float(when)
    latest_allowed = moment + max(0.0, tolerance_seconds)
    best: SheetState | None = None
    best_start = float("-inf")
    for sheet in job.sheets.values():
        if sheet.status not in SHEET_ACTIVE_STATUSES or sheet.started_at is None:
            continue
        started = sheet.started_at.timestamp()
        if started > latest_allowed:
            continue
        if best is None or (started, sheet.sheet_num) > (best_start, best.sheet_num):
            best, best_start = sheet, started
    return best
