"""What the learning store's mixins need from `LearningStore`, and a column-safe insert."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TypeVar

from mzt_tui.marianne.sqlite_files import table_columns

T = TypeVar("T")


class StoreAccess:
    """The reading and writing primitives `LearningStore` gives its mixins.

    `LearningStore` defines each of them; these bodies only state the contract.
    """

    _now: Callable[[], datetime]

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[dict[str, object]]:
        """Run one read query; a missing file or table reads as no rows."""
        raise NotImplementedError

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in one write transaction, retrying while the file is locked."""
        raise NotImplementedError


def insert_known_columns(
    connection: sqlite3.Connection, table: str, values: Mapping[str, object]
) -> None:
    """Insert one row, writing only the columns the file's table has.

    A file from an older conductor may lack a column; the conductor adds it when it
    migrates, and the rest of the row is not lost meanwhile.
    """
    columns = set(table_columns(connection, table))
    present = {column: value for column, value in values.items() if column in columns}
    column_sql = ", ".join(present)
    placeholders = ", ".join("?" for _ in present)
    connection.execute(
        f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})", tuple(present.values())
    )
