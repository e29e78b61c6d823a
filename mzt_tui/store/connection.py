"""Opening monitor.db safely: file checks, pragmas, migrations and one-line errors.

Every check that can refuse a file runs before anything could write to it, so a file we
refuse (not SQLite, a directory, read-only, a newer schema, another program's database)
is left byte-for-byte as it was.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mzt_tui.models.errors import NewerSchemaError, StoreError
from mzt_tui.store.schema import SCHEMA_VERSION, migrate

SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_HEADER_SIZE = 100
BUSY_TIMEOUT_SECONDS = 5.0
"""How long a statement waits for another writer (the conductor) before failing."""
JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
"""The WAL file is truncated back to this size after a checkpoint."""
FILE_MODE = 0o600


def one_line(exc: BaseException) -> str:
    """Return an exception's message flattened to one line."""
    return " ".join(str(exc).split()) or type(exc).__name__


@contextmanager
def sqlite_errors(path: Path, action: str) -> Iterator[None]:
    """Turn any sqlite3 error inside the block into a one-line StoreError naming the file."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: {action} failed: {one_line(exc)}") from exc


def sqlite_uri(path: Path, mode: str) -> str:
    """Return the `file:` URI SQLite opens `path` with, in `mode` (ro or rw)."""
    return f"{path.resolve().as_uri()}?mode={mode}"


def check_existing_file(path: Path, *, for_writing: bool) -> bool:
    """Check that `path` can hold a monitor database; return whether it exists.

    Raises:
        StoreError: `path` is a directory or not a regular file, is not SQLite, cannot be
            read, or (for writing) cannot be written; or is missing when only reading.
    """
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a monitor database")
    if not path.exists():
        if for_writing:
            return False
        raise StoreError(f"no monitor database at {path}")
    if not path.is_file():
        raise StoreError(f"{path} is not a regular file, not a monitor database")
    try:
        with path.open("rb") as handle:
            header = handle.read(SQLITE_HEADER_SIZE)
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or one_line(exc)}") from exc
    # An empty file is a valid, empty SQLite database; anything else needs the header.
    if header and (len(header) < SQLITE_HEADER_SIZE or not header.startswith(SQLITE_HEADER)):
        raise StoreError(f"{path} is not a SQLite database")
    if for_writing:
        _check_writable(path)
    return True


def _check_writable(path: Path) -> None:
    # Opening for writing changes nothing; it fails on a read-only or immutable file even
    # for root, where os.access() would say yes.
    try:
        descriptor = os.open(path, os.O_RDWR)
    except OSError as exc:
        reason = exc.strerror or one_line(exc)
        raise StoreError(f"{path} is read-only ({reason}); open it read-only to view it") from exc
    os.close(descriptor)
    directory = path.parent
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StoreError(
            f"cannot write beside {path}: its folder is read-only (SQLite needs -wal/-shm files)"
        )


def create_database_file(path: Path) -> None:
    """Create an empty database file with mode 0600 (its -wal and -shm inherit the mode)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"cannot create {path}: {exc.strerror or one_line(exc)}") from exc
    os.close(descriptor)


def _probe(conn: sqlite3.Connection, path: Path) -> tuple[int, set[str]]:
    """Read the schema version and table names, refusing files we must not touch."""
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {
            str(row[0])
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a readable SQLite database: {one_line(exc)}") from exc
    if version > SCHEMA_VERSION:
        raise NewerSchemaError(
            f"{path} has schema version {version}, newer than version {SCHEMA_VERSION}"
            " that this mzt_tui understands; upgrade mzt_tui to open it"
        )
    if tables and "snapshots" not in tables:
        raise StoreError(f"{path} is a SQLite database but not a monitor database")
    return version, tables


def _connect(path: Path, mode: str) -> sqlite3.Connection:
    try:
        return sqlite3.connect(
            sqlite_uri(path, mode),
            uri=True,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {one_line(exc)}") from exc


def open_writer(path: Path) -> sqlite3.Connection:
    """Open (creating and migrating where needed) the long-lived writer connection.

    Raises:
        StoreError: The file cannot be used (see `check_existing_file`), or SQLite fails.
        NewerSchemaError: The file's schema is newer than ours.
    """
    existed = check_existing_file(path, for_writing=True)
    if not existed:
        create_database_file(path)
    conn = _connect(path, "rw")
    try:
        version, tables = _probe(conn, path)
        with sqlite_errors(path, "opening for writing"):
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT_BYTES}")
            if version < SCHEMA_VERSION or "snapshots" not in tables:
                _migrate_locked(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _migrate_locked(conn: sqlite3.Connection) -> None:
    # Re-read the version under the write lock: another process may have migrated meanwhile.
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        has_snapshots = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'snapshots'"
        ).fetchone()
        # Every step is idempotent, so a file without tables is simply built from scratch.
        migrate(conn, version if has_snapshots else 0)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def open_reader(path: Path) -> sqlite3.Connection:
    """Open a read-only connection (`mode=ro`): it never creates, migrates or writes.

    Raises:
        StoreError: The file is missing or cannot be read as a monitor database.
        NewerSchemaError: The file's schema is newer than ours.
    """
    check_existing_file(path, for_writing=False)
    conn = _connect(path, "ro")
    try:
        _, tables = _probe(conn, path)
        if "snapshots" not in tables:
            raise StoreError(f"{path} holds no monitor data yet (no snapshots table)")
        with sqlite_errors(path, "opening for reading"):
            conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def used_bytes(conn: sqlite3.Connection) -> int:
    """Bytes of the main database held by pages in use (free pages excluded)."""
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    page_count = int(conn.execute("PRAGMA page_count").fetchone()[0])
    free_pages = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    return (page_count - free_pages) * page_size
