"""Processes, GPUs and system snapshots, as Marianne's profiler records them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

NonNegFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
NonNegInt = Annotated[int, Field(ge=0)]
Percent = Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]

PressureLevel = Literal["none", "low", "medium", "high", "critical"]

COMMAND_MAX_CHARS = 500


class Frozen(BaseModel):
    """Base for every immutable value that crosses a thread or a file boundary."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class ProcessMetric(Frozen):
    """One process at one tick: the columns of `process_metrics`, plus our own extras.

    Every value stays inside what the conductor's reader accepts: no negative metric,
    a one-letter upper-case state, syscall time shares within 0–100.
    """

    pid: NonNegInt
    ppid: NonNegInt = 0
    command: str = ""
    state: Annotated[str, Field(pattern=r"^[A-Z]$")] = "S"
    cpu_percent: NonNegFloat = 0.0
    rss_mb: NonNegFloat = 0.0
    vms_mb: NonNegFloat = 0.0
    threads: NonNegInt = 1
    open_fds: NonNegInt = 0
    age_seconds: NonNegFloat = 0.0
    job_id: str | None = None
    sheet_num: int | None = None
    syscall_counts: dict[str, NonNegInt] = Field(default_factory=dict)
    syscall_time_pct: dict[str, Percent] = Field(default_factory=dict)
    # Extras that Marianne's tables cannot hold (kept in mzt_* tables or memory only).
    start_time: NonNegFloat | None = None
    """Process start as unix seconds: with `pid` it identifies the process for good."""
    gpu_memory_mb: NonNegFloat = 0.0
    attribution_guessed: bool = False
    """True when the job was matched by working directory alone (an orphan)."""

    @field_validator("command")
    @classmethod
    def _truncate_command(cls, value: str) -> str:
        return value[:COMMAND_MAX_CHARS]


class GpuProcessUsage(Frozen):
    """GPU memory (and utilisation where the driver gives it) held by one process."""

    gpu_index: NonNegInt
    pid: NonNegInt
    memory_used_mb: NonNegFloat = 0.0
    utilization_pct: Percent | None = None


class GpuMetric(Frozen):
    """One GPU at one tick."""

    index: NonNegInt
    utilization_pct: Percent = 0.0
    memory_used_mb: NonNegFloat = 0.0
    memory_total_mb: NonNegFloat = 0.0
    temperature_c: NonNegFloat = 0.0
    power_w: NonNegFloat | None = None
    name: str = ""
    processes: tuple[GpuProcessUsage, ...] = ()


class JobProgress(Frozen):
    """How far a job has come, as the conductor's snapshot reports it."""

    job_id: str
    total_sheets: NonNegInt = 0
    last_completed_sheet: NonNegInt = 0
    current_sheet: NonNegInt | None = None
    status: str = "running"


class MonitorCost(Frozen):
    """What the monitor itself costs: shown in the UI, never stored in Marianne's tables."""

    cpu_percent: NonNegFloat = 0.0
    rss_mb: NonNegFloat = 0.0
    tick_seconds: NonNegFloat = 0.0
    late_ticks: NonNegInt = 0


class SystemSnapshot(Frozen):
    """One collection tick: the system, the conductor, its processes and GPUs."""

    timestamp: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
    daemon_pid: NonNegInt = 0
    system_memory_total_mb: NonNegFloat = 0.0
    system_memory_available_mb: NonNegFloat = 0.0
    system_memory_used_mb: NonNegFloat = 0.0
    daemon_rss_mb: NonNegFloat = 0.0
    load_avg_1: NonNegFloat = 0.0
    load_avg_5: NonNegFloat = 0.0
    load_avg_15: NonNegFloat = 0.0
    processes: tuple[ProcessMetric, ...] = ()
    gpus: tuple[GpuMetric, ...] = ()
    pressure_level: PressureLevel = "none"
    running_jobs: NonNegInt = 0
    active_sheets: NonNegInt = 0
    zombie_count: NonNegInt = 0
    zombie_pids: tuple[NonNegInt, ...] = ()
    job_progress: tuple[JobProgress, ...] = ()
    conductor_uptime_seconds: NonNegFloat = 0.0
    # Our own extras.
    cpu_percent: Percent = 0.0
    per_core_cpu_percent: tuple[Percent, ...] = ()
    monitor: MonitorCost = Field(default_factory=MonitorCost)

    def job_processes(self, job_id: str) -> tuple[ProcessMetric, ...]:
        """Return this snapshot's processes that belong to `job_id`."""
        return tuple(p for p in self.processes if p.job_id == job_id)

    def only_job(self, job_id: str) -> SystemSnapshot:
        """Return a copy holding only the processes of `job_id` (for `--score`)."""
        return self.model_copy(update={"processes": self.job_processes(job_id)})
