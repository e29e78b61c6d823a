"""SQLite plumbing shared by the registry and learning-store readers."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_SQLITE_MAGIC = b"SQLite format 3\x00"
_WAL_VERSION = 2  # header bytes 18 and 19 read 2 when the file is in WAL mode


def one_line(text: object) -> str:
    """Collapse an error text onto one line, as every `MztError` message must be."""
    return " ".join(str(text).split())


def is_busy(exc: BaseException) -> bool:
    """Tell whether a SQLite error means another connection holds a lock."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def is_wal_file(path: Path) -> bool:
    """Tell whether the database header says the file is in WAL mode."""
    try:
        with path.open("rb") as handle:
            header = handle.read(20)
    except OSError:
        return False
    return (
        header.startswith(_SQLITE_MAGIC)
        and len(header) == 20
        and header[18] == _WAL_VERSION
        and header[19] == _WAL_VERSION
    )


def read_only_uri(path: Path, *, immutable: bool = False) -> str:
    """Build the `file:` URI that opens `path` read-only (never creating it)."""
    uri = f"{path.absolute().as_uri()}?mode=ro"
    return f"{uri}&immutable=1" if immutable else uri


def connect_read_only(
    path: Path, *, timeout_seconds: float, immutable: bool = False
) -> sqlite3.Connection:
    """Open `path` read-only with rows addressable by column name.

    Args:
        path: An existing database file.
        timeout_seconds: How long a statement waits for another writer's lock.
        immutable: Read the main file only, taking no locks (the fallback for a
            WAL file whose `-shm` cannot be created beside it).

    Returns:
        A connection in autocommit mode, so no read transaction outlives a query.
    """
    connection = sqlite3.connect(
        read_only_uri(path, immutable=immutable),
        uri=True,
        timeout=timeout_seconds,
        isolation_level=None,
        check_same_thread=False,
    )
    connection.row_factory = sqlite3.Row
    return connection


def retry_busy(
    operation: Callable[[], T],
    *,
    attempts: int,
    first_delay_seconds: float,
    max_delay_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `operation`, retrying with exponential back-off while the database is locked.

    Only "database is locked"/"busy" errors are retried; anything else, and the
    last busy error, propagates unchanged.

    Args:
        operation: The whole unit of work (it must be safe to run again from scratch).
        attempts: How many times to try in all (at least 1).
        first_delay_seconds: The pause after the first failure; it doubles after each.
        max_delay_seconds: The longest single pause.
        sleep: The pause function (tests replace it).

    Returns:
        Whatever `operation` returns.
    """
    delay = first_delay_seconds
    for attempt in range(1, max(1, attempts) + 1):
        try:
            return operation()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or attempt >= attempts:
                raise
        sleep(min(delay, max_delay_seconds))
        delay *= 2
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def table_columns(connection: sqlite3.Connection, table: str) -> list[str]:
    """Return the column names of `table` in order (empty when it does not exist)."""
    rows = connection.execute(
        "SELECT name FROM pragma_table_info(?)",
        (table,),
    ).fetchall()
    return [str(row[0]) for row in rows]


def _query_once(
    path: Path, sql: str, params: tuple[object, ...], *, timeout_seconds: float
) -> list[sqlite3.Row]:
    """Open read-only, query, close; an immutable read when a WAL file's -shm cannot be made."""

    def run(immutable: bool) -> list[sqlite3.Row]:
        connection = connect_read_only(path, timeout_seconds=timeout_seconds, immutable=immutable)
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()

    try:
        return run(immutable=False)
    except sqlite3.OperationalError as exc:
        # Reading a WAL file needs its -shm beside it; where that cannot be
        # created (a read-only folder) read the main file alone, not nothing.
        if is_busy(exc) or "no such" in str(exc) or not is_wal_file(path):
            raise
        return run(immutable=True)


def fetch_read_only(
    path: Path,
    sql: str,
    params: tuple[object, ...] = (),
    *,
    timeout_seconds: float,
    attempts: int = 4,
) -> list[sqlite3.Row]:
    """Run one read query on a fresh read-only connection, retrying while locked.

    No read transaction outlives the call, so the other side's checkpoints and
    writes are never held up, and nothing is written to the file.

    Args:
        path: An existing database file.
        sql: One SELECT statement.
        params: Its bound parameters.
        timeout_seconds: How long the statement waits for another writer's lock.
        attempts: How many times to try in all while the file stays locked.

    Returns:
        All rows, addressable by column name.

    Raises:
        sqlite3.Error: Whatever SQLite raised on the last try.
    """
    return retry_busy(
        lambda: _query_once(path, sql, params, timeout_seconds=timeout_seconds),
        attempts=attempts,
        first_delay_seconds=0.05,
        max_delay_seconds=0.5,
    )
