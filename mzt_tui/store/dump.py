"""Process samples streamed out of monitor.db in chunks, for `mzt dump`.

One query walks the window through a cursor and hands rows on `chunk_size` at a time, so
a dump of any length holds one chunk in memory, never the window. Rows are plain tuples
of the fields asked for, in their order, made valid in SQL as every other process read is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from mzt_tui.store.faults import note_process_faults
from mzt_tui.store.reader import window
from mzt_tui.store.repairs import RepairLog
from mzt_tui.store.rows import sql_command, sql_int, sql_optional_real, sql_real

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

# Each field made valid in SQL as `rows.process_columns` makes it (any writer's rows).
_FIELD_SQL = {
    "timestamp": "s.timestamp",
    "job_id": "CAST(pm.job_id AS TEXT)",
    "sheet_num": "CAST(pm.sheet_num AS INTEGER)",
    "pid": sql_int("pm.pid"),
    "ppid": sql_int("pm.ppid"),
    "command": sql_command("pm.command"),
    "state": "CASE WHEN pm.state GLOB '[A-Z]' THEN pm.state ELSE 'S' END",
    "cpu_percent": sql_real("pm.cpu_percent"),
    "rss_mb": sql_real("pm.rss_mb"),
    "vms_mb": sql_real("pm.vms_mb"),
    "threads": sql_int("pm.threads", "1"),
    "open_fds": sql_int("pm.open_fds"),
    "age_seconds": sql_real("pm.age_seconds"),
}
_EXTRA_FIELD_SQL = {
    True: {
        "gpu_memory_mb": sql_real("pm.mzt_gpu_memory_mb"),
        "start_time": sql_optional_real("pm.mzt_start_time"),
    },
    # A conductor-made file has no mzt_* columns.
    False: {"gpu_memory_mb": "0.0", "start_time": "NULL"},
}
_FIELD_COLUMNS = {"gpu_memory_mb": "mzt_gpu_memory_mb", "start_time": "mzt_start_time"}
"""Dumped fields whose `process_metrics` column is named otherwise."""
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
        fields: The columns of each row, in order (some of `SAMPLE_FIELDS`); only these
            are read.
    """

    since: float
    until: float | None = None
    job_id: str | None = None
    sheet_num: int | None = None
    order: SampleOrder = "time"
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    fields: tuple[str, ...] = SAMPLE_FIELDS


def iter_sample_chunks(
    conn: sqlite3.Connection, *, has_extras: bool, query: SampleQuery, repairs: RepairLog
) -> Iterator[list[SampleRow]]:
    """Yield the window's samples as lists of at most `query.chunk_rows` rows (never empty).

    What the read repairs in other writers' rows (of the fields asked for) is noted in
    `repairs` before the first chunk.

    Raises:
        KeyError: A field that is not one of `SAMPLE_FIELDS`.
    """
    columns = {**_FIELD_SQL, **_EXTRA_FIELD_SQL[has_extras]}
    select = ", ".join(columns[name] for name in query.fields)
    params: list[Any] = [query.since]
    where = window("s.timestamp", query.until, params)
    if query.job_id is not None:
        where += " AND pm.job_id = ?"
        params.append(query.job_id)
    if query.sheet_num is not None:
        where += " AND pm.sheet_num = ?"
        params.append(query.sheet_num)
    # Drive from the snapshot window (idx_snapshots_ts), as the other process reads do.
    source = "snapshots s CROSS JOIN process_metrics pm ON pm.snapshot_id = s.id"
    note_process_faults(
        conn,
        repairs,
        has_extras=has_extras,
        source=source,
        where=where,
        params=params,
        snapshot_id="s.id",
        columns=tuple(_FIELD_COLUMNS.get(name, name) for name in query.fields),
    )
    cursor = conn.execute(
        f"SELECT {select} FROM {source} WHERE {where} ORDER BY {_ORDER_BY[query.order]}",
        params,
    )
    try:
        while rows := cursor.fetchmany(max(query.chunk_rows, 1)):
            yield rows
    finally:
        cursor.close()
