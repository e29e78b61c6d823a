"""Benchmark of the monitor.db store against plain sqlite3 and the seed's access pattern.

Run with `python bench/store.py`. It prints, side by side from one run, the median over
several runs of:

(a) writing snapshots of 1,000 processes: `MonitorStore.write_snapshot` (our schema and
    extras, downsampling included) against plain sqlite3 `executemany` in one transaction
    per snapshot, and against one `execute` per process row as the seed's store does. All
    three build their rows from the same models, on files with the same pragmas (WAL,
    synchronous=NORMAL); the two baselines use Marianne's schema alone.
(b) reading the newest 100 snapshots from a file of 100,000 process rows (1,000 snapshots
    of 100 processes): `MonitorStore.read_snapshots` (two queries) against one process query
    per snapshot with validated model construction, as the seed's reader does. Twice: as the
    seed's store runs it (aiosqlite, one pooled connection, an event loop), and ported to
    plain synchronous sqlite3, which is quicker and so the harder comparison.

Targets: our writer within 1.25× of plain executemany; our reader at most 0.5× the time of
the seed's per-snapshot reader. Both reader ratios are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from mzt_tui.models.process import GpuMetric, ProcessMetric, SystemSnapshot
from mzt_tui.store import MonitorStore
from mzt_tui.store.schema import create_marianne_schema

WRITE_TARGET = 1.25
READ_TARGET = 0.5
BASE_TIME = 1_795_000_000.0
TICK_SECONDS = 5.0
SEED_STORE = "seed's store (aiosqlite)"
SYNC_PORT = "seed's queries on sqlite3"

_INSERT_SNAPSHOT = (
    "INSERT INTO snapshots (timestamp, daemon_pid, system_memory_total_mb,"
    " system_memory_available_mb, system_memory_used_mb, daemon_rss_mb, child_count,"
    " zombie_count, load_avg_1, load_avg_5, load_avg_15, gpu_count, gpu_utilization_pct,"
    " gpu_memory_used_mb, gpu_temperature, pressure_level, running_jobs, active_sheets)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_PROCESS = (
    "INSERT INTO process_metrics (snapshot_id, pid, ppid, command, state, cpu_percent,"
    " rss_mb, vms_mb, threads, open_fds, age_seconds, job_id, sheet_num, syscall_counts,"
    " syscall_time_pct) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def make_snapshot(index: int, process_count: int) -> SystemSnapshot:
    """A realistic snapshot: job processes in sheets, some with syscall summaries, two GPUs."""
    processes = []
    for offset in range(process_count):
        pid = 10_000 + offset
        traced = offset % 20 == 0
        processes.append(
            ProcessMetric(
                pid=pid,
                ppid=4242 if offset % 10 == 0 else pid - 1,
                command=f"python -m pytest -x tests/test_module_{offset}.py --maxfail=1",
                state="R" if offset % 3 == 0 else "S",
                cpu_percent=(offset * 7 + index) % 100 * 1.0,
                rss_mb=100.0 + offset % 50,
                vms_mb=400.0 + offset % 50,
                threads=1 + offset % 8,
                open_fds=10 + offset % 30,
                age_seconds=30.0 + index * TICK_SECONDS,
                job_id=f"job-{offset % 5}",
                sheet_num=offset % 7,
                syscall_counts={"read": 1200 + index, "write": 800, "futex": 300} if traced else {},
                syscall_time_pct={"read": 41.5, "write": 33.25, "futex": 25.25} if traced else {},
                start_time=BASE_TIME - 30.0 + offset,
            )
        )
    gpus = tuple(
        GpuMetric(
            index=gpu,
            utilization_pct=50.0,
            memory_used_mb=2048.0,
            memory_total_mb=81_559.0,
            temperature_c=45.0,
        )
        for gpu in range(2)
    )
    return SystemSnapshot(
        timestamp=BASE_TIME + index * TICK_SECONDS,
        daemon_pid=4242,
        system_memory_total_mb=64_000.0,
        system_memory_available_mb=40_000.0,
        system_memory_used_mb=24_000.0,
        daemon_rss_mb=180.0,
        load_avg_1=1.5,
        load_avg_5=1.2,
        load_avg_15=0.9,
        processes=tuple(processes),
        gpus=gpus,
        running_jobs=5,
        active_sheets=7,
    )


def _plain_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    create_marianne_schema(conn)
    return conn


def _plain_snapshot_row(snapshot: SystemSnapshot) -> tuple[object, ...]:
    return (
        snapshot.timestamp,
        snapshot.daemon_pid,
        snapshot.system_memory_total_mb,
        snapshot.system_memory_available_mb,
        snapshot.system_memory_used_mb,
        snapshot.daemon_rss_mb,
        len(snapshot.processes),
        snapshot.zombie_count,
        snapshot.load_avg_1,
        snapshot.load_avg_5,
        snapshot.load_avg_15,
        len(snapshot.gpus),
        json.dumps([g.utilization_pct for g in snapshot.gpus]),
        json.dumps([g.memory_used_mb for g in snapshot.gpus]),
        json.dumps([g.temperature_c for g in snapshot.gpus]),
        snapshot.pressure_level,
        snapshot.running_jobs,
        snapshot.active_sheets,
    )


def _plain_process_row(snapshot_id: int, proc: ProcessMetric) -> tuple[object, ...]:
    return (
        snapshot_id,
        proc.pid,
        proc.ppid,
        proc.command,
        proc.state,
        proc.cpu_percent,
        proc.rss_mb,
        proc.vms_mb,
        proc.threads,
        proc.open_fds,
        proc.age_seconds,
        proc.job_id,
        proc.sheet_num,
        json.dumps(proc.syscall_counts) if proc.syscall_counts else "{}",
        json.dumps(proc.syscall_time_pct) if proc.syscall_time_pct else "{}",
    )


def write_plain(path: Path, snapshots: Sequence[SystemSnapshot], *, per_row: bool) -> float:
    """Write with plain sqlite3: executemany per snapshot, or one execute per row (seed)."""
    conn = _plain_connection(path)
    started = time.perf_counter()
    for snapshot in snapshots:
        conn.execute("BEGIN")
        snapshot_id = conn.execute(_INSERT_SNAPSHOT, _plain_snapshot_row(snapshot)).lastrowid
        assert snapshot_id is not None
        if per_row:
            for proc in snapshot.processes:
                conn.execute(_INSERT_PROCESS, _plain_process_row(snapshot_id, proc))
        else:
            conn.executemany(
                _INSERT_PROCESS, [_plain_process_row(snapshot_id, p) for p in snapshot.processes]
            )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def write_ours(path: Path, snapshots: Sequence[SystemSnapshot]) -> float:
    """Write with `MonitorStore.write_snapshot`."""
    store = MonitorStore(path)
    store.initialize()
    started = time.perf_counter()
    for snapshot in snapshots:
        store.write_snapshot(snapshot)
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


def downsample_ours(path: Path) -> float:
    """Summarise every minute of a file `write_ours` wrote (what `write_snapshot` defers)."""
    store = MonitorStore(path)
    started = time.perf_counter()
    store.downsample(now=time.time())
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


_SEED_SNAPSHOTS = (
    "SELECT id, timestamp, daemon_pid, system_memory_total_mb, system_memory_available_mb,"
    " system_memory_used_mb, daemon_rss_mb, child_count, zombie_count, load_avg_1,"
    " load_avg_5, load_avg_15, gpu_count, gpu_utilization_pct, gpu_memory_used_mb,"
    " gpu_temperature, pressure_level, running_jobs, active_sheets FROM snapshots"
    " WHERE timestamp >= ? ORDER BY timestamp DESC LIMIT ?"
)
_SEED_PROCESSES = (
    "SELECT pid, ppid, command, state, cpu_percent, rss_mb, vms_mb, threads, open_fds,"
    " age_seconds, job_id, sheet_num, syscall_counts, syscall_time_pct"
    " FROM process_metrics WHERE snapshot_id = ?"
)


def read_per_snapshot(conn: sqlite3.Connection, limit: int) -> list[SystemSnapshot]:
    """The seed's reading pattern, ported to plain sqlite3: one process query per snapshot."""
    rows = conn.execute(_SEED_SNAPSHOTS, (0.0, limit)).fetchall()
    rows.reverse()
    return [seed_snapshot(row, conn.execute(_SEED_PROCESSES, (row[0],)).fetchall()) for row in rows]


class SeedStoreReader:
    """The seed's store as it reads: aiosqlite on one pooled connection, in an event loop.

    Newest snapshots first (the seed's query returns the oldest; the window is the same
    for every reader here), one process query per snapshot, validated models.
    """

    def __init__(self, path: Path) -> None:
        """Open the pooled connection on a loop of our own."""
        self._runner = asyncio.Runner()
        self._db = self._runner.run(self._open(path))

    @staticmethod
    async def _open(path: Path) -> aiosqlite.Connection:
        return await aiosqlite.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)

    async def _read(self, limit: int) -> list[SystemSnapshot]:
        cursor = await self._db.execute(_SEED_SNAPSHOTS, (0.0, limit))
        rows = list(await cursor.fetchall())
        rows.reverse()
        snapshots = []
        for row in rows:
            process_cursor = await self._db.execute(_SEED_PROCESSES, (row[0],))
            snapshots.append(seed_snapshot(row, list(await process_cursor.fetchall())))
        return snapshots

    def read(self, limit: int) -> list[SystemSnapshot]:
        """The newest `limit` snapshots, as the seed's `read_snapshots` builds them."""
        return self._runner.run(self._read(limit))

    def close(self) -> None:
        """Close the connection and the loop."""
        self._runner.run(self._db.close())
        self._runner.close()


def seed_snapshot(row: Sequence[Any], process_rows: Sequence[Sequence[Any]]) -> SystemSnapshot:
    """One snapshot and its processes, built with validation as the seed's reader does."""
    util, memory, temperature = (json.loads(row[i]) if row[i] else [] for i in (13, 14, 15))
    gpus = [
        GpuMetric(
            index=i,
            utilization_pct=util[i] if i < len(util) else 0.0,
            memory_used_mb=memory[i] if i < len(memory) else 0.0,
            temperature_c=temperature[i] if i < len(temperature) else 0.0,
        )
        for i in range(row[12] or 0)
    ]
    processes = [
        ProcessMetric(
            pid=pr[0],
            ppid=pr[1] or 0,
            command=pr[2] or "",
            state=pr[3] or "S",
            cpu_percent=pr[4] or 0.0,
            rss_mb=pr[5] or 0.0,
            vms_mb=pr[6] or 0.0,
            threads=pr[7] or 1,
            open_fds=pr[8] or 0,
            age_seconds=pr[9] or 0.0,
            job_id=pr[10],
            sheet_num=pr[11],
            syscall_counts=json.loads(pr[12]) if pr[12] else {},
            syscall_time_pct=json.loads(pr[13]) if pr[13] else {},
        )
        for pr in process_rows
    ]
    return SystemSnapshot(
        timestamp=row[1],
        daemon_pid=row[2] or 0,
        system_memory_total_mb=row[3] or 0.0,
        system_memory_available_mb=row[4] or 0.0,
        system_memory_used_mb=row[5] or 0.0,
        daemon_rss_mb=row[6] or 0.0,
        load_avg_1=row[9] or 0.0,
        load_avg_5=row[10] or 0.0,
        load_avg_15=row[11] or 0.0,
        processes=tuple(processes),
        gpus=tuple(gpus),
        pressure_level=row[16] or "none",
        running_jobs=row[17] or 0,
        active_sheets=row[18] or 0,
        zombie_count=row[8] or 0,
    )


def timed(action: Callable[[], object]) -> float:
    """Seconds one call of `action` takes, starting from a collected heap (GC stays on)."""
    gc.collect()
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_ms(samples: Sequence[float]) -> float:
    """The median of `samples` (seconds) in milliseconds."""
    return statistics.median(samples) * 1000.0


class Measurement:
    """Milliseconds per operation over several runs, and ratios to a baseline run by run."""

    def __init__(self) -> None:
        """Start with no runs."""
        self.seconds: dict[str, list[float]] = {}

    def add(self, name: str, seconds: float) -> None:
        """Record one run of `name`."""
        self.seconds.setdefault(name, []).append(seconds)

    def median_ms(self, name: str, per: int = 1) -> float:
        """Median milliseconds of `name`, divided by `per` operations per run."""
        return statistics.median(self.seconds[name]) * 1000.0 / per

    def ratio(self, name: str, baseline: str) -> float:
        """Median over runs of `name`'s time divided by `baseline`'s in the same run."""
        pairs = zip(self.seconds[name], self.seconds[baseline], strict=True)
        return statistics.median(mine / theirs for mine, theirs in pairs)


def bench_writes(folder: Path, runs: int, snapshots_per_run: int) -> Measurement:
    """Seconds per run of `snapshots_per_run` 1,000-process snapshots for each writer."""
    snapshots = [make_snapshot(index, 1000) for index in range(snapshots_per_run)]
    measurement = Measurement()
    for run in range(runs):
        # Interleave the writers so drift in the machine's speed hits all of them alike.
        measurement.add(
            "executemany", write_plain(folder / f"plain-{run}.db", snapshots, per_row=False)
        )
        ours_path = folder / f"ours-{run}.db"
        measurement.add("ours", write_ours(ours_path, snapshots))
        measurement.add("ours: 1-minute downsampling", downsample_ours(ours_path))
        measurement.add(
            "execute per row", write_plain(folder / f"rows-{run}.db", snapshots, per_row=True)
        )
    return measurement


def bench_reads(folder: Path, runs: int) -> Measurement:
    """Seconds to read the newest 100 snapshots of a 100,000-process-row file, per reader."""
    path = folder / "read.db"
    with MonitorStore(path) as store:
        for index in range(1000):
            store.write_snapshot(make_snapshot(index, 100))
    store = MonitorStore(path, readonly=True)
    baseline = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    seed = SeedStoreReader(path)
    try:
        ours_result = store.read_snapshots(0.0, limit=100)
        # Every reader must return the same snapshots for the comparison to mean anything.
        for other in (read_per_snapshot(baseline, 100), seed.read(100)):
            assert [s.timestamp for s in ours_result] == [s.timestamp for s in other]
            assert [[p.pid for p in s.processes] for s in ours_result] == [
                [p.pid for p in s.processes] for s in other
            ]
        assert sum(len(s.processes) for s in ours_result) == 10_000
        del ours_result
        measurement = Measurement()
        for _ in range(runs):
            measurement.add(SEED_STORE, timed(lambda: seed.read(100)))
            measurement.add(SYNC_PORT, timed(lambda: read_per_snapshot(baseline, 100)))
            measurement.add("ours", timed(lambda: store.read_snapshots(0.0, limit=100)))
    finally:
        # aiosqlite's worker thread would keep the process alive.
        seed.close()
        store.close()
        baseline.close()
    return measurement


def main(argv: Sequence[str] | None = None) -> int:
    """Run both benchmarks, print the table, and return 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="runs per measurement")
    parser.add_argument("--snapshots", type=int, default=24, help="snapshots written per run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mzt-bench-") as tmp:
        folder = Path(tmp)
        writes = bench_writes(folder, args.runs, args.snapshots)
        reads = bench_reads(folder, args.runs)
    per = args.snapshots
    print(
        f"monitor.db store benchmark: median of {args.runs} runs, sqlite {sqlite3.sqlite_version}"
    )
    print("(ratios are medians of run-by-run ratios to the baseline)")
    print()
    print(f"(a) write one 1,000-process snapshot ({per} per run)")
    print(f"    {'writer':<40}{'ms':>9}{'vs executemany':>17}")
    for name in ("ours", "executemany", "execute per row"):
        ratio = writes.ratio(name, "executemany")
        print(f"    {name:<40}{writes.median_ms(name, per):>9.2f}{ratio:>16.2f}x")
    name = "ours: 1-minute downsampling"
    print(
        f"    {name + ' (amortised)':<40}{writes.median_ms(name, per):>9.2f}"
        f"{writes.ratio(name, 'executemany'):>16.2f}x"
    )
    print()
    print("(b) read the newest 100 snapshots (file of 100,000 process rows), one query per")
    print("    snapshot for the seed's reader")
    print(f"    {'reader':<40}{'ms':>9}{'vs seed':>10}{'vs sqlite3 port':>17}")
    for name in ("ours", SEED_STORE, SYNC_PORT):
        print(
            f"    {name:<40}{reads.median_ms(name):>9.2f}{reads.ratio(name, SEED_STORE):>9.2f}x"
            f"{reads.ratio(name, SYNC_PORT):>16.2f}x"
        )
    print()
    write_ratio = writes.ratio("ours", "executemany")
    read_ratio = reads.ratio("ours", SEED_STORE)
    port_ratio = reads.ratio("ours", SYNC_PORT)
    write_ok = write_ratio <= WRITE_TARGET
    read_ok = read_ratio <= READ_TARGET
    print(
        f"targets: writer {write_ratio:.2f}x <= {WRITE_TARGET}x: {'met' if write_ok else 'MISSED'};"
        f" reader {read_ratio:.2f}x the seed's store <= {READ_TARGET}x:"
        f" {'met' if read_ok else 'MISSED'} ({port_ratio:.2f}x its sqlite3 port)"
    )
    return 0 if write_ok and read_ok else 1


if __name__ == "__main__":
    sys.exit(main())
