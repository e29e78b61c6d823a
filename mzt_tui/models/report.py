"""What the store derives from monitor.db: job resource profiles, 1-minute history, clean-up."""

from __future__ import annotations

from pydantic import Field

from mzt_tui.models.process import Frozen, NonNegFloat, NonNegInt


class SheetResourceMetrics(Frozen):
    """Resource peaks and CPU time of one sheet of a job.

    `peak_rss_mb` and `max_cpu_pct` are the conductor's two keys (the largest single
    process sample); the rest are ours.
    """

    peak_rss_mb: NonNegFloat = 0.0
    max_cpu_pct: NonNegFloat = 0.0
    cpu_seconds: NonNegFloat = 0.0
    """CPU time of the sheet's processes (see `JobResourceProfile.total_cpu_seconds`)."""
    peak_total_rss_mb: NonNegFloat = 0.0
    """The largest sum of RSS over the sheet's processes within one snapshot."""
    peak_open_fds: NonNegInt = 0
    peak_threads: NonNegInt = 0
    unique_pid_count: NonNegInt = 0
    first_seen: NonNegFloat | None = None
    last_seen: NonNegFloat | None = None


class JobResourceProfile(Frozen):
    """A job's resource profile: the conductor's keys, computed correctly, plus ours.

    The conductor's keys are `job_id`, `peak_rss_mb`, `process_spawn_count`,
    `sheet_metrics`, `syscall_hotspots`, `total_cpu_seconds` and `unique_pid_count`.
    Two of them differ on purpose from what the conductor returns:

    - `total_cpu_seconds` is computed (the conductor always reports 0): each process
      sample adds `cpu_percent / 100 × Δt`, where Δt is the time since that process's
      previous sample. A process's first sample, and the first after a gap longer than
      three nominal intervals, adds at most one nominal interval (capped by the
      process's age), since CPU spent before the monitor saw it is unknown.
    - `syscall_hotspots` are shares of syscall time that sum to 100 (the conductor sums
      the percentages of every sample, which exceeds 100). `strace -c` summaries are
      cumulative, so each process contributes its latest summary once, weighted by its
      total call count (equal weights when no counts were recorded).
    """

    job_id: str
    peak_rss_mb: NonNegFloat = 0.0
    process_spawn_count: NonNegInt = 0
    sheet_metrics: dict[str, SheetResourceMetrics] = Field(default_factory=dict)
    """Keyed by the sheet number as a string, as the conductor keys it."""
    syscall_hotspots: dict[str, NonNegFloat] = Field(default_factory=dict)
    total_cpu_seconds: NonNegFloat = 0.0
    unique_pid_count: NonNegInt = 0
    # Our extras.
    peak_total_rss_mb: NonNegFloat = 0.0
    """The largest sum of RSS over the job's processes within one snapshot."""
    peak_open_fds: NonNegInt = 0
    peak_threads: NonNegInt = 0
    sample_count: NonNegInt = 0
    """Process rows the profile was computed from."""
    first_seen: NonNegFloat | None = None
    last_seen: NonNegFloat | None = None
    nominal_interval_seconds: NonNegFloat = 0.0
    """The sampling interval used for first samples and gaps (the median observed)."""

    @property
    def has_data(self) -> bool:
        """Whether any process of the job was recorded."""
        return self.unique_pid_count > 0


class JobMinute(Frozen):
    """One minute of one sheet's resource use, downsampled from full-resolution snapshots.

    Sums are over the sheet's processes within one snapshot; means and maxima are over
    the snapshots of the minute in which the sheet had processes.
    """

    minute: NonNegFloat
    """Start of the minute, unix seconds."""
    job_id: str
    sheet_num: int | None = None
    samples: NonNegInt = 0
    cpu_percent_mean: NonNegFloat = 0.0
    cpu_percent_max: NonNegFloat = 0.0
    rss_mb_max: NonNegFloat = 0.0
    process_rss_mb_max: NonNegFloat = 0.0
    open_fds_max: NonNegInt = 0
    threads_max: NonNegInt = 0
    process_count_mean: NonNegFloat = 0.0
    process_count_max: NonNegInt = 0
    gpu_memory_mb_max: NonNegFloat = 0.0


class SystemMinute(Frozen):
    """One minute of the whole system, downsampled from full-resolution snapshots."""

    minute: NonNegFloat
    samples: NonNegInt = 0
    cpu_percent_mean: NonNegFloat | None = None
    """None for minutes recorded only by the conductor (it does not store system CPU)."""
    cpu_percent_max: NonNegFloat | None = None
    memory_used_mb_max: NonNegFloat = 0.0
    memory_available_mb_min: NonNegFloat = 0.0
    load_avg_1_max: NonNegFloat = 0.0
    daemon_rss_mb_max: NonNegFloat = 0.0
    process_count_max: NonNegInt = 0
    zombie_count_max: NonNegInt = 0
    running_jobs_max: NonNegInt = 0
    active_sheets_max: NonNegInt = 0


class CleanupResult(Frozen):
    """What one retention pass removed, and the database's size around it."""

    snapshots_deleted: NonNegInt = 0
    process_rows_deleted: NonNegInt = 0
    events_deleted: NonNegInt = 0
    anomalies_deleted: NonNegInt = 0
    minutes_deleted: NonNegInt = 0
    minutes_downsampled: NonNegInt = 0
    snapshots_deleted_for_size: NonNegInt = 0
    """Of `snapshots_deleted`, those removed to get under the byte cap."""
    used_bytes_before: NonNegInt = 0
    used_bytes_after: NonNegInt = 0
    """Bytes in use by pages holding data (free pages excluded), after the pass."""
