"""The conductor's learning store (`global-learning.db`): read it, and write patterns.

Writes follow the conductor's own rules (SCHEMA.md), so a pattern mzt_tui records
is one the conductor would have recorded: the same ID, content hash, defaults
and ISO text timestamps, and a second recording updates the first. The conductor
may write the same file at any moment: every write is one short `BEGIN IMMEDIATE`
transaction in WAL mode, with a busy timeout and a bounded back-off retry around
it, so a locked file delays a write but never loses it.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from mzt_tui.marianne import learning_hashes
from mzt_tui.marianne.learning_clusters import ClustersMixin
from mzt_tui.marianne.learning_executions import ExecutionsMixin
from mzt_tui.marianne.learning_recoveries import RecoveriesMixin
from mzt_tui.marianne.learning_rows import execution_from_row, pattern_from_row
from mzt_tui.marianne.learning_schema import (
    SUPPORTED_SCHEMA_VERSION,
    create_missing_tables,
    read_schema_version,
)
from mzt_tui.marianne.learning_writes import PatternFields, checked_tags, upsert_pattern
from mzt_tui.marianne.sqlite_files import fetch_read_only, one_line, retry_busy
from mzt_tui.models.errors import NewerSchemaError, StoreError
from mzt_tui.models.learning import ExecutionRecord, LearnedPattern

T = TypeVar("T")

_FILE_MODE = 0o600


class LearningStore(ExecutionsMixin, RecoveriesMixin, ClustersMixin):
    """Reads and writes `global-learning.db` beside the conductor.

    Patterns are read and written here; the conductor's execution API (outcomes, error
    recoveries, workspace clusters) comes from the mixins, over the same primitives.

    Reading a missing file returns nothing and creates nothing; the first write
    creates it (mode 0600) with only the tables mzt_tui uses and an empty
    `schema_version`, so the conductor completes the schema itself.

    Args:
        path: The learning store file (`<marianne home>/global-learning.db`).
        busy_timeout_seconds: How long one statement waits for the conductor's lock.
        write_attempts: How many times a write is tried in all while the file stays locked.
        first_retry_delay_seconds: The pause after the first locked attempt; it doubles.
        max_retry_delay_seconds: The longest single pause between attempts.
        now: The clock for timestamps (`datetime.now`: naive local, as the conductor writes).
    """

    hash_job = staticmethod(learning_hashes.hash_job)
    hash_workspace = staticmethod(learning_hashes.hash_workspace)
    pattern_id = staticmethod(learning_hashes.pattern_id)
    content_hash = staticmethod(learning_hashes.content_hash)

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_seconds: float = 5.0,
        write_attempts: int = 6,
        first_retry_delay_seconds: float = 0.05,
        max_retry_delay_seconds: float = 1.0,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        self._path = Path(path)
        self._busy_timeout_seconds = busy_timeout_seconds
        self._write_attempts = max(1, write_attempts)
        self._first_retry_delay = first_retry_delay_seconds
        self._max_retry_delay = max_retry_delay_seconds
        self._now = now

    @property
    def path(self) -> Path:
        """The learning store file."""
        return self._path

    def exists(self) -> bool:
        """Whether the file is there."""
        return self._path.is_file()

    # Reading -------------------------------------------------------------------------

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[dict[str, object]]:
        """Run one read query; a missing file or table reads as no rows."""
        if not self._path.exists():
            return []
        try:
            rows = fetch_read_only(
                self._path, sql, params, timeout_seconds=self._busy_timeout_seconds
            )
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise StoreError(f"cannot read learning store {self._path}: {one_line(exc)}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read learning store {self._path}: {one_line(exc)}") from exc
        return [{key: row[key] for key in row.keys()} for row in rows]  # noqa: SIM118

    def schema_version(self) -> int | None:
        """Return the file's schema version; None when the file or the version row is missing.

        Raises:
            StoreError: The file is not a readable database.
        """
        rows = self._read("SELECT MAX(version) AS version FROM schema_version")
        value = rows[0]["version"] if rows else None
        return value if isinstance(value, int) else None

    def read_patterns(
        self,
        pattern_type: str | None = None,
        *,
        active_only: bool = False,
        job_id: str | None = None,
        limit: int | None = None,
    ) -> list[LearnedPattern]:
        """Return learned patterns, highest priority first (ties in insertion order).

        Args:
            pattern_type: Only patterns of this type (`resource_correlation` ...).
            active_only: Leave out patterns marked inactive (soft-deleted).
            job_id: Only patterns tagged `job:<job_id>`.
            limit: At most this many patterns.

        Raises:
            StoreError: The file is not a readable database.
        """
        sql = "SELECT * FROM patterns"
        params: tuple[object, ...] = ()
        if pattern_type is not None:
            sql += " WHERE pattern_type = ?"
            params = (pattern_type,)
        sql += " ORDER BY priority_score DESC, rowid ASC"
        patterns = [pattern_from_row(row) for row in self._read(sql, params)]
        # Filtered here, not in SQL: one row with broken JSON tags must not fail the query,
        # and files from before soft delete have no `active` column.
        if active_only:
            patterns = [pattern for pattern in patterns if pattern.active]
        if job_id is not None:
            wanted = f"job:{job_id}"
            patterns = [pattern for pattern in patterns if wanted in pattern.context_tags]
        return patterns if limit is None else patterns[: max(0, limit)]

    def get_pattern(self, pattern_id: str) -> LearnedPattern | None:
        """Return one pattern by ID, or None.

        Raises:
            StoreError: The file is not a readable database.
        """
        rows = self._read("SELECT * FROM patterns WHERE id = ?", (pattern_id,))
        return pattern_from_row(rows[0]) if rows else None

    def read_executions(
        self,
        limit: int = 20,
        *,
        job_hash: str | None = None,
        workspace_hash: str | None = None,
        sheet_num: int | None = None,
    ) -> list[ExecutionRecord]:
        """Return execution records, newest `completed_at` first (the conductor's order).

        With no filter this is the conductor's `get_recent_executions`; with
        filters, its `get_similar_executions`.

        Args:
            limit: At most this many records.
            job_hash: Only this job (see `hash_job`).
            workspace_hash: Only this workspace (see `hash_workspace`).
            sheet_num: Only this sheet number.

        Raises:
            StoreError: The file is not a readable database.
        """
        clauses: list[str] = []
        params: list[object] = []
        for column, value in (
            ("job_hash", job_hash),
            ("workspace_hash", workspace_hash),
            ("sheet_num", sheet_num),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT * FROM executions{where} ORDER BY completed_at DESC, rowid DESC LIMIT ?"
        params.append(max(0, limit))
        return [execution_from_row(row) for row in self._read(sql, tuple(params))]

    # Writing -------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create the file (mode 0600) and our tables where missing; leave `schema_version` alone.

        Raises:
            NewerSchemaError: The file's schema is newer than this code writes.
            StoreError: The file cannot be created or is not a database.
        """
        self._write(lambda connection: None)

    def record_pattern(
        self,
        pattern_type: str,
        name: str,
        description: str,
        *,
        suggested_action: str | None = None,
        context_tags: Sequence[str] = (),
        effectiveness_score: float | None = None,
        priority_score: float | None = None,
        active: bool = True,
        instrument_name: str | None = None,
        provenance_job_hash: str | None = None,
        provenance_sheet_num: int | None = None,
    ) -> str:
        """Record a pattern with the conductor's rules; return its ID.

        A new pattern is inserted with the conductor's defaults (occurrence 1,
        scores 0.5, quarantine `pending`, trust 0.5, every timestamp now). If its
        ID (type + normalized name) exists, that row is updated instead:
        occurrence_count + 1, last_seen, description, context_tags and content
        hash replaced, suggested_action replaced when given, active set.

        Args:
            pattern_type: The pattern's type (`resource_correlation`, `resource_anomaly` ...).
            name: Its name; the ID comes from it lower-cased with white space collapsed.
            description: The finding in plain words.
            suggested_action: What to do about it; None keeps an existing one.
            context_tags: `key:value` tags, stored as a JSON array.
            effectiveness_score: Set it on insert or update; None means 0.5 on insert
                and unchanged on update.
            priority_score: Set it on insert or update; None means 0.5 on insert and
                unchanged on update.
            active: Whether the pattern is active (the conductor always sets True).
            instrument_name: The instrument it concerns, on insert only.
            provenance_job_hash: The job hash it was first seen in, on insert only.
            provenance_sheet_num: The sheet it was first seen in, on insert only.

        Raises:
            ValueError: An empty type or name, a tag that is not text, a score that is not finite.
            NewerSchemaError: The file's schema is newer than this code writes.
            StoreError: The file cannot be written.
        """
        tags = checked_tags(context_tags)
        if not pattern_type.strip():
            raise ValueError("pattern_type must not be empty")
        if not learning_hashes.normalize_pattern_name(name):
            raise ValueError("pattern name must not be empty")
        for label, score in (
            ("effectiveness_score", effectiveness_score),
            ("priority_score", priority_score),
        ):
            if score is not None and not math.isfinite(score):
                raise ValueError(f"{label} must be a finite number, not {score!r}")
        new_id = learning_hashes.pattern_id(pattern_type, name)
        fields = PatternFields(
            pattern_id=new_id,
            pattern_type=pattern_type,
            name=name,
            description=description,
            suggested_action=suggested_action,
            tags_json=json.dumps(list(tags)),
            content_hash=learning_hashes.content_hash(pattern_type, name, description),
            effectiveness_score=effectiveness_score,
            priority_score=priority_score,
            active=active,
            instrument_name=instrument_name,
            provenance_job_hash=provenance_job_hash,
            provenance_sheet_num=provenance_sheet_num,
        )
        self._write(lambda connection: upsert_pattern(connection, fields, self._now().isoformat()))
        return new_id

    def set_pattern_active(self, pattern_id: str, active: bool) -> bool:
        """Mark a pattern active or inactive without deleting it.

        Returns:
            Whether a pattern with that ID was found (a missing file is not created).

        Raises:
            NewerSchemaError: The file's schema is newer than this code writes.
            StoreError: The file cannot be written.
        """
        if not self._path.exists():
            return False

        def update(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "UPDATE patterns SET active = ? WHERE id = ?", (int(active), pattern_id)
            )
            return cursor.rowcount > 0

        return self._write(update)

    def _create_file(self) -> None:
        """Create an empty database file with mode 0600 unless it exists."""
        if self._path.exists():
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
        except FileExistsError:
            return  # created by someone else meanwhile: theirs stands
        except OSError as exc:
            raise StoreError(f"cannot create learning store {self._path}: {one_line(exc)}") from exc
        os.close(descriptor)
        # os.open applied the umask; set the mode exactly (SQLite's -wal/-shm copy it).
        os.chmod(self._path, _FILE_MODE)

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in one `BEGIN IMMEDIATE` transaction, retrying while the file is locked."""
        self._create_file()
        try:
            return retry_busy(
                lambda: self._write_once(work),
                attempts=self._write_attempts,
                first_delay_seconds=self._first_retry_delay,
                max_delay_seconds=self._max_retry_delay,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write learning store {self._path}: {one_line(exc)}") from exc

    def _write_once(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """One attempt: check the version, switch to WAL, run `work`, commit."""
        connection = sqlite3.connect(
            self._path,
            timeout=self._busy_timeout_seconds,
            isolation_level=None,  # transactions are begun and ended explicitly below
            check_same_thread=False,
        )
        connection.row_factory = sqlite3.Row
        try:
            self._refuse_newer_schema(connection)
            mode_row = connection.execute("PRAGMA journal_mode").fetchone()
            if mode_row is None or str(mode_row[0]).lower() != "wal":
                connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("BEGIN IMMEDIATE")
            try:
                self._refuse_newer_schema(connection)  # again, now that the lock is ours
                create_missing_tables(connection)
                result = work(connection)
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            return result
        finally:
            connection.close()

    def _refuse_newer_schema(self, connection: sqlite3.Connection) -> None:
        """Raise `NewerSchemaError` when the file's schema is newer than we write."""
        version = read_schema_version(connection)
        if version is not None and version > SUPPORTED_SCHEMA_VERSION:
            raise NewerSchemaError(
                f"learning store {self._path} has schema version {version}, newer than "
                f"{SUPPORTED_SCHEMA_VERSION} which this mzt_tui writes: it stays read-only"
            )
