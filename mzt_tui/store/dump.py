"""Process samples streamed out of monitor.db in chunks, for `mzt dump`.

One query walks the window through a cursor and hands rows on `chunk_size` at a time, so
a dump of any length holds one chunk in memory, never the window. Rows are plain tuples
in `SAMPLE_FIELDS` order, made valid in SQL as every other process read is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from mzt_tui.store.reader import window
from mzt_tui.store.rows import process_columns

SampleOrder = Literal["time", "series"]
SampleRow = tuple[Any, ...]

SAMPLE_FIELDS: tuple[str, ...] = (
    "timestamp",
    "job_id",
    "sheet_num",
    "pid",
    "ppid",
    "command",
    "state",
    "cpu_percent",
    "rss_mb",
    "vms_mb",
    "threads",
    "open_fds",
    "age_seconds",
    "gpu_memory_mb",
    "start_time",
)
"""The columns of a dumped sample, in order."""

DEFAULT_CHUNK_ROWS = 1000

# Where each field sits in `SELECT s.timestamp, <process_columns>`.
_COLUMN_OF = {
    "timestamp": 0,
    "pid": 1,
    "ppid": 2,
    "command": 3,
    "state": 4,
    "cpu_percent": 5,
    "rss_mb": 6,
    "vms_mb": 7,
    "threads": 8,
    "open_fds": 9,
    "age_seconds": 10,
    "job_id": 11,
    "sheet_num": 12,
    "start_time": 15,
    "gpu_memory_mb": 16,
}
_ORDER_BY = {
    "time": "s.timestamp, s.id, pm.id",
    # Every series (job, sheet, pid) whole and in time order: what OpenMetrics asks for.
    "series": "pm.job_id, pm.sheet_num, pm.pid, s.timestamp, s.id, pm.id",
}


@dataclass(frozen=True)
class SampleQuery:
    """Which samples to stream.

    Attributes:
        since: Window start (inclusive), unix seconds.
        until: Window end (exclusive), or None for no end.
        job_id: Only this job's samples.
        sheet_num: Only this sheet's samples.
        order: `time` (by snapshot) or `series` (by job, sheet and PID, then time).
        chunk_rows: Rows fetched from SQLite (and handed on) at a time.
    """

    since: float
    until: float | None = None
    job_id: str | None = None
    sheet_num: int | None = None
    order: SampleOrder = "time"
    chunk_rows: int = DEFAULT_CHUNK_ROWS


def iter_sample_chunks(
    conn: sqlite3.Connection, *, has_extras: bool, query: SampleQuery
) -> Iterator[list[SampleRow]]:
    """Yield the window's samples as lists of at most `query.chunk_rows` rows (never empty)."""
    params: list[Any] = [query.since]
    where = window("s.timestamp", query.until, params)
    if query.job_id is not None:
        where += " AND pm.job_id = ?"
        params.append(query.job_id)
    if query.sheet_num is not None:
        where += " AND pm.sheet_num = ?"
        params.append(query.sheet_num)
    # Drive from the snapshot window (idx_snapshots_ts), as the other process reads do.
    cursor = conn.execute(
        f"SELECT s.timestamp, {process_columns('pm', has_extras=has_extras)}"
        " FROM snapshots s CROSS JOIN process_metrics pm ON pm.snapshot_id = s.id"
        f" WHERE {where} ORDER BY {_ORDER_BY[query.order]}",
        params,
    )
    columns = [_COLUMN_OF[name] for name in SAMPLE_FIELDS]
    try:
        while rows := cursor.fetchmany(max(query.chunk_rows, 1)):
            yield [tuple(row[column] for column in columns) for row in rows]
    finally:
        cursor.close()
