"""Small helpers shared by the learning-store tests."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

WORKSPACES = {
    "alpha-review": "/home/u/ws-alpha",
    "beta-build": "/home/u/ws-beta",
    "gamma-docs": "/home/u/ws-gamma",
}
"""The workspaces of the fixture's jobs (registry.db), whose hashes are in the readback."""


def clock(*stamps: str) -> Callable[[], datetime]:
    """A clock that returns these ISO times in turn."""
    times: Iterator[datetime] = iter(datetime.fromisoformat(stamp) for stamp in stamps)
    return lambda: next(times)


def raw_rows(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[dict[str, Any]]:
    """Rows straight from SQLite, as dictionaries."""
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute(sql, params).fetchall()]
    finally:
        connection.close()


def count(path: Path, table: str) -> int:
    """How many rows `table` has."""
    return int(raw_rows(path, f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])


def hold_write_lock(path: Path, seconds: float) -> threading.Thread:
    """Hold `BEGIN IMMEDIATE` on `path` for `seconds` in a thread, like a busy conductor."""
    locked = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("UPDATE executions SET status = status")
            locked.set()
            time.sleep(seconds)
            connection.execute("COMMIT")
        finally:
            connection.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert locked.wait(5.0), "the lock holder did not start"
    return thread


def set_schema_version(path: Path, version: int) -> None:
    """Rewrite the file's schema version, as a newer conductor would have."""
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE schema_version SET version = ?", (version,))
    connection.close()
