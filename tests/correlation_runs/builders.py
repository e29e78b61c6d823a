"""Builders of synthetic monitor.db ticks, registries and sheet runs for these tests."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mzt_tui.demo.registry_writer import JOBS_DDL
from mzt_tui.models.process import GpuMetric, ProcessMetric, SystemSnapshot
from mzt_tui.models.sheet_runs import SheetRunSummary
from mzt_tui.store import MonitorStore
from tests.store.factories import BASE_TIME, snapshot

DAEMON_PID = 4242
"""The conductor's PID in `tests.store.factories.snapshot`."""
MEMORY_FINDING = "[memory_vs_failure] Sheets with peak RSS 1-2GB fail more often"
"""The name of the pattern that records the planted effect."""


def proc(
    pid: int,
    *,
    ppid: int = DAEMON_PID,
    start: float,
    job_id: str | None = "job-a",
    sheet_num: int | None = 1,
    rss_mb: float = 100.0,
    cpu_percent: float = 10.0,
    open_fds: int = 10,
    threads: int = 2,
    gpu_memory_mb: float = 0.0,
    syscall_time_pct: dict[str, float] | None = None,
    now: float | None = None,
) -> ProcessMetric:
    """A process of a sheet (a root by default: its parent is the conductor)."""
    return ProcessMetric(
        pid=pid,
        ppid=ppid,
        command="python -m worker",
        cpu_percent=cpu_percent,
        rss_mb=rss_mb,
        vms_mb=rss_mb * 2,
        threads=threads,
        open_fds=open_fds,
        age_seconds=max(0.0, (now if now is not None else start) - start),
        job_id=job_id,
        sheet_num=sheet_num,
        syscall_time_pct=syscall_time_pct or {},
        start_time=start,
        gpu_memory_mb=gpu_memory_mb,
    )


def tick(timestamp: float, processes: Sequence[ProcessMetric], *, gpus: int = 0) -> SystemSnapshot:
    """A snapshot holding `processes` (with the conductor's PID), optionally with GPUs."""
    gpu_metrics = tuple(GpuMetric(index=index, memory_total_mb=80_000.0) for index in range(gpus))
    return snapshot(timestamp, tuple(processes), gpus=gpu_metrics)


def iso(timestamp: float | None) -> str | None:
    """A checkpoint timestamp, as the conductor writes it."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sheet_entry(
    sheet_num: int,
    status: str,
    started_at: float,
    *,
    attempt_count: int = 1,
    completed_at: float | None = None,
    exit_code: int | None = None,
    error_history: list[tuple[int, float]] | None = None,
) -> dict[str, Any]:
    """One sheet of a `checkpoint_json` (`error_history`: (attempt, end time) of failures)."""
    entry: dict[str, Any] = {
        "sheet_num": sheet_num,
        "status": status,
        "started_at": iso(started_at),
        "completed_at": iso(completed_at),
        "attempt_count": attempt_count,
        "exit_code": exit_code,
        "exit_signal": None,
    }
    if error_history is not None:
        entry["error_history"] = [
            {"attempt_number": number, "error_code": "E009", "timestamp": iso(ended)}
            for number, ended in error_history
        ]
    return entry


@dataclass(frozen=True)
class JobRow:
    """A registry row: the job, when it was submitted, and its sheets."""

    job_id: str
    submitted_at: float
    sheets: Sequence[dict[str, Any]]
    status: str = "completed"


def write_registry(path: Path, jobs: Sequence[JobRow]) -> None:
    """Write (replace) a `daemon-state.db` with the conductor's `jobs` table."""
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.execute(JOBS_DDL)
        for job in jobs:
            checkpoint = {
                "job_id": job.job_id,
                "status": job.status,
                "total_sheets": len(job.sheets),
                "sheets": {str(sheet["sheet_num"]): sheet for sheet in job.sheets},
            }
            conn.execute(
                "INSERT INTO jobs (job_id, config_path, workspace, status, pid, submitted_at,"
                " checkpoint_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    job.job_id,
                    f"/scores/{job.job_id}.yaml",
                    f"/workspaces/{job.job_id}",
                    job.status,
                    DAEMON_PID,
                    job.submitted_at,
                    json.dumps(checkpoint),
                ),
            )
        conn.commit()
    finally:
        conn.close()


def summary(
    job_id: str,
    sheet_num: int,
    root_pid: int,
    started_at: float,
    *,
    seconds: float = 10.0,
    peak_rss_mb: float = 100.0,
) -> SheetRunSummary:
    """A sheet-run summary with round figures."""
    return SheetRunSummary(
        job_id=job_id,
        sheet_num=sheet_num,
        root_pid=root_pid,
        root_start_time=started_at,
        started_at=started_at,
        ended_at=started_at + seconds,
        first_seen=started_at + 1.0,
        samples=3,
        duration_seconds=seconds,
        peak_rss_mb=peak_rss_mb,
        cpu_seconds=1.0,
        mean_cpu_percent=10.0,
        peak_fds=10,
        peak_threads=2,
        process_count=1,
        pids=(root_pid,),
    )


@dataclass(frozen=True)
class PlannedRun:
    """A synthetic sheet run: where it sits and how it ends."""

    job_id: str
    sheet_num: int
    pid: int
    start: float
    peak_rss_mb: float
    failed: bool


RUN_SPACING_SECONDS = 10.0


def planted_runs(
    high: Sequence[bool],
    low: Sequence[bool],
    *,
    jobs: int = 3,
    first_start: float = BASE_TIME,
) -> list[PlannedRun]:
    """Runs at 1.1 GB peak RSS (outcomes `high`) and 200 MB (outcomes `low`), interleaved.

    Runs follow each other every 10 s; their sheets are spread over `jobs` jobs.
    """
    # Spread both kinds evenly over time (and so over the jobs).
    placed = [(index / len(high), 1100.0, failed) for index, failed in enumerate(high)]
    placed += [(index / len(low), 200.0, failed) for index, failed in enumerate(low)]
    placed.sort(key=lambda item: (item[0], item[1]))
    memories = [(rss, failed) for _, rss, failed in placed]
    runs: list[PlannedRun] = []
    for index, (rss, failed) in enumerate(memories):
        job_index = index % jobs
        runs.append(
            PlannedRun(
                job_id=f"synth-{job_index}",
                sheet_num=index // jobs + 1,
                pid=20_000 + index,
                start=first_start + index * RUN_SPACING_SECONDS,
                peak_rss_mb=rss,
                failed=failed,
            )
        )
    return runs


def record_runs(db_path: Path, runs: Sequence[PlannedRun]) -> None:
    """Write ticks in which each run's root is seen twice, then gone."""
    with MonitorStore(db_path) as store:
        for run in runs:
            for offset, rss in ((1.0, run.peak_rss_mb * 0.5), (3.0, run.peak_rss_mb)):
                store.write_snapshot(
                    tick(
                        run.start + offset,
                        [
                            proc(
                                run.pid,
                                start=run.start,
                                job_id=run.job_id,
                                sheet_num=run.sheet_num,
                                rss_mb=rss,
                                now=run.start + offset,
                            )
                        ],
                    )
                )
        last = max(run.start for run in runs) + RUN_SPACING_SECONDS
        store.write_snapshot(tick(last, []))


def registry_for(
    path: Path, runs: Sequence[PlannedRun], *, failed: Sequence[bool] | None = None
) -> None:
    """A registry in which each run is its sheet's only attempt, ending as planned.

    Args:
        path: The registry file to write.
        runs: The runs.
        failed: Outcomes to record instead of the planned ones (same order as `runs`).
    """
    outcomes = [run.failed for run in runs] if failed is None else list(failed)
    by_job: dict[str, list[dict[str, Any]]] = {}
    for run, run_failed in zip(runs, outcomes, strict=True):
        by_job.setdefault(run.job_id, []).append(
            sheet_entry(
                run.sheet_num,
                "failed" if run_failed else "completed",
                run.start,
                completed_at=run.start + 5.0,
                exit_code=1 if run_failed else 0,
            )
        )
    first = min(run.start for run in runs) - 60.0
    write_registry(path, [JobRow(job_id, first, sheets) for job_id, sheets in by_job.items()])


def outcomes(failures: int, total: int) -> list[bool]:
    """`failures` failures spread evenly over `total` runs."""
    return [
        (index * failures) // total != ((index + 1) * failures) // total for index in range(total)
    ]
