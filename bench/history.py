"""Benchmark of history playback: an hour of recording, opened and stepped through.

Run with `python bench/history.py`. It records one hour at a 2-second interval (1,800
snapshots of 200 processes each, 360,000 process rows) into a temporary monitor.db, then
opens the window the way `mzt top --history 1h` does and reads every frame in order, as
playback does. It prints the time to open, the median and worst time per frame, and this
process's peak RSS before and after playback (the source keeps two chunks of snapshots in
memory, never the whole window).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

from mzt_tui.headless.history import open_history
from mzt_tui.models.process import ProcessMetric, SystemSnapshot
from mzt_tui.store import MonitorStore

BASE_TIME = 1_795_000_000.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _snapshot(index: int, processes: int, interval: float) -> SystemSnapshot:
    timestamp = BASE_TIME + index * interval
    return SystemSnapshot(
        timestamp=timestamp,
        daemon_pid=1000,
        system_memory_total_mb=32_768.0,
        system_memory_available_mb=16_384.0,
        system_memory_used_mb=16_384.0,
        processes=tuple(
            ProcessMetric(
                pid=2000 + n,
                ppid=1000,
                command=f"python worker.py --shard {n} --input /data/part-{n:05d}.parquet",
                cpu_percent=float(n % 100),
                rss_mb=100.0 + n,
                job_id=f"job-{n % 5}",
                sheet_num=n % 7,
                start_time=BASE_TIME - 60.0 + n,
            )
            for n in range(processes)
        ),
        cpu_percent=50.0,
    )


def main() -> None:
    """Record, open, play; print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=1_800)
    parser.add_argument("--processes", type=int, default=200)
    parser.add_argument("--interval", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "monitor.db"
        with MonitorStore(db) as store:
            for index in range(args.snapshots):
                store.write_snapshot(_snapshot(index, args.processes, args.interval))
        end = BASE_TIME + args.snapshots * args.interval
        rss_before = _peak_rss_mb()
        started = time.perf_counter()
        source = open_history(db, args.snapshots * args.interval + 1.0, end)
        opened = time.perf_counter() - started
        frame_seconds: list[float] = []
        try:
            for index in range(source.count):
                tick = time.perf_counter()
                source.frame(index)
                frame_seconds.append(time.perf_counter() - tick)
        finally:
            source.close()
        print(
            json.dumps(
                {
                    "snapshots": source.count,
                    "process_rows": source.count * args.processes,
                    "open_ms": round(opened * 1000, 1),
                    "frame_median_ms": round(statistics.median(frame_seconds) * 1000, 2),
                    "frame_max_ms": round(max(frame_seconds) * 1000, 2),
                    "chunk_reads": source.chunk_reads,
                    "peak_rss_mb_before_playback": round(rss_before, 1),
                    "peak_rss_mb_after_playback": round(_peak_rss_mb(), 1),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
