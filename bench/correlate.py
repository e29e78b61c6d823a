"""Benchmark: correlation analysis of 100,000 sheet runs against a 2 s target.

Run: `.venv/bin/python bench/correlate.py [--runs N] [--repeats K]`. Prints the wall time of
`analyze` (median of the repeats; building the runs is not timed) and whether it is within target.
The runs carry a planted effect (failure 60 % at or above 1 GB peak RSS, 15 % below) so the
analysis does its full work, findings and all.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from mzt_tui.analysis.correlation import analyze
from mzt_tui.models.correlation import SheetRun

TARGET_SECONDS = 2.0
SYSCALLS: tuple[str | None, ...] = (None, "read", "write", "futex", "epoll_wait", "poll", "wait4")
ANOMALY_RATES = {"memory_spike": 0.10, "memory_growth": 0.08, "runaway_cpu": 0.05, "zombie": 0.03}


def build_runs(count: int, seed: int) -> list[SheetRun]:
    """Draw `count` sheet runs with realistic figures (lognormal RSS and durations, counts)."""
    rng = np.random.default_rng(seed)
    peak_rss = rng.lognormal(math.log(600.0), 0.9, count)
    duration = rng.lognormal(math.log(300.0), 1.0, count)
    mean_cpu = 100.0 * rng.beta(2.0, 5.0, count)
    peak_fds = rng.negative_binomial(5, 0.1, count) + 10
    peak_threads = rng.poisson(20.0, count) + 1
    has_gpu = rng.random(count) < 0.4
    gpu_memory = rng.lognormal(math.log(4000.0), 0.7, count)
    process_count = rng.poisson(2.0, count) + 1
    syscall_index = rng.integers(0, len(SYSCALLS), count)
    anomalies = {name: rng.random(count) < rate for name, rate in ANOMALY_RATES.items()}
    failed = rng.random(count) < np.where(peak_rss >= 1024.0, 0.6, 0.15)
    outcome_known = rng.random(count) >= 0.05
    return [
        SheetRun(
            job_id=f"job-{index % 50}",
            sheet_num=index // 50 + 1,
            duration_seconds=float(duration[index]),
            peak_rss_mb=float(peak_rss[index]),
            cpu_seconds=float(duration[index] * mean_cpu[index] / 100.0),
            mean_cpu_percent=float(mean_cpu[index]),
            peak_fds=int(peak_fds[index]),
            peak_threads=int(peak_threads[index]),
            dominant_syscall=SYSCALLS[int(syscall_index[index])],
            anomaly_types=tuple(name for name, seen in anomalies.items() if seen[index]),
            gpu_memory_peak_mb=float(gpu_memory[index]) if has_gpu[index] else None,
            process_count=int(process_count[index]),
            failed=bool(failed[index]) if outcome_known[index] else None,
        )
        for index in range(count)
    ]


def main() -> int:
    """Time the analysis and report whether it holds the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    runs = build_runs(args.runs, seed=2024)
    print(f"built {len(runs):,} sheet runs in {time.perf_counter() - started:.2f} s (not timed)")

    timings: list[float] = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        result = analyze(runs)
        timings.append(time.perf_counter() - started)
    median = statistics.median(timings)
    print(
        f"analyze: {result.tests_run} tests over {result.runs_used:,} runs "
        f"({result.runs_without_outcome:,} without outcome), {len(result.findings)} findings"
    )
    print(
        f"wall time (median of {args.repeats}): {median:.3f} s; all: "
        + ", ".join(f"{t:.3f}" for t in timings)
    )
    within = median <= TARGET_SECONDS
    print(f"target {TARGET_SECONDS:.1f} s: {'within' if within else 'NOT within'}")
    return 0 if within else 1


if __name__ == "__main__":
    raise SystemExit(main())
