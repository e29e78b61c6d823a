"""Builders of valid snapshots, processes and events for the store tests; hypothesis strategies."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from mzt_tui.models.events import Anomaly, AnomalyType, EventType, ProcessEvent
from mzt_tui.models.process import (
    GpuMetric,
    GpuProcessUsage,
    JobProgress,
    MonitorCost,
    ProcessMetric,
    SystemSnapshot,
)
from mzt_tui.store.schema import create_marianne_schema

BASE_TIME = 1_795_399_980.0
"""A round minute (divisible by 60), so minute boundaries in tests are easy to reason about."""


def process(
    pid: int,
    *,
    job_id: str | None = "job-a",
    sheet_num: int | None = 1,
    cpu_percent: float = 10.0,
    rss_mb: float = 100.0,
    age_seconds: float = 60.0,
    start_time: float | None = None,
    command: str = "claude -p task",
    open_fds: int = 10,
    threads: int = 4,
    syscall_counts: dict[str, int] | None = None,
    syscall_time_pct: dict[str, float] | None = None,
) -> ProcessMetric:
    """A job process with round numbers."""
    return ProcessMetric(
        pid=pid,
        ppid=1,
        command=command,
        state="S",
        cpu_percent=cpu_percent,
        rss_mb=rss_mb,
        vms_mb=rss_mb * 3,
        threads=threads,
        open_fds=open_fds,
        age_seconds=age_seconds,
        job_id=job_id,
        sheet_num=sheet_num,
        syscall_counts=syscall_counts or {},
        syscall_time_pct=syscall_time_pct or {},
        start_time=start_time,
    )


def snapshot(
    timestamp: float,
    processes: tuple[ProcessMetric, ...] = (),
    *,
    gpus: tuple[GpuMetric, ...] = (),
    cpu_percent: float = 25.0,
) -> SystemSnapshot:
    """A snapshot at `timestamp` holding `processes`."""
    return SystemSnapshot(
        timestamp=timestamp,
        daemon_pid=4242,
        system_memory_total_mb=64_000.0,
        system_memory_available_mb=40_000.0,
        system_memory_used_mb=24_000.0,
        daemon_rss_mb=180.0,
        load_avg_1=1.5,
        load_avg_5=1.2,
        load_avg_15=0.9,
        processes=processes,
        gpus=gpus,
        running_jobs=1,
        active_sheets=1,
        cpu_percent=cpu_percent,
    )


def full_snapshot(timestamp: float) -> SystemSnapshot:
    """A snapshot that uses every extra we store: GPUs with processes, zombies, progress."""
    return SystemSnapshot(
        timestamp=timestamp,
        daemon_pid=4242,
        processes=(
            process(
                5001,
                start_time=timestamp - 60.0,
                syscall_counts={"read": 10, "write": 5},
                syscall_time_pct={"read": 60.0, "write": 40.0},
            ),
            process(5002, job_id=None, sheet_num=None, cpu_percent=0.0),
        ),
        gpus=(
            GpuMetric(
                index=1,
                utilization_pct=100.0,
                memory_used_mb=2048.0,
                memory_total_mb=81_559.0,
                temperature_c=45.5,
                power_w=250.0,
                name="NVIDIA H100",
                processes=(GpuProcessUsage(gpu_index=1, pid=5001, memory_used_mb=1024.0),),
            ),
        ),
        pressure_level="high",
        zombie_count=2,
        zombie_pids=(7001, 7002),
        job_progress=(JobProgress(job_id="job-a", total_sheets=5, last_completed_sheet=2),),
        conductor_uptime_seconds=3600.0,
        cpu_percent=42.0,
        per_core_cpu_percent=(40.0, 44.0),
        monitor=MonitorCost(cpu_percent=1.5, rss_mb=80.0, tick_seconds=0.05, late_ticks=1),
    )


def event(
    timestamp: float,
    event_type: EventType,
    *,
    pid: int = 5001,
    job_id: str | None = "job-a",
    sheet_num: int | None = 1,
    exit_code: int | None = None,
    signal_num: int | None = None,
    details: str = "",
) -> ProcessEvent:
    """A lifecycle event."""
    return ProcessEvent(
        timestamp=timestamp,
        pid=pid,
        event_type=event_type,
        exit_code=exit_code,
        signal_num=signal_num,
        job_id=job_id,
        sheet_num=sheet_num,
        details=details,
    )


def anomaly(started_at: float, ended_at: float | None = None, *, job_id: str = "job-a") -> Anomaly:
    """A memory spike of job-a's sheet 1."""
    return Anomaly(
        anomaly_type=AnomalyType.MEMORY_SPIKE,
        severity="high",
        started_at=started_at,
        ended_at=ended_at,
        pid=5001,
        job_id=job_id,
        sheet_num=1,
        description="RSS grew 1.8x in 30 s",
        metric_value=1.8,
        threshold=1.5,
    )


CONDUCTOR_SNAPSHOT = {
    "timestamp": BASE_TIME,
    "daemon_pid": 4242,
    "system_memory_total_mb": 64_000.0,
    "system_memory_available_mb": 40_000.0,
    "system_memory_used_mb": 24_000.0,
    "daemon_rss_mb": 180.0,
    "child_count": 1,
    "zombie_count": 0,
    "load_avg_1": 1.0,
    "load_avg_5": 1.0,
    "load_avg_15": 1.0,
    "gpu_count": 1,
    "gpu_utilization_pct": "[50.0]",
    "gpu_memory_used_mb": "[1024.0]",
    "gpu_temperature": "[40.0]",
    "pressure_level": "none",
    "running_jobs": 1,
    "active_sheets": 1,
}
"""A snapshot row as the conductor writes it: every value valid."""
CONDUCTOR_PROCESS = {
    "pid": 100,
    "ppid": 1,
    "command": "claude -p task",
    "state": "S",
    "cpu_percent": 10.0,
    "rss_mb": 100.0,
    "vms_mb": 300.0,
    "threads": 4,
    "open_fds": 10,
    "age_seconds": 60.0,
    "job_id": "job-a",
    "sheet_num": 1,
    "syscall_counts": '{"read": 10}',
    "syscall_time_pct": '{"read": 100.0}',
}
"""A process row as the conductor writes it: every value valid."""


def insert_row(conn: sqlite3.Connection, table: str, row: dict[str, object]) -> int:
    """Insert `row` (column → value) into `table` as any writer could; returns its id."""
    names = ", ".join(row)
    marks = ", ".join("?" * len(row))
    cursor = conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(row.values()))
    return int(cursor.lastrowid or 0)


def conductor_file(
    path: Path,
    *,
    snapshot_values: dict[str, object] | None = None,
    process_values: dict[str, object] | None = None,
) -> Path:
    """A conductor-made monitor.db: one snapshot, one process row, one exit event.

    The values given replace the valid ones the conductor would have written.
    """
    conn = sqlite3.connect(path)
    create_marianne_schema(conn)
    snapshot_id = insert_row(conn, "snapshots", {**CONDUCTOR_SNAPSHOT, **(snapshot_values or {})})
    insert_row(
        conn,
        "process_metrics",
        {"snapshot_id": snapshot_id, **CONDUCTOR_PROCESS, **(process_values or {})},
    )
    insert_row(
        conn,
        "process_events",
        {"timestamp": BASE_TIME, "pid": 100, "event_type": "exit", "job_id": "job-a"},
    )
    conn.commit()
    conn.close()
    return path


def raw_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` on `path`, read through a plain read-only connection."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [tuple(row) for row in conn.execute(sql)]
    finally:
        conn.close()


# -- hypothesis strategies ----------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8"), max_size=40)
_metric = st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False)
_percent = st.floats(min_value=0.0, max_value=100.0, allow_nan=False, allow_infinity=False)
_count = st.integers(min_value=0, max_value=2**31)

processes = st.builds(
    ProcessMetric,
    pid=st.integers(min_value=0, max_value=2**22),
    ppid=st.integers(min_value=0, max_value=2**22),
    command=st.text(st.characters(codec="utf-8"), max_size=600),
    state=st.sampled_from("RSDZTI"),
    cpu_percent=_metric,
    rss_mb=_metric,
    vms_mb=_metric,
    threads=_count,
    open_fds=_count,
    age_seconds=_metric,
    job_id=st.none() | _text,
    sheet_num=st.none() | st.integers(min_value=-5, max_value=10_000),
    syscall_counts=st.dictionaries(_text, _count, max_size=4),
    syscall_time_pct=st.dictionaries(_text, _percent, max_size=4),
    start_time=st.none() | _metric,
    gpu_memory_mb=_metric,
    attribution_guessed=st.booleans(),
)

gpus = st.builds(
    GpuMetric,
    index=st.integers(min_value=0, max_value=15),
    utilization_pct=_percent,
    memory_used_mb=_metric,
    memory_total_mb=_metric,
    temperature_c=_metric,
    power_w=st.none() | _metric,
    name=_text,
    processes=st.lists(
        st.builds(
            GpuProcessUsage,
            gpu_index=st.integers(min_value=0, max_value=15),
            pid=st.integers(min_value=0, max_value=2**22),
            memory_used_mb=_metric,
            utilization_pct=st.none() | _percent,
        ),
        max_size=3,
    ).map(tuple),
)

snapshot_bodies = st.builds(
    SystemSnapshot,
    timestamp=st.just(0.0),
    daemon_pid=st.integers(min_value=0, max_value=2**22),
    system_memory_total_mb=_metric,
    system_memory_available_mb=_metric,
    system_memory_used_mb=_metric,
    daemon_rss_mb=_metric,
    load_avg_1=_metric,
    load_avg_5=_metric,
    load_avg_15=_metric,
    processes=st.lists(processes, max_size=4).map(tuple),
    gpus=st.lists(gpus, max_size=2).map(tuple),
    pressure_level=st.sampled_from(["none", "low", "medium", "high", "critical"]),
    running_jobs=_count,
    active_sheets=_count,
    zombie_count=_count,
    zombie_pids=st.lists(st.integers(min_value=0, max_value=2**22), max_size=3).map(tuple),
    job_progress=st.lists(
        st.builds(
            JobProgress,
            job_id=_text,
            total_sheets=_count,
            last_completed_sheet=_count,
            current_sheet=st.none() | _count,
            status=_text,
        ),
        max_size=2,
    ).map(tuple),
    conductor_uptime_seconds=_metric,
    cpu_percent=_percent,
    per_core_cpu_percent=st.lists(_percent, max_size=4).map(tuple),
    monitor=st.builds(
        MonitorCost,
        cpu_percent=_metric,
        rss_mb=_metric,
        tick_seconds=_metric,
        late_ticks=_count,
    ),
)


@st.composite
def snapshot_series(draw: st.DrawFn) -> list[SystemSnapshot]:
    """One to four snapshots at increasing timestamps."""
    bodies = draw(st.lists(snapshot_bodies, min_size=1, max_size=4))
    start = draw(st.floats(min_value=0.0, max_value=2e9, allow_nan=False))
    steps = draw(st.lists(st.floats(min_value=0.001, max_value=600.0), min_size=4, max_size=4))
    series: list[SystemSnapshot] = []
    timestamp = start
    for body, step in zip(bodies, steps, strict=False):
        series.append(body.model_copy(update={"timestamp": timestamp}))
        timestamp += step
    return series


events = st.builds(
    ProcessEvent,
    timestamp=st.floats(min_value=0.0, max_value=2e9, allow_nan=False),
    pid=st.integers(min_value=0, max_value=2**22),
    event_type=st.sampled_from(list(EventType)),
    exit_code=st.none() | st.integers(min_value=-255, max_value=255),
    signal_num=st.none() | st.integers(min_value=0, max_value=64),
    job_id=st.none() | _text,
    sheet_num=st.none() | st.integers(min_value=0, max_value=10_000),
    details=_text,
)

anomalies = st.builds(
    Anomaly,
    anomaly_type=st.sampled_from(list(AnomalyType)),
    severity=st.sampled_from(["low", "medium", "high", "critical"]),
    started_at=st.floats(min_value=0.0, max_value=2e9, allow_nan=False),
    ended_at=st.none(),
    pid=st.none() | st.integers(min_value=0, max_value=2**22),
    job_id=st.none() | _text,
    sheet_num=st.none() | st.integers(min_value=0, max_value=100),
    description=_text,
    metric_value=st.none() | _metric,
    threshold=st.none() | _metric,
)
