"""One collection tick, end to end: the engine that headless mode and the TUI both run.

processes -> attribution -> GPU use -> events -> anomalies -> a `TickResult`. Everything here
is plain Python run in a thread; nothing blocks an event loop and nothing imports Textual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mzt_tui.analysis.anomalies import AnomalyChanges, AnomalyDetector
from mzt_tui.collect.attribution import Attribution, Attributor
from mzt_tui.collect.events import EventTracker
from mzt_tui.collect.gpu import GpuSampler
from mzt_tui.collect.oom import OomWatcher
from mzt_tui.collect.sampling import ProcessSampler, RawProcess, SamplerTick, make_sampler
from mzt_tui.collect.strace import StraceProfiler
from mzt_tui.collect.ticks import TickStats
from mzt_tui.marianne.conductor import find_conductor
from mzt_tui.marianne.paths import MarianneHome
from mzt_tui.marianne.registry import RegistryReader
from mzt_tui.models import (
    AnomalyConfig,
    ConductorStatus,
    GpuMetric,
    JobProgress,
    JobRecord,
    PressureLevel,
    ProcessEvent,
    ProcessMetric,
    SystemSnapshot,
)
from mzt_tui.models.errors import MztError

_REGISTRY_JOBS_PER_TICK = 200
# Available-memory shares (percent) below which pressure reaches each level.
_PRESSURE_LEVELS: tuple[tuple[float, PressureLevel], ...] = (
    (5.0, "critical"),
    (10.0, "high"),
    (20.0, "medium"),
    (30.0, "low"),
)


def pressure_level(available_mb: float, total_mb: float) -> PressureLevel:
    """Memory pressure from the share of memory still available."""
    if total_mb <= 0:
        return "none"
    available_pct = available_mb / total_mb * 100.0
    for limit, level in _PRESSURE_LEVELS:
        if available_pct < limit:
            return level
    return "none"


@dataclass(frozen=True)
class TickResult:
    """Everything one tick learned.

    Attributes:
        snapshot: What is stored and exported: the conductor and job processes (all processes
            when recording the whole system).
        all_processes: Every visible process (for the processes view), attributed.
        events: Lifecycle events since the last tick.
        anomalies: Anomalies that opened and closed on this tick.
        jobs: The registry's jobs as read this tick (newest first).
        conductor: Where the conductor was found, or why not.
        gpu_reason: Why there are no GPUs, when there are none.
        notes: One-line problems this tick ran into (unreadable registry ...).
    """

    snapshot: SystemSnapshot
    all_processes: tuple[ProcessMetric, ...]
    events: tuple[ProcessEvent, ...]
    anomalies: AnomalyChanges
    jobs: tuple[JobRecord, ...]
    conductor: ConductorStatus
    gpu_reason: str | None
    notes: tuple[str, ...] = ()


@dataclass
class MonitorEngine:
    """Holds the state that lives between ticks (CPU deltas, attribution, open anomalies).

    Args:
        home: The Marianne home whose registry and PID file name the jobs.
        record_system: Store every process, not only the conductor's and the jobs'.
        keep_all_processes: Build a model for every process each tick, not only the tracked.
        anomaly_config: Thresholds for the anomaly rules.
        sampler: The process sampler (tests pass one over a fake /proc).
        gpu_sampler: The GPU sampler (tests pass one over a fake NVML).
    """

    home: MarianneHome
    record_system: bool = False
    keep_all_processes: bool = True
    """Build `all_processes` (the processes view needs it; headless recording does not)."""
    anomaly_config: AnomalyConfig = field(default_factory=AnomalyConfig)
    sampler: ProcessSampler = field(default_factory=make_sampler)
    gpu_sampler: GpuSampler = field(default_factory=GpuSampler)
    attributor: Attributor = field(default_factory=Attributor)
    oom_watcher: OomWatcher = field(default_factory=OomWatcher)
    strace: StraceProfiler | None = None
    """Syscall summaries of sheet roots (`--strace`); None leaves them off."""
    _tracker: EventTracker = field(init=False)
    _detector: AnomalyDetector = field(init=False)
    _registry: RegistryReader = field(init=False)
    _tracked_pids: set[int] = field(default_factory=set)
    _strace_reported: bool = False
    _last_conductor_pid: int | None = None

    def __post_init__(self) -> None:
        self._tracker = EventTracker(oom_evidence=self.oom_watcher.evidence)
        self._detector = AnomalyDetector(config=self.anomaly_config)
        self._registry = RegistryReader(self.home.registry_db)

    def tick(self, stats: TickStats | None = None) -> TickResult:
        """Collect one tick."""
        notes: list[str] = []
        # /proc first, the registry second: the conductor records a sheet's start before it
        # starts the sheet's process, so every sheet root we see is already in what we read.
        # (Read the other way round, a root started in between would meet a registry that
        # does not show its sheet yet, and keep the wrong one.)
        previous_pid = self._last_conductor_pid
        sampled = self.sampler.sample(
            detail_pids=self.attributor.known_pids(),
            detail_roots=(previous_pid,) if previous_pid else (),
        )
        jobs = self._read_jobs(notes)
        conductor = find_conductor(self.home, registry=self._registry if jobs else None)
        conductor_pid = conductor.pid
        self._last_conductor_pid = conductor_pid
        running = [job for job in jobs if job.running]
        assignments = self.attributor.assign(
            conductor_pid, running, sampled.processes, self.sampler.cwd
        )
        gpus = self.gpu_sampler.sample()
        wanted = (
            None
            if self.record_system or self.keep_all_processes
            else set(assignments) | set(_conductor_keys(sampled, conductor_pid))
        )
        all_processes = _to_metrics(sampled, assignments, gpus, wanted)
        if self.strace is not None:
            all_processes = self._with_syscalls(all_processes, conductor_pid, notes)
        tracked = tuple(
            process
            for process in all_processes
            if self.record_system or process.job_id is not None or process.pid == conductor_pid
        )
        if not self.keep_all_processes:
            all_processes = tracked
        snapshot = self._snapshot(
            sampled,
            tracked=tracked,
            gpus=gpus,
            conductor_pid=conductor_pid,
            running=running,
            stats=stats,
        )
        job_pids = [process.pid for process in tracked if process.job_id is not None]
        self.oom_watcher.watch(job_pids)
        self.oom_watcher.note_gone(sorted(self._tracked_pids - set(job_pids)))
        self._tracked_pids = set(job_pids)
        events = self._tracker.update(
            snapshot.timestamp,
            (process for process in tracked if process.job_id is not None),
            conductor_pid,
            {job.job_id: job for job in jobs},
        )
        anomalies = self._detector.update(snapshot)
        return TickResult(
            snapshot=snapshot,
            all_processes=all_processes,
            events=tuple(events),
            anomalies=anomalies,
            jobs=tuple(jobs),
            conductor=conductor,
            gpu_reason=self.gpu_sampler.reason,
            notes=tuple(notes),
        )

    def _with_syscalls(
        self,
        processes: tuple[ProcessMetric, ...],
        conductor_pid: int | None,
        notes: list[str],
    ) -> tuple[ProcessMetric, ...]:
        """Attach the latest `strace -c` summary to each sheet root (it covers its tree)."""
        profiler = self.strace
        assert profiler is not None
        roots = [
            process.pid
            for process in processes
            if process.job_id is not None and conductor_pid and process.ppid == conductor_pid
        ]
        summaries = profiler.update(roots)
        if profiler.reason is not None and not self._strace_reported:
            self._strace_reported = True
            notes.append(profiler.reason)
        if not summaries:
            return processes
        return tuple(
            process.model_copy(
                update={
                    "syscall_counts": summaries[process.pid][0],
                    "syscall_time_pct": summaries[process.pid][1],
                }
            )
            if process.pid in summaries
            else process
            for process in processes
        )

    def close_anomalies(self, now: float) -> AnomalyChanges:
        """End every anomaly still open at `now` (monitoring stops) and return them as closed."""
        return AnomalyChanges(
            closed=tuple(
                anomaly.model_copy(update={"ended_at": now})
                for anomaly in self._detector.open_anomalies
            )
        )

    def close(self) -> None:
        """Release NVML and the kernel log."""
        self.gpu_sampler.close()
        self.oom_watcher.close()
        if self.strace is not None:
            self.strace.close()

    def _read_jobs(self, notes: list[str]) -> list[JobRecord]:
        if not self._registry.exists():
            return []
        try:
            jobs = self._registry.list_jobs(limit=_REGISTRY_JOBS_PER_TICK)
        except MztError as error:
            notes.append(str(error))
            return []
        notes.extend(
            f"job {job.job_id}: checkpoint skipped ({job.checkpoint_error}); its sheets are unknown"
            for job in jobs
            if job.running and job.checkpoint_error is not None
        )
        return jobs

    def _snapshot(
        self,
        sampled: SamplerTick,
        *,
        tracked: tuple[ProcessMetric, ...],
        gpus: list[GpuMetric],
        conductor_pid: int | None,
        running: list[JobRecord],
        stats: TickStats | None,
    ) -> SystemSnapshot:
        system = sampled.system
        by_pid = sampled.by_pid()
        conductor = by_pid.get(conductor_pid) if conductor_pid else None
        zombies = tuple(
            process.pid
            for process in (tracked if conductor_pid else sampled.processes)
            if process.state == "Z"
        )
        monitor = sampled.monitor
        if stats is not None:
            monitor = monitor.model_copy(update={"late_ticks": stats.late_ticks})
        return SystemSnapshot(
            timestamp=sampled.timestamp,
            daemon_pid=conductor_pid or 0,
            system_memory_total_mb=system.memory_total_mb,
            system_memory_available_mb=system.memory_available_mb,
            system_memory_used_mb=system.memory_used_mb,
            daemon_rss_mb=conductor.rss_mb if conductor else 0.0,
            load_avg_1=system.load_avg_1,
            load_avg_5=system.load_avg_5,
            load_avg_15=system.load_avg_15,
            processes=tracked,
            gpus=tuple(gpus),
            pressure_level=pressure_level(system.memory_available_mb, system.memory_total_mb),
            running_jobs=len(running),
            active_sheets=sum(len(job.active_sheets()) for job in running),
            zombie_count=len(zombies),
            zombie_pids=zombies,
            job_progress=tuple(_progress(job) for job in running),
            conductor_uptime_seconds=conductor.age_seconds if conductor else 0.0,
            cpu_percent=min(max(system.cpu_percent, 0.0), 100.0),
            per_core_cpu_percent=tuple(
                min(max(c, 0.0), 100.0) for c in system.per_core_cpu_percent
            ),
            monitor=monitor,
        )


def _progress(job: JobRecord) -> JobProgress:
    active = job.active_sheets()
    return JobProgress(
        job_id=job.job_id,
        total_sheets=job.sheet_total,
        last_completed_sheet=job.last_completed_sheet or 0,
        current_sheet=active[0].sheet_num if active else job.current_sheet,
        status=job.status,
    )


def _conductor_keys(sampled: SamplerTick, conductor_pid: int | None) -> list[tuple[int, float]]:
    if not conductor_pid:
        return []
    return [process.key for process in sampled.processes if process.pid == conductor_pid]


def _to_metrics(
    sampled: SamplerTick,
    assignments: Mapping[tuple[int, float], Attribution],
    gpus: list[GpuMetric],
    wanted: set[tuple[int, float]] | None,
) -> tuple[ProcessMetric, ...]:
    """Models for the sampled processes (only the `wanted` keys, when given)."""
    gpu_memory: dict[int, float] = {}
    for gpu in gpus:
        for usage in gpu.processes:
            gpu_memory[usage.pid] = gpu_memory.get(usage.pid, 0.0) + usage.memory_used_mb
    metrics: list[ProcessMetric] = []
    for process in sampled.processes:
        if wanted is not None and process.key not in wanted:
            continue
        metrics.append(_metric(process, assignments.get(process.key), gpu_memory.get(process.pid)))
    return tuple(metrics)


def _metric(
    process: RawProcess, attribution: Attribution | None, gpu_memory_mb: float | None
) -> ProcessMetric:
    metric = (
        process.to_metric(attribution.job_id, attribution.sheet_num, guessed=attribution.guessed)
        if attribution is not None
        else process.to_metric()
    )
    if gpu_memory_mb:
        return metric.model_copy(update={"gpu_memory_mb": gpu_memory_mb})
    return metric
