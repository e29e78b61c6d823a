"""A job's resource profile (the conductor's keys, computed correctly) from monitor.db rows."""

from __future__ import annotations

import itertools
import sqlite3
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from mzt_tui.models.report import JobResourceProfile, SheetResourceMetrics
from mzt_tui.store.faults import note_process_faults
from mzt_tui.store.repairs import RepairLog
from mzt_tui.store.rows import parse_counts, parse_shares, sql_int, sql_real

GAP_FACTOR = 3.0
"""A process sample more than this many nominal intervals after the previous one follows a gap."""
DEFAULT_INTERVAL_SECONDS = 5.0
"""The tick interval assumed when nothing recorded tells the real one."""

ProcessKey = tuple[int, float | None]
"""A process's identity: its PID, and its start time where recorded (PIDs are reused)."""


@dataclass
class _SheetAccumulator:
    peak_rss_mb: float = 0.0
    max_cpu_pct: float = 0.0
    cpu_seconds: float = 0.0
    peak_open_fds: int = 0
    peak_threads: int = 0
    pids: set[int] = field(default_factory=set)
    rss_by_snapshot: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    first_seen: float | None = None
    last_seen: float | None = None

    def add(self, timestamp: float, snapshot_id: int, pid: int, sample: _Sample) -> None:
        self.peak_rss_mb = max(self.peak_rss_mb, sample.rss_mb)
        self.max_cpu_pct = max(self.max_cpu_pct, sample.cpu_percent)
        self.peak_open_fds = max(self.peak_open_fds, sample.open_fds)
        self.peak_threads = max(self.peak_threads, sample.threads)
        self.pids.add(pid)
        self.rss_by_snapshot[snapshot_id] += sample.rss_mb
        if self.first_seen is None:
            self.first_seen = timestamp
        self.last_seen = timestamp

    def metrics(self) -> SheetResourceMetrics:
        return SheetResourceMetrics(
            peak_rss_mb=self.peak_rss_mb,
            max_cpu_pct=self.max_cpu_pct,
            cpu_seconds=self.cpu_seconds,
            peak_total_rss_mb=max(self.rss_by_snapshot.values(), default=0.0),
            peak_open_fds=self.peak_open_fds,
            peak_threads=self.peak_threads,
            unique_pid_count=len(self.pids),
            first_seen=self.first_seen,
            last_seen=self.last_seen,
        )


@dataclass(frozen=True, slots=True)
class _Sample:
    timestamp: float
    sheet_num: int | None
    cpu_percent: float
    rss_mb: float
    age_seconds: float
    open_fds: int
    threads: int


_PROFILE_COLUMNS = (
    "pid",
    "sheet_num",
    "cpu_percent",
    "rss_mb",
    "age_seconds",
    "open_fds",
    "threads",
    "syscall_counts",
    "syscall_time_pct",
)
"""The process columns a profile reads (and repairs in other writers' rows)."""


def _profile_rows(
    conn: sqlite3.Connection, job_id: str, has_extras: bool, repairs: RepairLog
) -> list[Any]:
    start_time = "pm.mzt_start_time" if has_extras else "NULL"
    note_process_faults(
        conn,
        repairs,
        has_extras=has_extras,
        source="process_metrics pm",
        where="pm.job_id = ?",
        params=[job_id],
        columns=_PROFILE_COLUMNS,
    )
    return conn.execute(
        f"""SELECT s.timestamp, s.id, {sql_int("pm.pid")},
            CAST(pm.sheet_num AS INTEGER), {sql_real("pm.cpu_percent")}, {sql_real("pm.rss_mb")},
            {sql_real("pm.age_seconds")}, {sql_int("pm.open_fds")}, {sql_int("pm.threads", "1")},
            NULLIF(pm.syscall_counts, '{{}}'), NULLIF(pm.syscall_time_pct, '{{}}'), {start_time}
        FROM process_metrics pm JOIN snapshots s ON s.id = pm.snapshot_id
        WHERE pm.job_id = ? ORDER BY s.timestamp, s.id, pm.id""",
        (job_id,),
    ).fetchall()


def nominal_interval(
    samples_by_process: dict[ProcessKey, list[_Sample]], snapshot_times: list[float]
) -> float:
    """The median time between a process's consecutive samples (the tick interval).

    Falls back to the median spacing of the job's snapshots, then to 5 s.
    """
    deltas = [
        later.timestamp - earlier.timestamp
        for samples in samples_by_process.values()
        for earlier, later in itertools.pairwise(samples)
        if later.timestamp > earlier.timestamp
    ]
    if not deltas:
        ordered = sorted(set(snapshot_times))
        deltas = [b - a for a, b in itertools.pairwise(ordered)]
    return statistics.median(deltas) if deltas else DEFAULT_INTERVAL_SECONDS


def cpu_seconds_of(samples: list[_Sample], interval: float) -> list[float]:
    """CPU seconds each sample of one process stands for (cpu% / 100 × its interval).

    A sample's `cpu_percent` covers the time since the process's previous sample. The first
    sample, and the first after a gap longer than `GAP_FACTOR` intervals, count at most one
    nominal interval, capped by the process's age: CPU spent before the monitor saw the
    process is unknown, and so is CPU spent in a gap.
    """
    seconds: list[float] = []
    previous: float | None = None
    for sample in samples:
        elapsed = None if previous is None else sample.timestamp - previous
        if elapsed is None or elapsed > GAP_FACTOR * interval:
            elapsed = min(sample.age_seconds, interval)
        seconds.append(sample.cpu_percent / 100.0 * max(elapsed, 0.0))
        previous = sample.timestamp
    return seconds


def syscall_shares(summaries: list[tuple[dict[str, float], dict[str, int]]]) -> dict[str, float]:
    """Combine per-process syscall time shares into shares of the job that sum to 100.

    Each entry is one process's latest `strace -c` summary (shares, counts); summaries are
    cumulative, so one per process. A process weighs by its total call count; all weigh the
    same when no counts were recorded.
    """
    totals: dict[str, float] = defaultdict(float)
    use_counts = all(sum(counts.values()) > 0 for _, counts in summaries)
    for shares, counts in summaries:
        share_sum = sum(shares.values())
        if share_sum <= 0:
            continue
        weight = float(sum(counts.values())) if use_counts else 1.0
        for name, share in shares.items():
            totals[name] += weight * share / share_sum
    grand_total = sum(totals.values())
    if grand_total <= 0:
        return {}
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    return {name: 100.0 * value / grand_total for name, value in ranked}


def read_job_resource_profile(
    conn: sqlite3.Connection, job_id: str, has_extras: bool, repairs: RepairLog
) -> JobResourceProfile:
    """Compute a job's profile from its process rows and spawn events (one read transaction).

    What the read repairs in other writers' rows is noted in `repairs`.
    """
    rows = _profile_rows(conn, job_id, has_extras, repairs)
    spawn_count = int(
        conn.execute(
            "SELECT COUNT(*) FROM process_events WHERE job_id = ? AND event_type = 'spawn'",
            (job_id,),
        ).fetchone()[0]
    )
    if not rows:
        return JobResourceProfile(job_id=job_id, process_spawn_count=spawn_count)

    samples_by_process: dict[ProcessKey, list[_Sample]] = defaultdict(list)
    latest_summary: dict[ProcessKey, tuple[str | None, str | None]] = {}
    sheets: dict[int, _SheetAccumulator] = defaultdict(_SheetAccumulator)
    job = _SheetAccumulator()
    snapshot_times: list[float] = []
    for row in rows:
        timestamp, snapshot_id, pid, sheet_num, cpu, rss, age, fds, threads = row[:9]
        counts_text, shares_text, start_time = row[9:]
        sample = _Sample(float(timestamp), sheet_num, cpu, rss, age, fds, threads)
        key: ProcessKey = (pid, start_time)
        samples_by_process[key].append(sample)
        snapshot_times.append(sample.timestamp)
        job.add(sample.timestamp, snapshot_id, pid, sample)
        if sheet_num is not None:
            sheets[sheet_num].add(sample.timestamp, snapshot_id, pid, sample)
        if shares_text:
            latest_summary[key] = (counts_text, shares_text)

    interval = nominal_interval(samples_by_process, snapshot_times)
    for samples in samples_by_process.values():
        for sample, seconds in zip(samples, cpu_seconds_of(samples, interval), strict=True):
            job.cpu_seconds += seconds
            if sample.sheet_num is not None:
                sheets[sample.sheet_num].cpu_seconds += seconds

    summaries = [
        (parse_shares(shares_text), parse_counts(counts_text))
        for counts_text, shares_text in latest_summary.values()
    ]
    whole = job.metrics()
    return JobResourceProfile(
        job_id=job_id,
        peak_rss_mb=whole.peak_rss_mb,
        process_spawn_count=spawn_count,
        sheet_metrics={str(num): sheets[num].metrics() for num in sorted(sheets)},
        syscall_hotspots=syscall_shares(summaries),
        total_cpu_seconds=job.cpu_seconds,
        unique_pid_count=whole.unique_pid_count,
        peak_total_rss_mb=whole.peak_total_rss_mb,
        peak_open_fds=whole.peak_open_fds,
        peak_threads=whole.peak_threads,
        sample_count=len(rows),
        first_seen=whole.first_seen,
        last_seen=whole.last_seen,
        nominal_interval_seconds=interval,
    )
