"""The connections behind a `MonitorStore`: one writer under a lock, a pool of readers."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mzt_tui.models.errors import StoreError
from mzt_tui.store.connection import one_line, open_reader, open_writer, sqlite_errors

MAX_IDLE_READERS = 4
"""Reader connections kept open between calls (threads come and go; connections stay few)."""


class Database:
    """monitor.db's connections: short write transactions and read transactions, thread-safe.

    The writer is one long-lived connection used under a lock; readers are separate
    `mode=ro` connections, taken from a small pool for one read transaction each.
    """

    def __init__(self, path: Path, *, readonly: bool) -> None:
        """Remember the file; nothing is opened until `open()` or first use."""
        self.path = path
        self.readonly = readonly
        self._writer: sqlite3.Connection | None = None
        self._write_lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._readers_lock = threading.Lock()
        self._idle_readers: list[sqlite3.Connection] = []
        self._opened = False
        self._closed = False

    def open(self) -> None:
        """Open (for writing: create or upgrade) the file; idempotent.

        Raises:
            StoreError: The file cannot be used; the message is one line naming it.
        """
        with self._open_lock:
            if self._closed:
                raise StoreError(f"{self.path}: the store is closed")
            if self._opened:
                return
            if self.readonly:
                self._idle_readers.append(open_reader(self.path))
            else:
                self._writer = open_writer(self.path)
            self._opened = True

    def close(self) -> None:
        """Close every connection; later use raises StoreError."""
        with self._open_lock, self._write_lock, self._readers_lock:
            self._closed = True
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            for conn in self._idle_readers:
                conn.close()
            self._idle_readers.clear()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction (BEGIN IMMEDIATE … COMMIT) under the writer lock."""
        if self.readonly:
            raise StoreError(f"{self.path} is open read-only; nothing can be written")
        self.open()
        with self._write_lock:
            writer = self._writer
            if writer is None:
                raise StoreError(f"{self.path}: the store is closed")
            with sqlite_errors(self.path, "writing"):
                writer.execute("BEGIN IMMEDIATE")
                try:
                    yield writer
                    writer.execute("COMMIT")
                except BaseException:
                    if writer.in_transaction:
                        writer.execute("ROLLBACK")
                    raise

    @contextmanager
    def read(self) -> Iterator[tuple[sqlite3.Connection, bool]]:
        """One read transaction: yields a reader and whether our `mzt_*` schema is present.

        Raises:
            StoreError: SQLite fails, or a stored row cannot be turned into a model.
        """
        self.open()
        with self._readers_lock:
            conn = self._idle_readers.pop() if self._idle_readers else None
        if conn is None:
            conn = open_reader(self.path)
        healthy = False
        try:
            with sqlite_errors(self.path, "reading"):
                conn.execute("BEGIN")
                try:
                    has_extras = int(conn.execute("PRAGMA user_version").fetchone()[0]) >= 1
                    yield conn, has_extras
                except ValueError as exc:  # pydantic's ValidationError among them
                    raise StoreError(f"{self.path}: unreadable row: {one_line(exc)}") from exc
                finally:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
            healthy = True
        finally:
            with self._readers_lock:
                if healthy and not self._closed and len(self._idle_readers) < MAX_IDLE_READERS:
                    self._idle_readers.append(conn)
                else:
                    conn.close()
