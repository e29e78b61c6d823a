"""Benchmark: the job screen's series buffer, fed on the event loop with every tick.

Run: `.venv/bin/python bench/job_series.py [--processes N] [--jobs J] [--ticks T]`. Prints the
median time of `JobSeriesBuffer.record` per tick (N job processes spread over J jobs of five
sheets each) and of one chart `view` of a full hour, against a 2 ms target per tick (1 ‰ of the
dashboard's 2 s interval), and the points kept, which must stay flat however long it runs.
"""

from __future__ import annotations

import argparse
import statistics
import time

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.headless.engine import TickResult
from mzt_tui.models import ConductorStatus, ProcessMetric, SystemSnapshot
from mzt_tui.ui.job_series import JobSeriesBuffer

TARGET_MS = 2.0
START = 1_700_000_000.0
INTERVAL = 2.0


def make_tick(processes: tuple[ProcessMetric, ...], timestamp: float) -> TickResult:
    """A tick holding `processes` at `timestamp`."""
    return TickResult(
        snapshot=SystemSnapshot(timestamp=timestamp, processes=processes),
        all_processes=processes,
        events=(),
        anomalies=AnomalyChanges(),
        jobs=(),
        conductor=ConductorStatus(),
        gpu_reason=None,
    )


def main() -> None:
    """Feed the buffer and print the timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--ticks", type=int, default=3000)
    args = parser.parse_args()
    processes = tuple(
        ProcessMetric(
            pid=10_000 + index,
            command="worker",
            cpu_percent=float(index % 100),
            rss_mb=float(index % 700),
            job_id=f"job-{index % args.jobs}",
            sheet_num=index % 5,
        )
        for index in range(args.processes)
    )
    ticks = [make_tick(processes, START + INTERVAL * i) for i in range(args.ticks)]
    buffer = JobSeriesBuffer()
    record_ms: list[float] = []
    for tick in ticks:
        began = time.perf_counter()
        buffer.record(tick)
        record_ms.append((time.perf_counter() - began) * 1e3)
    view_ms: list[float] = []
    for _ in range(50):
        began = time.perf_counter()
        view = buffer.view("job-0")
        view_ms.append((time.perf_counter() - began) * 1e3)
    record = statistics.median(record_ms)
    verdict = "within" if record <= TARGET_MS else "OVER"
    print(
        f"record: {record:.3f} ms per tick ({args.processes} processes, {args.jobs} jobs); "
        f"target {TARGET_MS} ms: {verdict}"
    )
    print(f"view of {len(view.points)} points: {statistics.median(view_ms):.3f} ms")
    kept = sum(len(buffer.view(job_id).points) for job_id in buffer.job_ids)
    print(f"points kept after {args.ticks} ticks: {kept} in {len(buffer)} jobs")


if __name__ == "__main__":
    main()
