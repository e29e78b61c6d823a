"""Sheet-run summaries (`mzt_sheet_runs`): one row per attempt of a sheet, built from ticks.

A sheet run is one attempt of one sheet of one job. Its ROOT is a process whose parent is the
snapshot's conductor (`daemon_pid`) and which is attributed to a job and a sheet; the root's
`(pid, start time)` tells attempts apart (`process_metrics.mzt_start_time`; for rows of other
writers, the snapshot time minus the process's age). The run's TREE at a tick is every process
of that job and sheet whose parent chain reaches the root; a process of the sheet whose chain
does not (an orphan) joins the one run of its sheet present at that tick, if there is exactly
one.

A run ENDS at the first tick that no longer shows its root; runs still showing in the newest
tick are not written. Figures, each over the ticks at which the run was seen:

- peak RSS, fds, threads, GPU memory: at each tick the tree's processes are SUMMED, and the
  largest sum is the peak (the tree's footprint, not its largest process);
- CPU seconds: the tree's summed CPU percentage times the time since the previous tick (at most
  the root's age, which is the interval at the first tick read: a sampler's first figure for
  a process is its lifetime average); a gap over `MAX_TICK_GAP_SECONDS`, the monitor being
  down, counts nothing;
- mean CPU: the mean of the tree's summed CPU percentage over the ticks;
- duration: last tick seen minus the root's start (short by less than one interval);
- dominant syscall: the largest summed share of syscall time, when syscalls were traced;
- anomalies: distinct types of the job's `mzt_anomalies` on the tree's PIDs (or on the sheet,
  without a PID) that overlap the run;
- GPU memory peak: None when no GPU was present at any tick of the run;
- process count: distinct `(pid, start time)` seen in the tree.

The same `SheetRunTracker` turns live ticks (the recorder) and stored ticks (`summarize`,
used by `MonitorStore.rebuild_sheet_runs`) into summaries, so both give the same rows. Only
our own snapshots (those with an `mzt_snapshot_extras` row) are read when the window has any:
the conductor's profiler may record the same processes into the same file.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from mzt_tui.models.sheet_runs import SheetRunSummary
from mzt_tui.store.faults import note_process_faults
from mzt_tui.store.repairs import RepairLog
from mzt_tui.store.rows import parse_shares, sql_int, sql_optional_real, sql_real
from mzt_tui.store.sheet_run_tracker import (
    MAX_TICK_GAP_SECONDS,
    ProcessSample,
    SheetRunTracker,
    TickSample,
    tick_from_snapshot,
)

__all__ = [
    "CREATE_SHEET_RUNS",
    "MAX_TICK_GAP_SECONDS",
    "SHEET_RUN_INDEXES",
    "SheetRunTracker",
    "TickSample",
    "attach_anomalies",
    "number_attempts",
    "read",
    "summarize",
    "tick_from_snapshot",
    "write",
]


CREATE_SHEET_RUNS = """CREATE TABLE IF NOT EXISTS mzt_sheet_runs (
    job_id TEXT NOT NULL,
    sheet_num INTEGER NOT NULL,
    root_pid INTEGER NOT NULL,
    root_start_time REAL NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    first_seen REAL NOT NULL,
    samples INTEGER NOT NULL,
    duration_seconds REAL NOT NULL,
    peak_rss_mb REAL NOT NULL,
    cpu_seconds REAL NOT NULL,
    mean_cpu_percent REAL NOT NULL,
    peak_fds INTEGER NOT NULL,
    peak_threads INTEGER NOT NULL,
    dominant_syscall TEXT,
    anomaly_types TEXT NOT NULL,
    gpu_memory_peak_mb REAL,
    process_count INTEGER NOT NULL,
    pids TEXT NOT NULL,
    PRIMARY KEY (job_id, sheet_num, root_pid, root_start_time)
) WITHOUT ROWID"""
"""One row per sheet attempt; `anomaly_types` and `pids` are JSON arrays."""

SHEET_RUN_INDEXES: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS mzt_idx_sheet_runs_ended ON mzt_sheet_runs(ended_at)",
)

_COLUMNS = (
    "job_id, sheet_num, root_pid, root_start_time, started_at, ended_at, first_seen, samples,"
    " duration_seconds, peak_rss_mb, cpu_seconds, mean_cpu_percent, peak_fds, peak_threads,"
    " dominant_syscall, anomaly_types, gpu_memory_peak_mb, process_count, pids"
)
_UPDATED = [name.strip() for name in _COLUMNS.split(",")][4:]
# A rebuild after retention deleted a run's first ticks would see less of it than was seen
# live: the row with more ticks stands.
UPSERT_SHEET_RUN = (
    f"INSERT INTO mzt_sheet_runs ({_COLUMNS}) VALUES ({', '.join('?' * 19)})"
    " ON CONFLICT(job_id, sheet_num, root_pid, root_start_time) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _UPDATED)
    + " WHERE excluded.samples >= mzt_sheet_runs.samples"
)


# -- monitor.db ---------------------------------------------------------------------------


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


_TICK_COLUMNS = (
    f"s.id, s.timestamp, s.daemon_pid, {sql_int('s.gpu_count')}, pm.pid, pm.ppid,"
    f" CAST(pm.job_id AS TEXT), CAST(pm.sheet_num AS INTEGER), {sql_real('pm.cpu_percent')},"
    f" {sql_real('pm.rss_mb')}, {sql_int('pm.threads', '1')}, {sql_int('pm.open_fds')},"
    f" {sql_real('pm.age_seconds')}, NULLIF(pm.syscall_time_pct, '{{}}')"
)


def _ticks(
    conn: sqlite3.Connection, *, has_extras: bool, since: float | None
) -> Iterator[TickSample]:
    """Stored ticks from `since` on, in time order, with their job processes and roots."""
    extras = (
        f", {sql_optional_real('pm.mzt_start_time')}, {sql_real('pm.mzt_gpu_memory_mb')}"
        if has_extras
        else ", NULL, 0.0"
    )
    where = "s.timestamp >= ?" if since is not None else "1"
    params: list[Any] = [since] if since is not None else []
    if has_extras:
        ours = conn.execute(
            "SELECT 1 FROM snapshots s JOIN mzt_snapshot_extras e ON e.snapshot_id = s.id"
            f" WHERE {where} LIMIT 1",
            params,
        ).fetchone()
        if ours is not None:
            where += " AND s.id IN (SELECT snapshot_id FROM mzt_snapshot_extras)"
    cursor = conn.execute(
        f"SELECT {_TICK_COLUMNS}{extras} FROM snapshots s"
        " LEFT JOIN process_metrics pm ON pm.snapshot_id = s.id"
        " AND (pm.job_id IS NOT NULL OR pm.ppid = s.daemon_pid)"
        f" WHERE {where} AND s.timestamp >= 0.0 ORDER BY s.timestamp, s.id, pm.id",
        params,
    )
    current_id: int | None = None
    current: TickSample | None = None
    for row in cursor:
        (snapshot_id, timestamp, daemon_pid, gpu_count, pid, ppid, job_id, sheet_num) = row[:8]
        if snapshot_id != current_id:
            if current is not None:
                yield current
            current_id = snapshot_id
            daemon = daemon_pid if isinstance(daemon_pid, int) and daemon_pid > 0 else 0
            current = TickSample(float(timestamp), daemon, int(gpu_count), [])
        if pid is None or current is None or not isinstance(pid, int) or pid < 0:
            continue
        cpu, rss, threads, fds, age, shares, start_time, gpu_mb = row[8:]
        processes = current.processes
        assert isinstance(processes, list)
        processes.append(
            ProcessSample(
                pid=pid,
                ppid=ppid if isinstance(ppid, int) and ppid >= 0 else 0,
                job_id=job_id,
                sheet_num=sheet_num,
                cpu_percent=cpu,
                rss_mb=rss,
                threads=threads,
                open_fds=fds,
                age_seconds=age,
                start_time=start_time,
                gpu_memory_mb=gpu_mb,
                syscall_time_pct=parse_shares(shares),
            )
        )
    if current is not None:
        yield current


def _scan_start(conn: sqlite3.Connection, since: float) -> float:
    """Where to start reading so that every run seen from `since` on is read whole."""
    row = conn.execute(
        "SELECT MIN(s.timestamp - pm.age_seconds) FROM snapshots s"
        " JOIN process_metrics pm ON pm.snapshot_id = s.id"
        " WHERE s.timestamp >= ? AND pm.ppid = s.daemon_pid AND pm.job_id IS NOT NULL"
        " AND pm.age_seconds >= 0.0",
        (since,),
    ).fetchone()
    earliest = row[0] if row is not None else None
    if isinstance(earliest, int | float) and math.isfinite(earliest):
        # One second of slack for the clock ticks an age is rounded to.
        return min(since, float(earliest) - 1.0)
    return since


_TICK_CHECKED = (
    "pid",
    "ppid",
    "cpu_percent",
    "rss_mb",
    "threads",
    "open_fds",
    "age_seconds",
    "syscall_time_pct",
    "mzt_start_time",
    "mzt_gpu_memory_mb",
)
"""The process columns `_ticks` reads, whose repairs in other writers' rows are noted."""


def summarize(
    conn: sqlite3.Connection,
    *,
    has_extras: bool,
    since: float | None,
    repairs: RepairLog | None = None,
) -> list[SheetRunSummary]:
    """Summaries of every run that ended and was seen at or after `since` (None: all).

    Runs still showing in the newest tick read have not ended and are left out. What the
    read repairs in other writers' rows is noted in `repairs`.
    """
    scan_from = None if since is None else _scan_start(conn, since)
    if repairs is not None:
        note_process_faults(
            conn,
            repairs,
            has_extras=has_extras,
            source="snapshots s CROSS JOIN process_metrics pm ON pm.snapshot_id = s.id",
            where=(
                "(pm.job_id IS NOT NULL OR pm.ppid = s.daemon_pid)"
                + ("" if scan_from is None else " AND s.timestamp >= ?")
            ),
            params=[] if scan_from is None else [scan_from],
            snapshot_id="s.id",
            columns=_TICK_CHECKED,
        )
    tracker = SheetRunTracker()
    ended: list[SheetRunSummary] = []
    for tick in _ticks(conn, has_extras=has_extras, since=scan_from):
        ended.extend(tracker.observe(tick))
    if since is not None:
        ended = [summary for summary in ended if summary.ended_at >= since]
    return attach_anomalies(conn, ended) if has_extras else ended


def attach_anomalies(
    conn: sqlite3.Connection, summaries: Iterable[SheetRunSummary]
) -> list[SheetRunSummary]:
    """Add to each summary the types of the job's anomalies on its processes during the run.

    An anomaly counts when its job is the run's, its PID is one of the tree's (or it has no
    PID and its sheet is the run's), and it was open at some time between the run's first
    and last tick.
    """
    attached: list[SheetRunSummary] = []
    for summary in summaries:
        pids = set(summary.pids)
        found = set(summary.anomaly_types)
        for anomaly_type, pid, sheet_num in conn.execute(
            "SELECT anomaly_type, pid, sheet_num FROM mzt_anomalies WHERE job_id = ?"
            " AND started_at <= ? AND (ended_at IS NULL OR ended_at >= ?)",
            (summary.job_id, summary.ended_at, summary.first_seen),
        ):
            if (pid in pids) if pid is not None else sheet_num == summary.sheet_num:
                found.add(str(anomaly_type))
        attached.append(summary.model_copy(update={"anomaly_types": tuple(sorted(found))}))
    return attached


def _row(summary: SheetRunSummary) -> tuple[object, ...]:
    return (
        summary.job_id,
        summary.sheet_num,
        summary.root_pid,
        summary.root_start_time,
        summary.started_at,
        summary.ended_at,
        summary.first_seen,
        summary.samples,
        summary.duration_seconds,
        summary.peak_rss_mb,
        summary.cpu_seconds,
        summary.mean_cpu_percent,
        summary.peak_fds,
        summary.peak_threads,
        summary.dominant_syscall,
        json.dumps(list(summary.anomaly_types)),
        summary.gpu_memory_peak_mb,
        summary.process_count,
        json.dumps(list(summary.pids)),
    )


def write(conn: sqlite3.Connection, summaries: Sequence[SheetRunSummary]) -> int:
    """Upsert summaries (anomalies attached first); return how many rows changed."""
    if not summaries:
        return 0
    before = conn.total_changes
    conn.executemany(UPSERT_SHEET_RUN, [_row(s) for s in attach_anomalies(conn, summaries)])
    return conn.total_changes - before


def _json_list(text: object) -> list[Any]:
    try:
        parsed = json.loads(str(text))
    except (ValueError, TypeError):
        return []
    return parsed if isinstance(parsed, list) else []


def read(conn: sqlite3.Connection, since: float | None) -> list[SheetRunSummary]:
    """Stored summaries of runs that ended at or after `since`, oldest start first.

    `attempt` numbers every stored run of a sheet by its start, the whole table counted.
    """
    if not _has_table(conn, "mzt_sheet_runs"):
        return []
    params: tuple[float, ...] = () if since is None else (since,)
    rows = conn.execute(
        f"SELECT {_COLUMNS}, attempt FROM (SELECT *, ROW_NUMBER() OVER ("
        "PARTITION BY job_id, sheet_num ORDER BY root_start_time, root_pid) AS attempt"
        " FROM mzt_sheet_runs)"
        + ("" if since is None else " WHERE ended_at >= ?")
        + " ORDER BY started_at, job_id, sheet_num",
        params,
    ).fetchall()
    summaries: list[SheetRunSummary] = []
    for row in rows:
        anomaly_types = tuple(str(item) for item in _json_list(row[15]))
        pids = tuple(int(item) for item in _json_list(row[18]) if isinstance(item, int))
        summaries.append(
            SheetRunSummary(
                job_id=row[0],
                sheet_num=row[1],
                root_pid=row[2],
                root_start_time=row[3],
                started_at=row[4],
                ended_at=row[5],
                first_seen=row[6],
                samples=row[7],
                duration_seconds=row[8],
                peak_rss_mb=row[9],
                cpu_seconds=row[10],
                mean_cpu_percent=row[11],
                peak_fds=row[12],
                peak_threads=row[13],
                dominant_syscall=row[14],
                anomaly_types=anomaly_types,
                gpu_memory_peak_mb=row[16],
                process_count=row[17],
                pids=pids,
                attempt=row[19],
            )
        )
    return summaries


def number_attempts(summaries: Iterable[SheetRunSummary]) -> list[SheetRunSummary]:
    """Number the runs of each sheet by their root's start (1 = first), oldest start first."""
    ordered = sorted(summaries, key=lambda s: (s.root_start_time, s.root_pid, s.job_id))
    counts: dict[tuple[str, int], int] = {}
    numbered: list[SheetRunSummary] = []
    for summary in ordered:
        sheet = (summary.job_id, summary.sheet_num)
        counts[sheet] = counts.get(sheet, 0) + 1
        numbered.append(summary.model_copy(update={"attempt": counts[sheet]}))
    return numbered
