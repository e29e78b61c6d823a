"""Read queries over one read transaction: snapshots (two queries), events, histories.

Every function takes a connection inside a read transaction and whether the file has our
`mzt_*` tables and columns (a conductor-made file opened read-only does not). Windows are
`since <= timestamp < until`. When limited, the newest rows of the window are returned,
in time order (the conductor's reader returns the oldest).
"""

from __future__ import annotations

import functools
import sqlite3
from collections import defaultdict
from functools import partial
from itertools import groupby
from operator import itemgetter
from typing import Any

from mzt_tui.models.construct import trusted_model
from mzt_tui.models.events import EventType, ProcessEvent
from mzt_tui.models.process import (
    GpuMetric,
    GpuProcessUsage,
    JobProgress,
    MonitorCost,
    ProcessMetric,
    SystemSnapshot,
)
from mzt_tui.store.faults import (
    RowCheck,
    choice_fault,
    list_fault,
    note_event_faults,
    note_process_faults,
    number_fault,
    row_faults,
)
from mzt_tui.store.repairs import RepairLog
from mzt_tui.store.rows import (
    clamp,
    clamp_int,
    parse_number_list,
    process_columns,
    process_from_row,
)

_IN_CHUNK = 900
"""Ids per `IN (...)` list: below SQLite's smallest limit on bound parameters."""
_MAX_RANGES = 8
"""Up to this many runs of consecutive snapshot ids are read as ranges, more as IN lists."""
_EVENT_TYPES = tuple(event_type.value for event_type in EventType)
_EVENT_TYPES_SQL = ", ".join(f"'{value}'" for value in _EVENT_TYPES)
_PRESSURE_LEVELS = frozenset({"none", "low", "medium", "high", "critical"})

# GPU, per-core and zombie columns repeat from snapshot to snapshot: parsed once per text.
_numbers = functools.lru_cache(maxsize=1024)(lambda text: tuple(parse_number_list(text)))

_SNAPSHOT_COLUMNS = """s.id, s.timestamp, s.daemon_pid, s.system_memory_total_mb,
    s.system_memory_available_mb, s.system_memory_used_mb, s.daemon_rss_mb, s.zombie_count,
    s.load_avg_1, s.load_avg_5, s.load_avg_15, s.gpu_count, s.gpu_utilization_pct,
    s.gpu_memory_used_mb, s.gpu_temperature, s.pressure_level, s.running_jobs, s.active_sheets"""
_EXTRAS_COLUMNS = """e.cpu_percent, e.per_core_cpu_percent, e.zombie_pids,
    e.conductor_uptime_seconds, e.monitor_cpu_percent, e.monitor_rss_mb,
    e.monitor_tick_seconds, e.monitor_late_ticks"""
_NO_EXTRAS_COLUMNS = "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"


def window(column: str, until: float | None, params: list[Any]) -> str:
    """SQL for `since <= column < until` (`since` already in `params`; `until` appended)."""
    if until is None:
        return f"{column} >= ?"
    params.append(until)
    return f"{column} >= ? AND {column} < ?"


_snapshot_key = itemgetter(0)
"""The snapshot id, first column of every process row read."""


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[start : start + _IN_CHUNK] for start in range(0, len(ids), _IN_CHUNK)]


def read_snapshots(
    conn: sqlite3.Connection,
    *,
    has_extras: bool,
    since: float,
    limit: int,
    until: float | None,
    job_id: str | None,
    repairs: RepairLog,
) -> list[SystemSnapshot]:
    """The newest `limit` snapshots of the window, in time order, with processes and GPUs.

    With `job_id`, only snapshots holding a process of that job, each with only its processes.
    What the read repairs in other writers' rows is noted in `repairs`.
    """
    params: list[Any] = [since]
    where = window("s.timestamp", until, params)
    if job_id is not None:
        where += (
            " AND EXISTS (SELECT 1 FROM process_metrics pm"
            " WHERE pm.snapshot_id = s.id AND pm.job_id = ?)"
        )
        params.append(job_id)
    params.append(max(limit, 0))
    extras = (
        f"{_EXTRAS_COLUMNS} FROM snapshots s"
        " LEFT JOIN mzt_snapshot_extras e ON e.snapshot_id = s.id"
        if has_extras
        else f"{_NO_EXTRAS_COLUMNS} FROM snapshots s"
    )
    snapshot_rows = conn.execute(
        f"SELECT {_SNAPSHOT_COLUMNS}, {extras} WHERE {where}"
        " ORDER BY s.timestamp DESC, s.id DESC LIMIT ?",
        params,
    ).fetchall()
    snapshot_rows.reverse()
    ids = [int(row[0]) for row in snapshot_rows]
    # A snapshot with an extras row (its column 18, cpu_percent, is NOT NULL) is ours.
    ours = [int(row[0]) for row in snapshot_rows if row[18] is not None]
    others = [int(row[0]) for row in snapshot_rows if row[18] is None]
    processes = _processes_by_snapshot(conn, has_extras, (ours, others), job_id)
    if others:
        # Only other writers' rows can need repairs: ours pay nothing for the accounting.
        _note_foreign_faults(
            conn,
            has_extras=has_extras,
            snapshot_rows=snapshot_rows,
            others=others,
            job_id=job_id,
            repairs=repairs,
        )
    gpu_extras, gpu_processes, progress = (
        _extras_by_snapshot(conn, ids) if has_extras and ids else ({}, {}, {})
    )
    return [
        _snapshot_from_row(
            row,
            processes.get(row[0], ()),
            gpu_extras.get(row[0], {}),
            gpu_processes.get(row[0], {}),
            progress.get(row[0], ()),
        )
        for row in snapshot_rows
    ]


_NUMBER_COLUMNS = (
    ("timestamp", 1, False),
    ("daemon_pid", 2, True),
    ("system_memory_total_mb", 3, False),
    ("system_memory_available_mb", 4, False),
    ("system_memory_used_mb", 5, False),
    ("daemon_rss_mb", 6, False),
    ("zombie_count", 7, True),
    ("load_avg_1", 8, False),
    ("load_avg_5", 9, False),
    ("load_avg_15", 10, False),
    ("gpu_count", 11, True),
    ("running_jobs", 16, True),
    ("active_sheets", 17, True),
)
_SNAPSHOT_CHECKS: tuple[RowCheck, ...] = (
    *(
        (name, position, partial(number_fault, whole=whole))
        for name, position, whole in _NUMBER_COLUMNS
    ),
    ("gpu_utilization_pct", 12, partial(list_fault, upper=100.0)),
    ("gpu_memory_used_mb", 13, list_fault),
    ("gpu_temperature", 14, list_fault),
    ("pressure_level", 15, partial(choice_fault, allowed=_PRESSURE_LEVELS)),
)
"""The checks of a foreign snapshot row (its Marianne columns: ours are never foreign)."""
_SNAPSHOT_CHECKED = tuple(name for name, _, _ in _SNAPSHOT_CHECKS)


def _note_foreign_faults(
    conn: sqlite3.Connection,
    *,
    has_extras: bool,
    snapshot_rows: list[Any],
    others: list[int],
    job_id: str | None,
    repairs: RepairLog,
) -> None:
    foreign = set(others)
    repairs.note_faults(
        "snapshots",
        _SNAPSHOT_CHECKED,
        (
            (row[0], *row_faults(row, _SNAPSHOT_CHECKS))
            for row in snapshot_rows
            if row[0] in foreign
        ),
    )
    job_filter = "" if job_id is None else " AND pm.job_id = ?"
    for where, params in _id_filters(others):
        note_process_faults(
            conn,
            repairs,
            has_extras=has_extras,
            source="process_metrics pm",
            where=where + job_filter,
            params=[*params, job_id] if job_id is not None else params,
        )


def _id_filters(ids: list[int]) -> list[tuple[str, list[int]]]:
    """WHERE clauses on `pm.snapshot_id` that select exactly `ids`.

    A few contiguous runs of ids (the usual window) become index ranges, which SQLite walks
    faster than it probes an IN list; scattered ids become IN lists.
    """
    ordered = sorted(set(ids))
    runs: list[list[int]] = []
    for snapshot_id in ordered:
        if runs and snapshot_id == runs[-1][1] + 1:
            runs[-1][1] = snapshot_id
        else:
            runs.append([snapshot_id, snapshot_id])
    if len(runs) <= _MAX_RANGES:
        return [("pm.snapshot_id BETWEEN ? AND ?", [low, high]) for low, high in runs]
    return [
        (f"pm.snapshot_id IN ({', '.join('?' * len(chunk))})", chunk) for chunk in _chunks(ordered)
    ]


def _processes_by_snapshot(
    conn: sqlite3.Connection,
    has_extras: bool,
    ids_by_writer: tuple[list[int], list[int]],
    job_id: str | None,
) -> dict[int, tuple[ProcessMetric, ...]]:
    """Every process of the given snapshots, grouped by snapshot id, in row order.

    `ids_by_writer` holds our own snapshots' ids, then every other writer's.
    """
    grouped: dict[int, tuple[ProcessMetric, ...]] = {}
    make = process_from_row
    job_filter = "" if job_id is None else " AND pm.job_id = ?"
    for ids, trusted in zip(ids_by_writer, (True, False), strict=True):
        columns = process_columns("pm", has_extras=has_extras, trusted=trusted)
        for where, params in _id_filters(ids):
            rows = conn.execute(
                f"SELECT pm.snapshot_id, {columns} FROM process_metrics pm"
                f" WHERE {where}{job_filter} ORDER BY pm.snapshot_id, pm.id",
                [*params, job_id] if job_id is not None else params,
            )
            # Rows come grouped by snapshot; grouping and building run in C-level loops
            # over the cursor, so each row tuple is freed as soon as its model is built.
            for snapshot_id, group in groupby(rows, _snapshot_key):
                grouped[snapshot_id] = tuple(map(make, group))
    return grouped


_GpuExtras = dict[int, dict[int, tuple[int, str, float, float | None]]]
_GpuProcesses = dict[int, dict[int, list[GpuProcessUsage]]]


def _extras_by_snapshot(
    conn: sqlite3.Connection, ids: list[int]
) -> tuple[_GpuExtras, _GpuProcesses, dict[int, tuple[JobProgress, ...]]]:
    gpus: _GpuExtras = defaultdict(dict)
    gpu_processes: _GpuProcesses = defaultdict(lambda: defaultdict(list))
    progress: dict[int, list[JobProgress]] = defaultdict(list)
    for chunk in _chunks(ids):
        marks = ", ".join("?" * len(chunk))
        for sid, position, index, name, total, power in conn.execute(
            "SELECT snapshot_id, position, gpu_index, name, memory_total_mb, power_w"
            f" FROM mzt_gpus WHERE snapshot_id IN ({marks})",
            chunk,
        ):
            power_w = None if power is None else clamp(power)
            gpus[sid][position] = (clamp_int(index), str(name or ""), clamp(total), power_w)
        for sid, position, index, pid, used, util in conn.execute(
            "SELECT snapshot_id, position, gpu_index, pid, memory_used_mb, utilization_pct"
            f" FROM mzt_gpu_processes WHERE snapshot_id IN ({marks}) ORDER BY id",
            chunk,
        ):
            gpu_processes[sid][position].append(
                GpuProcessUsage(
                    gpu_index=clamp_int(index),
                    pid=clamp_int(pid),
                    memory_used_mb=clamp(used),
                    utilization_pct=None if util is None else clamp(util, 100.0),
                )
            )
        for sid, job, total, done, current, status in conn.execute(
            "SELECT snapshot_id, job_id, total_sheets, last_completed_sheet, current_sheet,"
            f" status FROM mzt_job_progress WHERE snapshot_id IN ({marks})"
            " ORDER BY snapshot_id, position",
            chunk,
        ):
            progress[sid].append(
                JobProgress(
                    job_id=str(job),
                    total_sheets=clamp_int(total),
                    last_completed_sheet=clamp_int(done),
                    current_sheet=None if current is None else clamp_int(current),
                    status=str(status),
                )
            )
    return gpus, gpu_processes, {sid: tuple(items) for sid, items in progress.items()}


def _snapshot_from_row(
    row: tuple[Any, ...],
    processes: tuple[ProcessMetric, ...],
    gpu_extras: dict[int, tuple[int, str, float, float | None]],
    gpu_processes: dict[int, list[GpuProcessUsage]],
    job_progress: tuple[JobProgress, ...],
) -> SystemSnapshot:
    (
        _,
        timestamp,
        daemon_pid,
        memory_total,
        memory_available,
        memory_used,
        daemon_rss,
        zombie_count,
        load_1,
        load_5,
        load_15,
        gpu_count,
        gpu_util,
        gpu_memory,
        gpu_temperature,
        pressure,
        running_jobs,
        active_sheets,
        cpu_percent,
        per_core,
        zombie_pids,
        uptime,
        monitor_cpu,
        monitor_rss,
        monitor_tick,
        monitor_late,
    ) = row
    utilization = _numbers(gpu_util)
    memory = _numbers(gpu_memory)
    temperature = _numbers(gpu_temperature)
    gpus: list[GpuMetric] = []
    for position in range(clamp_int(gpu_count)):
        index, name, total, power = gpu_extras.get(position, (position, "", 0.0, None))
        gpus.append(
            trusted_model(
                GpuMetric,
                index=index,
                utilization_pct=min(utilization[position], 100.0)
                if position < len(utilization)
                else 0.0,
                memory_used_mb=memory[position] if position < len(memory) else 0.0,
                memory_total_mb=total,
                temperature_c=temperature[position] if position < len(temperature) else 0.0,
                power_w=power,
                name=name,
                processes=tuple(gpu_processes.get(position, ())),
            )
        )
    # Every value was made valid above (clamped, parsed, bounded) and the process models are
    # valid already (see rows.py), so the models are built without validating them again.
    return trusted_model(
        SystemSnapshot,
        timestamp=clamp(timestamp),
        daemon_pid=clamp_int(daemon_pid),
        system_memory_total_mb=clamp(memory_total),
        system_memory_available_mb=clamp(memory_available),
        system_memory_used_mb=clamp(memory_used),
        daemon_rss_mb=clamp(daemon_rss),
        load_avg_1=clamp(load_1),
        load_avg_5=clamp(load_5),
        load_avg_15=clamp(load_15),
        processes=processes,
        gpus=tuple(gpus),
        pressure_level=pressure if pressure in _PRESSURE_LEVELS else "none",
        running_jobs=clamp_int(running_jobs),
        active_sheets=clamp_int(active_sheets),
        zombie_count=clamp_int(zombie_count),
        zombie_pids=tuple(int(pid) for pid in _numbers(zombie_pids)),
        job_progress=job_progress,
        conductor_uptime_seconds=clamp(uptime),
        cpu_percent=clamp(cpu_percent, 100.0),
        per_core_cpu_percent=tuple(min(core, 100.0) for core in _numbers(per_core)),
        monitor=trusted_model(
            MonitorCost,
            cpu_percent=clamp(monitor_cpu),
            rss_mb=clamp(monitor_rss),
            tick_seconds=clamp(monitor_tick),
            late_ticks=clamp_int(monitor_late),
        ),
    )


def count_snapshots(conn: sqlite3.Connection, since: float, until: float | None) -> int:
    """How many snapshots the window holds."""
    params: list[Any] = [since]
    where = window("timestamp", until, params)
    return int(conn.execute(f"SELECT COUNT(*) FROM snapshots WHERE {where}", params).fetchone()[0])


_EVENT_COLUMNS = f"""MAX(CAST(timestamp AS REAL), 0.0), MAX(COALESCE(CAST(pid AS INTEGER), 0), 0),
    event_type, CAST(exit_code AS INTEGER),
    CASE WHEN signal_num >= 0 THEN CAST(signal_num AS INTEGER) END,
    CAST(job_id AS TEXT), CAST(sheet_num AS INTEGER), COALESCE(CAST(details AS TEXT), '')
    FROM process_events WHERE event_type IN ({_EVENT_TYPES_SQL})"""


def _event_filter(since: float, until: float | None, job_id: str | None, params: list[Any]) -> str:
    where = window("timestamp", until, params)
    if job_id is not None:
        where += " AND job_id = ?"
        params.append(job_id)
    return where


def read_events(
    conn: sqlite3.Connection,
    since: float,
    limit: int,
    until: float | None,
    job_id: str | None,
    *,
    repairs: RepairLog,
) -> list[ProcessEvent]:
    """The newest `limit` events of the window, in time order.

    Rows whose `event_type` is not one of the five are skipped (the conductor's reader
    would fail on them). What is skipped or repaired in the window is noted in `repairs`.
    """
    params: list[Any] = [since]
    where = _event_filter(since, until, job_id, params)
    note_event_faults(conn, repairs, known_types=_EVENT_TYPES_SQL, where=where, params=list(params))
    params.append(max(limit, 0))
    rows = conn.execute(
        f"SELECT {_EVENT_COLUMNS} AND {where} ORDER BY timestamp DESC, id DESC LIMIT ?",
        params,
    ).fetchall()
    rows.reverse()
    return [
        ProcessEvent(
            timestamp=timestamp,
            pid=pid,
            event_type=EventType(event_type),
            exit_code=exit_code,
            signal_num=signal_num,
            job_id=job,
            sheet_num=sheet_num,
            details=details,
        )
        for timestamp, pid, event_type, exit_code, signal_num, job, sheet_num, details in rows
    ]


def count_events(
    conn: sqlite3.Connection, since: float, until: float | None, job_id: str | None
) -> int:
    """How many readable events the window holds."""
    params: list[Any] = [since]
    where = _event_filter(since, until, job_id, params)
    return int(
        conn.execute(
            f"SELECT COUNT(*) FROM process_events WHERE event_type IN ({_EVENT_TYPES_SQL})"
            f" AND {where}",
            params,
        ).fetchone()[0]
    )


def read_process_samples(
    conn: sqlite3.Connection,
    *,
    has_extras: bool,
    pid: int,
    since: float,
    until: float | None,
    start_time: float | None,
    repairs: RepairLog,
) -> list[tuple[float, ProcessMetric]]:
    """A process's samples in the window as (snapshot timestamp, metric), in time order.

    What the read repairs in other writers' rows is noted in `repairs`.
    """
    params: list[Any] = [since]
    where = window("s.timestamp", until, params)
    where += " AND pm.pid = ?"
    params.append(pid)
    if start_time is not None and has_extras:
        where += " AND pm.mzt_start_time = ?"
        params.append(start_time)
    # Drive from the snapshot window (idx_snapshots_ts): there is no index on pid.
    note_process_faults(
        conn,
        repairs,
        has_extras=has_extras,
        source="snapshots s CROSS JOIN process_metrics pm ON pm.snapshot_id = s.id",
        where=where,
        params=params,
        snapshot_id="s.id",
    )
    rows = conn.execute(
        f"SELECT s.timestamp, {process_columns('pm', has_extras=has_extras)}"
        " FROM snapshots s CROSS JOIN process_metrics pm ON pm.snapshot_id = s.id"
        f" WHERE {where} ORDER BY s.timestamp, s.id",
        params,
    ).fetchall()
    return [(float(row[0]), process_from_row(row)) for row in rows]
