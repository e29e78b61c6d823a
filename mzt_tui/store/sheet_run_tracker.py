"""Sheet runs followed tick by tick: which processes form each attempt's tree, and its figures.

Pure Python over plain tuples, so that live ticks (the recorder) and ticks read back from
monitor.db (`sheet_runs.summarize`) go through the same code and give the same summaries.
The rules (roots, trees, what each figure means) are in `mzt_tui.store.sheet_runs`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from mzt_tui.models.process import SystemSnapshot
from mzt_tui.models.sheet_runs import SheetRunSummary

MAX_TICK_GAP_SECONDS = 300.0
"""A longer gap between ticks is an outage of the monitor: its CPU time is not counted."""
START_TIME_TOLERANCE_SECONDS = 1.0
"""Roots without a recorded start time match a run whose estimated start is this close."""
_MAX_TREE_DEPTH = 256


class ProcessSample(NamedTuple):
    """What a summary needs of one process at one tick."""

    pid: int
    ppid: int
    job_id: str | None
    sheet_num: int | None
    cpu_percent: float
    rss_mb: float
    threads: int
    open_fds: int
    age_seconds: float
    start_time: float | None
    gpu_memory_mb: float
    syscall_time_pct: Mapping[str, float]


class TickSample(NamedTuple):
    """What a summary needs of one tick."""

    timestamp: float
    daemon_pid: int
    gpu_count: int
    processes: Sequence[ProcessSample]


def tick_from_snapshot(snapshot: SystemSnapshot) -> TickSample:
    """The parts of a live snapshot that sheet-run summaries use."""
    return TickSample(
        timestamp=snapshot.timestamp,
        daemon_pid=snapshot.daemon_pid,
        gpu_count=len(snapshot.gpus),
        processes=[
            ProcessSample(
                pid=p.pid,
                ppid=p.ppid,
                job_id=p.job_id,
                sheet_num=p.sheet_num,
                cpu_percent=p.cpu_percent,
                rss_mb=p.rss_mb,
                threads=p.threads,
                open_fds=p.open_fds,
                age_seconds=p.age_seconds,
                start_time=p.start_time,
                gpu_memory_mb=p.gpu_memory_mb,
                syscall_time_pct=p.syscall_time_pct,
            )
            for p in snapshot.processes
            if p.job_id is not None or p.ppid == snapshot.daemon_pid
        ],
    )


def _start_of(process: ProcessSample, timestamp: float) -> float:
    if process.start_time is not None:
        return process.start_time
    return round(max(timestamp - process.age_seconds, 0.0), 2)


@dataclass
class _Run:
    """A run being accumulated."""

    job_id: str
    sheet_num: int
    root_pid: int
    root_start: float
    exact_start: bool
    first_seen: float
    last_seen: float = 0.0
    samples: int = 0
    peak_rss_mb: float = 0.0
    cpu_seconds: float = 0.0
    cpu_percent_sum: float = 0.0
    peak_fds: int = 0
    peak_threads: int = 0
    peak_gpu_mb: float = 0.0
    gpu_seen: bool = False
    syscall_shares: dict[str, float] = field(default_factory=dict)
    processes: set[tuple[int, float | None]] = field(default_factory=set)

    def add_tick(
        self, timestamp: float, gap: float, gpu_count: int, tree: list[ProcessSample]
    ) -> None:
        """Fold one tick of the run's tree into the figures."""
        cpu = math.fsum(p.cpu_percent for p in tree)
        interval = max(0.0, min(gap, timestamp - self.root_start))
        self.samples += 1
        self.last_seen = timestamp
        self.peak_rss_mb = max(self.peak_rss_mb, math.fsum(p.rss_mb for p in tree))
        self.cpu_seconds += cpu / 100.0 * interval
        self.cpu_percent_sum += cpu
        self.peak_fds = max(self.peak_fds, sum(p.open_fds for p in tree))
        self.peak_threads = max(self.peak_threads, sum(p.threads for p in tree))
        self.peak_gpu_mb = max(self.peak_gpu_mb, math.fsum(p.gpu_memory_mb for p in tree))
        self.gpu_seen = self.gpu_seen or gpu_count > 0
        for process in tree:
            self.processes.add((process.pid, process.start_time))
            for name, share in process.syscall_time_pct.items():
                self.syscall_shares[name] = self.syscall_shares.get(name, 0.0) + share

    def summary(self) -> SheetRunSummary:
        """The run as a `SheetRunSummary` (anomalies are attached from the store)."""
        dominant = None
        if self.syscall_shares:
            dominant = min(self.syscall_shares.items(), key=lambda item: (-item[1], item[0]))[0]
        return SheetRunSummary(
            job_id=self.job_id,
            sheet_num=self.sheet_num,
            root_pid=self.root_pid,
            root_start_time=self.root_start,
            started_at=self.root_start,
            ended_at=self.last_seen,
            first_seen=self.first_seen,
            samples=self.samples,
            duration_seconds=max(0.0, self.last_seen - self.root_start),
            peak_rss_mb=self.peak_rss_mb,
            cpu_seconds=self.cpu_seconds,
            mean_cpu_percent=self.cpu_percent_sum / self.samples if self.samples else 0.0,
            peak_fds=self.peak_fds,
            peak_threads=self.peak_threads,
            dominant_syscall=dominant,
            gpu_memory_peak_mb=self.peak_gpu_mb if self.gpu_seen else None,
            process_count=len(self.processes),
            pids=tuple(sorted({pid for pid, _ in self.processes})),
        )


class SheetRunTracker:
    """Follows sheet runs tick by tick and returns each one when it ends.

    Feed it every tick in time order (`observe`); a run is returned by the first tick that
    no longer shows its root.
    """

    def __init__(self) -> None:
        self._open: dict[tuple[int, float], _Run] = {}
        self._last_timestamp: float | None = None

    @property
    def open_runs(self) -> list[SheetRunSummary]:
        """Summaries of the runs not ended yet (as far as they have been seen)."""
        return [run.summary() for run in self._open.values() if run.samples]

    def _find_open(self, root: ProcessSample, start: float) -> tuple[int, float] | None:
        key = (root.pid, start)
        if key in self._open:
            return key
        if root.start_time is None:
            for open_key, run in self._open.items():
                if (
                    open_key[0] == root.pid
                    and not run.exact_start
                    and abs(run.root_start - start) <= START_TIME_TOLERANCE_SECONDS
                ):
                    return open_key
        return None

    def observe(self, tick: TickSample) -> list[SheetRunSummary]:
        """Fold one tick in; return the runs that this tick shows have ended."""
        timestamp = tick.timestamp
        # Before the first tick there is no interval: a sampler's first CPU figure for a
        # process is its lifetime average, so the process's age is the interval.
        gap = math.inf if self._last_timestamp is None else timestamp - self._last_timestamp
        if math.isfinite(gap) and gap > MAX_TICK_GAP_SECONDS:
            gap = 0.0
        self._last_timestamp = timestamp

        # Roots present at this tick, and the runs they belong to (new ones opened).
        root_keys: dict[int, tuple[int, float]] = {}
        daemon_pid = tick.daemon_pid
        if daemon_pid > 0:
            for process in tick.processes:
                if process.ppid != daemon_pid or process.pid == daemon_pid:
                    continue
                start = _start_of(process, timestamp)
                key = self._find_open(process, start)
                sheet_num = process.sheet_num
                if key is None and process.job_id is not None and sheet_num is not None:
                    if sheet_num < 0:
                        continue
                    key = (process.pid, start)
                    self._open[key] = _Run(
                        job_id=process.job_id,
                        sheet_num=sheet_num,
                        root_pid=process.pid,
                        root_start=start,
                        exact_start=process.start_time is not None,
                        first_seen=timestamp,
                    )
                if key is not None:
                    root_keys[process.pid] = key

        present = set(root_keys.values())
        ended = [key for key in self._open if key not in present]
        finished = [self._open.pop(key).summary() for key in ended]
        finished = [summary for summary in finished if summary.samples]

        trees = self._trees(tick, root_keys)
        for key, tree in trees.items():
            self._open[key].add_tick(timestamp, gap, tick.gpu_count, tree)
        return finished

    def _trees(
        self, tick: TickSample, root_keys: dict[int, tuple[int, float]]
    ) -> dict[tuple[int, float], list[ProcessSample]]:
        """Each present run's processes at this tick."""
        by_pid = {process.pid: process for process in tick.processes}
        runs_of_sheet: dict[tuple[str, int], list[tuple[int, float]]] = {}
        for present_key in set(root_keys.values()):
            present = self._open[present_key]
            runs_of_sheet.setdefault((present.job_id, present.sheet_num), []).append(present_key)
        trees: dict[tuple[int, float], list[ProcessSample]] = {}
        for process in tick.processes:
            if process.job_id is None or process.sheet_num is None:
                continue
            key = self._root_key(process, by_pid, tick.daemon_pid, root_keys)
            if key is None:
                candidates = runs_of_sheet.get((process.job_id, process.sheet_num), [])
                key = candidates[0] if len(candidates) == 1 else None
            if key is None:
                continue
            run = self._open[key]
            if (run.job_id, run.sheet_num) == (process.job_id, process.sheet_num):
                trees.setdefault(key, []).append(process)
        return trees

    @staticmethod
    def _root_key(
        process: ProcessSample,
        by_pid: Mapping[int, ProcessSample],
        daemon_pid: int,
        root_keys: Mapping[int, tuple[int, float]],
    ) -> tuple[int, float] | None:
        """The run whose root `process` descends from (or is), if its chain reaches one."""
        if daemon_pid <= 0:
            return None
        current = process
        for _ in range(_MAX_TREE_DEPTH):
            if current.ppid == daemon_pid:
                return root_keys.get(current.pid)
            parent = by_pid.get(current.ppid)
            if parent is None or parent.pid == current.pid:
                return None
            current = parent
        return None
