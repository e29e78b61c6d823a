"""Reads of what only we record: anomalies and the 1-minute history; and the job list."""

from __future__ import annotations

import sqlite3
from typing import Any

from mzt_tui.models.events import Anomaly, AnomalyType
from mzt_tui.models.report import JobMinute, SystemMinute
from mzt_tui.store.faults import UNKNOWN, UNKNOWN_SKIPPED
from mzt_tui.store.reader import window
from mzt_tui.store.repairs import RepairLog
from mzt_tui.store.rows import clamp, clamp_int

_SEVERITIES = frozenset({"low", "medium", "high", "critical"})


def read_anomalies(
    conn: sqlite3.Connection,
    since: float,
    until: float | None,
    job_id: str | None,
    limit: int,
    *,
    repairs: RepairLog,
) -> list[Anomaly]:
    """Anomalies that overlap the window (still active ones included), newest `limit`.

    Rows of an unknown type are skipped and unknown severities read as medium; both are
    noted in `repairs`.
    """
    params: list[Any] = [since]
    where = "(ended_at IS NULL OR ended_at >= ?)"
    if until is not None:
        where += " AND started_at < ?"
        params.append(until)
    if job_id is not None:
        where += " AND job_id = ?"
        params.append(job_id)
    params.append(max(limit, 0))
    rows = conn.execute(
        "SELECT id, anomaly_type, severity, started_at, ended_at, pid, job_id, sheet_num,"
        " description, metric_value, threshold FROM mzt_anomalies"
        f" WHERE {where} ORDER BY started_at DESC, id DESC LIMIT ?",
        params,
    ).fetchall()
    rows.reverse()
    known = {member.value for member in AnomalyType}
    repairs.note(
        (("mzt_anomalies", column, what), row[0])
        for row in rows
        for column, what in _anomaly_faults(row[1], row[2], known)
    )
    return [
        Anomaly(
            anomaly_type=AnomalyType(kind),
            severity=severity if severity in _SEVERITIES else "medium",
            started_at=clamp(started),
            ended_at=None if ended is None else clamp(ended),
            pid=None if pid is None else clamp_int(pid),
            job_id=None if job is None else str(job),
            sheet_num=sheet_num,
            description=str(description or ""),
            metric_value=metric,
            threshold=threshold,
        )
        for (
            _,
            kind,
            severity,
            started,
            ended,
            pid,
            job,
            sheet_num,
            description,
            metric,
            threshold,
        ) in rows
        if kind in known
    ]


def _anomaly_faults(kind: object, severity: object, known: set[str]) -> tuple[tuple[str, str], ...]:
    """(column, what) of what a read of an anomaly row skips or repairs."""
    if kind not in known:
        return (("anomaly_type", UNKNOWN_SKIPPED),)
    if severity not in _SEVERITIES:
        return (("severity", UNKNOWN),)
    return ()


def read_job_minutes(
    conn: sqlite3.Connection, job_id: str, since: float, until: float | None
) -> list[JobMinute]:
    """A job's 1-minute history (every sheet), in time order."""
    params: list[Any] = [job_id, since]
    where = "job_id = ? AND " + window("minute", until, params)
    rows = conn.execute(
        "SELECT minute, job_id, sheet_num, samples, cpu_percent_mean, cpu_percent_max,"
        " rss_mb_max, process_rss_mb_max, open_fds_max, threads_max, process_count_mean,"
        f" process_count_max, gpu_memory_mb_max FROM mzt_minutes_job WHERE {where}"
        " ORDER BY minute, sheet_num",
        params,
    ).fetchall()
    return [
        JobMinute(
            minute=row[0],
            job_id=row[1],
            sheet_num=None if row[2] == -1 else row[2],
            samples=row[3],
            cpu_percent_mean=row[4],
            cpu_percent_max=row[5],
            rss_mb_max=row[6],
            process_rss_mb_max=row[7],
            open_fds_max=row[8],
            threads_max=row[9],
            process_count_mean=row[10],
            process_count_max=row[11],
            gpu_memory_mb_max=row[12],
        )
        for row in rows
    ]


def read_system_minutes(
    conn: sqlite3.Connection, since: float, until: float | None
) -> list[SystemMinute]:
    """The system's 1-minute history, in time order."""
    params: list[Any] = [since]
    where = window("minute", until, params)
    rows = conn.execute(
        "SELECT minute, samples, cpu_percent_mean, cpu_percent_max, memory_used_mb_max,"
        " memory_available_mb_min, load_avg_1_max, daemon_rss_mb_max, process_count_max,"
        " zombie_count_max, running_jobs_max, active_sheets_max FROM mzt_minutes_system"
        f" WHERE {where} ORDER BY minute",
        params,
    ).fetchall()
    names = tuple(SystemMinute.model_fields)
    return [SystemMinute.model_validate(dict(zip(names, row, strict=True))) for row in rows]


def job_ids(conn: sqlite3.Connection, has_extras: bool) -> list[str]:
    """Every job id recorded in process rows, events or (ours) the 1-minute history, sorted."""
    sources = [
        "SELECT DISTINCT job_id FROM process_metrics WHERE job_id IS NOT NULL",
        "SELECT DISTINCT job_id FROM process_events WHERE job_id IS NOT NULL",
    ]
    if has_extras:
        sources.append("SELECT DISTINCT job_id FROM mzt_minutes_job")
    rows = conn.execute(" UNION ".join(sources)).fetchall()
    return sorted({str(row[0]) for row in rows})
