"""Turning models into rows: one transaction per snapshot, `executemany` for its processes.

Row tuples are built straight from the models' attributes (no dumps, no re-validation):
the models already hold only values the conductor's reader accepts, so the hot path is
one list comprehension and one `executemany`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from mzt_tui.models.events import Anomaly, ProcessEvent
from mzt_tui.models.process import ProcessMetric, SystemSnapshot

INSERT_SNAPSHOT = """INSERT INTO snapshots (
    timestamp, daemon_pid, system_memory_total_mb, system_memory_available_mb,
    system_memory_used_mb, daemon_rss_mb, child_count, zombie_count,
    load_avg_1, load_avg_5, load_avg_15, gpu_count, gpu_utilization_pct,
    gpu_memory_used_mb, gpu_temperature, pressure_level, running_jobs, active_sheets
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""

INSERT_PROCESS = """INSERT INTO process_metrics (
    snapshot_id, pid, ppid, command, state, cpu_percent, rss_mb, vms_mb, threads,
    open_fds, age_seconds, job_id, sheet_num, syscall_counts, syscall_time_pct,
    mzt_start_time, mzt_gpu_memory_mb, mzt_attribution_guessed
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""

INSERT_EXTRAS = """INSERT INTO mzt_snapshot_extras (
    snapshot_id, cpu_percent, per_core_cpu_percent, zombie_pids, conductor_uptime_seconds,
    monitor_cpu_percent, monitor_rss_mb, monitor_tick_seconds, monitor_late_ticks
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""

INSERT_GPU = """INSERT INTO mzt_gpus (
    snapshot_id, position, gpu_index, name, memory_total_mb, power_w
) VALUES (?, ?, ?, ?, ?, ?)"""

INSERT_GPU_PROCESS = """INSERT INTO mzt_gpu_processes (
    snapshot_id, position, gpu_index, pid, memory_used_mb, utilization_pct
) VALUES (?, ?, ?, ?, ?, ?)"""

INSERT_JOB_PROGRESS = """INSERT INTO mzt_job_progress (
    snapshot_id, position, job_id, total_sheets, last_completed_sheet, current_sheet, status
) VALUES (?, ?, ?, ?, ?, ?, ?)"""

INSERT_EVENT = """INSERT INTO process_events (
    timestamp, pid, event_type, exit_code, signal_num, job_id, sheet_num, details
) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"""

INSERT_ANOMALY = """INSERT INTO mzt_anomalies (
    anomaly_type, severity, started_at, ended_at, pid, job_id, sheet_num, description,
    metric_value, threshold
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""

EMPTY_JSON_OBJECT = "{}"
_compact_dumps = json.JSONEncoder(separators=(", ", ": ")).encode


def _json_array(values: Iterable[float | int]) -> str:
    return _compact_dumps(list(values))


def snapshot_row(snapshot: SystemSnapshot) -> tuple[object, ...]:
    """Return the `snapshots` row of a snapshot (GPU lists as JSON arrays, `"[]"` without GPUs)."""
    gpus = snapshot.gpus
    return (
        float(snapshot.timestamp),
        snapshot.daemon_pid,
        snapshot.system_memory_total_mb,
        snapshot.system_memory_available_mb,
        snapshot.system_memory_used_mb,
        snapshot.daemon_rss_mb,
        len(snapshot.processes),
        snapshot.zombie_count,
        snapshot.load_avg_1,
        snapshot.load_avg_5,
        snapshot.load_avg_15,
        len(gpus),
        _json_array(gpu.utilization_pct for gpu in gpus),
        _json_array(gpu.memory_used_mb for gpu in gpus),
        _json_array(gpu.temperature_c for gpu in gpus),
        snapshot.pressure_level,
        snapshot.running_jobs,
        snapshot.active_sheets,
    )


def process_rows(snapshot_id: int, processes: Iterable[ProcessMetric]) -> list[tuple[object, ...]]:
    """Return the `process_metrics` rows of a snapshot's processes (the hot path)."""
    dumps = _compact_dumps
    empty = EMPTY_JSON_OBJECT
    return [
        (
            snapshot_id,
            proc.pid,
            proc.ppid,
            proc.command,
            proc.state,
            proc.cpu_percent,
            proc.rss_mb,
            proc.vms_mb,
            proc.threads,
            proc.open_fds,
            proc.age_seconds,
            proc.job_id,
            proc.sheet_num,
            dumps(proc.syscall_counts) if proc.syscall_counts else empty,
            dumps(proc.syscall_time_pct) if proc.syscall_time_pct else empty,
            proc.start_time,
            proc.gpu_memory_mb,
            proc.attribution_guessed,
        )
        for proc in processes
    ]


def insert_snapshot(conn: sqlite3.Connection, snapshot: SystemSnapshot) -> int:
    """Insert a snapshot with its processes and our extras; the caller owns the transaction.

    Returns:
        The new `snapshots.id`.
    """
    cursor = conn.execute(INSERT_SNAPSHOT, snapshot_row(snapshot))
    snapshot_id = cursor.lastrowid
    if snapshot_id is None:  # pragma: no cover - an INSERT always sets it
        raise sqlite3.OperationalError("no row id for the new snapshot")
    if snapshot.processes:
        conn.executemany(INSERT_PROCESS, process_rows(snapshot_id, snapshot.processes))
    monitor = snapshot.monitor
    conn.execute(
        INSERT_EXTRAS,
        (
            snapshot_id,
            snapshot.cpu_percent,
            _json_array(snapshot.per_core_cpu_percent),
            _json_array(snapshot.zombie_pids),
            snapshot.conductor_uptime_seconds,
            monitor.cpu_percent,
            monitor.rss_mb,
            monitor.tick_seconds,
            monitor.late_ticks,
        ),
    )
    if snapshot.gpus:
        conn.executemany(
            INSERT_GPU,
            [
                (snapshot_id, position, gpu.index, gpu.name, gpu.memory_total_mb, gpu.power_w)
                for position, gpu in enumerate(snapshot.gpus)
            ],
        )
        gpu_process_rows = [
            (
                snapshot_id,
                position,
                usage.gpu_index,
                usage.pid,
                usage.memory_used_mb,
                usage.utilization_pct,
            )
            for position, gpu in enumerate(snapshot.gpus)
            for usage in gpu.processes
        ]
        if gpu_process_rows:
            conn.executemany(INSERT_GPU_PROCESS, gpu_process_rows)
    if snapshot.job_progress:
        conn.executemany(
            INSERT_JOB_PROGRESS,
            [
                (
                    snapshot_id,
                    position,
                    progress.job_id,
                    progress.total_sheets,
                    progress.last_completed_sheet,
                    progress.current_sheet,
                    progress.status,
                )
                for position, progress in enumerate(snapshot.job_progress)
            ],
        )
    return snapshot_id


def event_row(event: ProcessEvent) -> tuple[object, ...]:
    """Return the `process_events` row of an event (event_type as its exact lower-case value)."""
    return (
        float(event.timestamp),
        event.pid,
        event.event_type.value,
        event.exit_code,
        event.signal_num,
        event.job_id,
        event.sheet_num,
        event.details,
    )


def anomaly_row(anomaly: Anomaly) -> tuple[object, ...]:
    """Return the `mzt_anomalies` row of an anomaly (without its id)."""
    return (
        anomaly.anomaly_type.value,
        anomaly.severity,
        float(anomaly.started_at),
        None if anomaly.ended_at is None else float(anomaly.ended_at),
        anomaly.pid,
        anomaly.job_id,
        anomaly.sheet_num,
        anomaly.description,
        anomaly.metric_value,
        anomaly.threshold,
    )
