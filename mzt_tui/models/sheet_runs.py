"""What one sheet run (one attempt of one sheet of one job) used, as monitor.db summarises it.

A sheet run is identified by its root process: a direct child of the conductor, named by its
`(pid, start time)`. Every figure covers the root's whole process tree.
"""

from __future__ import annotations

from mzt_tui.models.correlation import SheetRun
from mzt_tui.models.process import Frozen, NonNegFloat, NonNegInt


class SheetRunSummary(Frozen):
    """A row of `mzt_sheet_runs`: one sheet attempt's resource figures, without its outcome.

    Peaks are taken over the tree's per-tick totals: at each tick the RSS (fds, threads, GPU
    memory) of every process of the tree is summed, and the largest sum is the peak.
    """

    job_id: str
    sheet_num: NonNegInt
    root_pid: NonNegInt
    root_start_time: NonNegFloat
    """Unix seconds: with `root_pid` it names the attempt for good."""
    attempt: NonNegInt = 1
    """The attempt's place among the runs of this sheet recorded in monitor.db (1 = first)."""
    started_at: NonNegFloat
    """The root's start time, unix seconds."""
    ended_at: NonNegFloat
    """The last tick at which the root was seen, unix seconds."""
    first_seen: NonNegFloat
    """The first tick at which the run was seen."""
    samples: NonNegInt
    """Ticks at which the run was seen."""
    duration_seconds: NonNegFloat
    """`ended_at - started_at` (short of the true duration by less than one interval)."""
    peak_rss_mb: NonNegFloat
    cpu_seconds: NonNegFloat
    """The tree's CPU percentage integrated over the sampling intervals."""
    mean_cpu_percent: NonNegFloat
    """Mean over ticks of the tree's summed CPU percentage (above 100 on several cores)."""
    peak_fds: NonNegInt
    peak_threads: NonNegInt
    dominant_syscall: str | None = None
    """The syscall with the largest summed share of syscall time, when traced."""
    anomaly_types: tuple[str, ...] = ()
    """Distinct types of the job's anomalies on this sheet during the run, sorted."""
    gpu_memory_peak_mb: NonNegFloat | None = None
    """None when no GPU was present at any tick of the run."""
    process_count: NonNegInt
    """Distinct processes (by PID and start time) seen in the tree over the run."""
    pids: tuple[NonNegInt, ...] = ()
    """The distinct PIDs of the tree, ascending (anomalies are matched to runs by them)."""

    @property
    def key(self) -> tuple[str, int, int, float]:
        """The table's primary key: job, sheet, root PID, root start time."""
        return (self.job_id, self.sheet_num, self.root_pid, self.root_start_time)

    def to_sheet_run(
        self, failed: bool | None, *, attempt: int | None = None, sheet_num: int | None = None
    ) -> SheetRun:
        """Return the run as the correlation analysis takes it, with an outcome.

        Args:
            failed: True failed, False succeeded, None unknown.
            attempt: The attempt number where the outcome's source knows it (else ours).
            sheet_num: The sheet where the outcome's source names it (else ours).
        """
        return SheetRun(
            job_id=self.job_id,
            sheet_num=self.sheet_num if sheet_num is None else sheet_num,
            attempt=self.attempt if attempt is None else attempt,
            started_at=self.started_at,
            ended_at=self.ended_at,
            duration_seconds=self.duration_seconds,
            peak_rss_mb=self.peak_rss_mb,
            cpu_seconds=self.cpu_seconds,
            mean_cpu_percent=self.mean_cpu_percent,
            peak_fds=self.peak_fds,
            peak_threads=self.peak_threads,
            dominant_syscall=self.dominant_syscall,
            anomaly_types=self.anomaly_types,
            gpu_memory_peak_mb=self.gpu_memory_peak_mb,
            process_count=self.process_count,
            failed=failed,
        )
