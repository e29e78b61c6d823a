"""Writes the demo's job registry, `daemon-state.db`, in the conductor's own schema.

The `jobs` table has exactly the conductor's columns, types, constraints and indexes (checked
against the fixture `registry.db` in the tests). Rows are upserted whole, `checkpoint_json`
included, on every change, in WAL mode so that readers never wait on the demo.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Final

from mzt_tui.demo.checkpoint import JobRun, job_checkpoint
from mzt_tui.models.errors import StoreError

JOBS_COLUMNS: Final = (
    ("job_id", "TEXT PRIMARY KEY"),
    ("config_path", "TEXT NOT NULL"),
    ("workspace", "TEXT NOT NULL"),
    ("status", "TEXT NOT NULL DEFAULT 'queued'"),
    ("pid", "INTEGER"),
    ("submitted_at", "REAL NOT NULL"),
    ("started_at", "REAL"),
    ("completed_at", "REAL"),
    ("error_message", "TEXT"),
    ("current_sheet", "INTEGER"),
    ("total_sheets", "INTEGER"),
    ("last_event_at", "REAL"),
    ("log_path", "TEXT"),
    ("snapshot_path", "TEXT"),
    ("checkpoint_json", "TEXT"),
    ("hook_config_json", "TEXT"),
    ("hook_results_json", "TEXT"),
)
"""The conductor's `jobs` columns, in order, with their declarations."""

JOBS_DDL: Final = (
    "CREATE TABLE IF NOT EXISTS jobs (\n    "
    + ",\n    ".join(f"{name} {declaration}" for name, declaration in JOBS_COLUMNS)
    + "\n)"
)
INDEX_DDL: Final = (
    "CREATE INDEX IF NOT EXISTS idx_jobs_status ON jobs (status)",
    "CREATE INDEX IF NOT EXISTS idx_jobs_submitted ON jobs (submitted_at DESC)",
)
_ROW_COLUMNS: Final = (
    "job_id",
    "config_path",
    "workspace",
    "status",
    "pid",
    "submitted_at",
    "started_at",
    "completed_at",
    "error_message",
    "current_sheet",
    "total_sheets",
    "last_event_at",
    "checkpoint_json",
)
_UPSERT_SQL: Final = (
    f"INSERT INTO jobs ({', '.join(_ROW_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _ROW_COLUMNS)}) "
    "ON CONFLICT(job_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _ROW_COLUMNS[1:])
)
_OPEN_STATUSES: Final = ("queued", "pending", "running")


class RegistryWriter:
    """The one writer connection to a demo home's `daemon-state.db`.

    Args:
        path: The registry file; created (mode 0600) with the conductor's schema if missing.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            self._connection = sqlite3.connect(path, timeout=5.0)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.execute("PRAGMA busy_timeout=5000")
            self._ensure_schema()
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"cannot open the demo registry {path}: {error}") from error

    def _ensure_schema(self) -> None:
        with self._connection:
            self._connection.execute(JOBS_DDL)
            present = {row[1] for row in self._connection.execute("PRAGMA table_info(jobs)")}
            for name, declaration in JOBS_COLUMNS:
                if name not in present:
                    self._connection.execute(f"ALTER TABLE jobs ADD COLUMN {name} {declaration}")
            for statement in INDEX_DDL:
                self._connection.execute(statement)

    def job_count(self) -> int:
        """Return how many jobs the registry holds (the demo numbers new jobs after them)."""
        row = self._connection.execute("SELECT COUNT(*) FROM jobs").fetchone()
        return int(row[0])

    def write_job(self, job: JobRun, now: float | None = None) -> None:
        """Insert or replace `job`'s row, its checkpoint rewritten as of `now`."""
        updated_at = time.time() if now is None else now
        values = (
            job.job_id,
            job.config_path,
            job.workspace,
            job.status,
            job.pid,
            job.submitted_at,
            job.started_at,
            job.completed_at,
            job.error_message,
            job.current_sheet,
            job.total_sheets,
            job.last_event_at,
            json.dumps(job_checkpoint(job, updated_at)),
        )
        with self._connection:
            self._connection.execute(_UPSERT_SQL, values)

    def cancel_stale_jobs(self, own_pid: int, now: float | None = None) -> list[str]:
        """Mark open jobs left by an earlier demo process as cancelled; return their ids."""
        ended_at = time.time() if now is None else now
        placeholders = ", ".join("?" for _ in _OPEN_STATUSES)
        rows = self._connection.execute(
            f"SELECT job_id, checkpoint_json FROM jobs WHERE status IN ({placeholders}) "
            "AND (pid IS NULL OR pid != ?)",
            (*_OPEN_STATUSES, own_pid),
        ).fetchall()
        with self._connection:
            for job_id, checkpoint_text in rows:
                self._connection.execute(
                    "UPDATE jobs SET status = 'cancelled', completed_at = ?, last_event_at = ?, "
                    "error_message = ?, checkpoint_json = ? WHERE job_id = ?",
                    (
                        ended_at,
                        ended_at,
                        "demo conductor stopped",
                        _cancelled_checkpoint(checkpoint_text),
                        job_id,
                    ),
                )
        return [str(job_id) for job_id, _ in rows]

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with contextlib.suppress(sqlite3.Error):
            self._connection.close()


def _cancelled_checkpoint(checkpoint_text: str | None) -> str | None:
    """Return a stale checkpoint with the job and its active sheets marked cancelled."""
    if not checkpoint_text:
        return checkpoint_text
    try:
        checkpoint: dict[str, Any] = json.loads(checkpoint_text)
    except json.JSONDecodeError:
        return checkpoint_text
    checkpoint["status"] = "cancelled"
    checkpoint["sheets_in_progress"] = []
    for sheet in checkpoint.get("sheets", {}).values():
        if isinstance(sheet, dict) and sheet.get("status") in {"dispatched", "in_progress"}:
            sheet["status"] = "cancelled"
    return json.dumps(checkpoint)
