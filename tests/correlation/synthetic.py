"""Synthetic sheet runs with realistic resource figures, drawn with numpy in one go.

Peak RSS is lognormal around 600 MB (about 17 % below 256 MB, 9 % above 2 GB, so every
conductor bin is populated); durations are lognormal around 5 minutes; CPU time follows
duration and mean CPU; fds, threads and process counts are counts; 60 % of runs have no GPU;
30 % have no traced syscalls; anomalies are rare and independent.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from mzt_tui.models.correlation import SheetRun

FloatArray = npt.NDArray[np.float64]
FailureModel = Callable[[FloatArray], FloatArray]
"""Peak RSS (MB) of each run → its probability of failing."""

SYSCALLS: tuple[str | None, ...] = (None, "read", "write", "futex", "epoll_wait", "poll", "wait4")
SYSCALL_WEIGHTS = (0.30, 0.20, 0.15, 0.15, 0.10, 0.05, 0.05)
ANOMALY_RATES = {
    "memory_spike": 0.10,
    "memory_growth": 0.08,
    "runaway_cpu": 0.05,
    "zombie": 0.03,
    "fd_exhaustion": 0.02,
}


def constant_failure(probability: float) -> FailureModel:
    """Failure independent of everything: the null hypothesis."""
    return lambda peak_rss_mb: np.full(peak_rss_mb.shape, probability)


def memory_failure(above_1gb: float, below_1gb: float) -> FailureModel:
    """Failure that depends on peak RSS alone: a planted effect above 1 GB."""
    return lambda peak_rss_mb: np.where(peak_rss_mb >= 1024.0, above_1gb, below_1gb)


def synthetic_runs(
    rng: np.random.Generator, count: int, failure: FailureModel, *, unknown_outcome: float = 0.0
) -> list[SheetRun]:
    """Draw `count` sheet runs; `failure` sets each run's chance of failing."""
    peak_rss = rng.lognormal(math.log(600.0), 0.9, count)
    duration = rng.lognormal(math.log(300.0), 1.0, count)
    cores = rng.choice(np.array([1.0, 1.0, 2.0, 4.0]), count)
    mean_cpu = 100.0 * rng.beta(2.0, 5.0, count) * cores
    cpu_seconds = duration * mean_cpu / 100.0
    peak_fds = rng.negative_binomial(5, 0.1, count) + 10
    peak_threads = rng.poisson(20.0, count) + 1
    has_gpu = rng.random(count) < 0.4
    gpu_memory = rng.lognormal(math.log(4000.0), 0.7, count)
    process_count = rng.poisson(2.0, count) + 1
    syscall_index = rng.choice(len(SYSCALLS), count, p=SYSCALL_WEIGHTS)
    anomaly_draws = {name: rng.random(count) < rate for name, rate in ANOMALY_RATES.items()}
    failed = rng.random(count) < failure(peak_rss)
    outcome_known = rng.random(count) >= unknown_outcome
    started = 1.7e9 + np.cumsum(rng.exponential(60.0, count))

    runs: list[SheetRun] = []
    for index in range(count):
        runs.append(
            SheetRun(
                job_id=f"job-{index % 7}",
                sheet_num=index // 7 + 1,
                attempt=1,
                started_at=float(started[index]),
                ended_at=float(started[index] + duration[index]),
                duration_seconds=float(duration[index]),
                peak_rss_mb=float(peak_rss[index]),
                cpu_seconds=float(cpu_seconds[index]),
                mean_cpu_percent=float(mean_cpu[index]),
                peak_fds=int(peak_fds[index]),
                peak_threads=int(peak_threads[index]),
                dominant_syscall=SYSCALLS[int(syscall_index[index])],
                anomaly_types=tuple(name for name, drawn in anomaly_draws.items() if drawn[index]),
                gpu_memory_peak_mb=float(gpu_memory[index]) if has_gpu[index] else None,
                process_count=int(process_count[index]),
                failed=bool(failed[index]) if outcome_known[index] else None,
            )
        )
    return runs
