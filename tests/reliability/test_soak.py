"""Soak: 20,000 ticks at an accelerated interval through the recorder into a real store."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.collect.gpu import GpuSampler
from mzt_tui.collect.oom import OomWatcher
from mzt_tui.collect.procfs import ProcfsSampler
from mzt_tui.headless.engine import MonitorEngine, TickResult
from mzt_tui.headless.recorder import Recorder
from mzt_tui.marianne.paths import resolve_home
from mzt_tui.models import ConductorStatus, RetentionConfig, SystemSnapshot
from mzt_tui.store import MonitorStore
from tests.collect.fakeproc import FAKE_BTIME, FAKE_CLOCK_TICKS, FAKE_PAGE_SIZE, FakeProc
from tests.reliability.helpers import figure, integrity, scaled
from tests.store.factories import process

pytestmark = pytest.mark.slow

TICKS = int(os.environ.get("MZT_RELIABILITY_SOAK_TICKS", "20000"))
WARM_UP = TICKS // 4
START = 1_795_000_020.0  # a round minute
CAP = 1024 * 1024
RETENTION = RetentionConfig(full_resolution_hours=0.25, downsampled_days=0.1, max_bytes=CAP)
"""15 minutes of full resolution, 2.4 hours of 1-minute history: both bind within the run."""


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def load_of(stamp: float) -> float:
    """A load average that is constant within each minute, different from minute to minute."""
    return float(int((stamp - START) // 60) % 7)


def tick(stamp: float, serial: int) -> TickResult:
    processes = tuple(
        process(7000 + index, job_id="soak-job", sheet_num=1 + index % 2, start_time=START)
        for index in range(5)
    )
    shot = SystemSnapshot(
        timestamp=stamp,
        daemon_pid=4242,
        system_memory_total_mb=64_000.0,
        system_memory_available_mb=40_000.0,
        system_memory_used_mb=24_000.0,
        load_avg_1=load_of(stamp),
        processes=processes,
        running_jobs=1,
        active_sheets=2,
    )
    return TickResult(
        snapshot=shot,
        all_processes=processes,
        events=(),
        anomalies=AnomalyChanges(),
        jobs=(),
        conductor=ConductorStatus(pid=4242, source="pid_file"),
        gpu_reason="no GPU",
    )


def test_twenty_thousand_ticks(tmp_path: Path) -> None:
    db = tmp_path / "monitor.db"
    store = MonitorStore(db, jsonl_path=tmp_path / "monitor.jsonl", jsonl_max_bytes=CAP)
    store.initialize()
    now = [START]
    status = io.StringIO()
    recorder = Recorder(store=store, status_out=status, retention=RETENTION, clock=lambda: now[0])
    largest_file = 0
    warm_rss = 0
    started = time.monotonic()
    for serial in range(TICKS):
        now[0] = START + serial  # one tick a second of recorded time, as fast as it goes
        recorder.handle(tick(now[0], serial))
        if serial == WARM_UP:
            warm_rss = rss_kib()
        if serial % 500 == 0:
            largest_file = max(largest_file, db.stat().st_size)
    elapsed = time.monotonic() - started
    end_rss = rss_kib()
    recorder.finish(AnomalyChanges())
    result = store.cleanup(RETENTION, now=now[0])
    largest_file = max(largest_file, db.stat().st_size)
    assert "warning" not in status.getvalue(), status.getvalue()
    growth_per_10k = (end_rss - warm_rss) / 1024 / ((TICKS - WARM_UP) / 10_000)
    assert growth_per_10k < 1.0
    assert integrity(db) == "ok"
    # The byte cap: pages in use fit after each clean-up; the file never grows by more than
    # one clean-up interval's writes (300 ticks of ~0.6 KB here) beyond it.
    assert result.used_bytes_after <= CAP
    assert largest_file <= 1.3 * CAP
    newest = store.read_snapshots(now[0] - 1, limit=1)
    assert newest and newest[0].timestamp == now[0]
    # Retention: nothing older than the full-resolution window ...
    first = store.read_snapshots(0.0, limit=1)
    count = store.count_snapshots()
    assert first[0].timestamp >= now[0] - RETENTION.full_resolution_hours * 3600
    # ... and a right 1-minute summary of every closed minute in the history window.
    minutes = store.read_system_minutes(0.0)
    horizon = now[0] - RETENTION.downsampled_days * 86400
    first_minute = START + 60 * -(-(horizon - START) // 60)
    closed = int((now[0] - first_minute) // 60) - 1
    assert minutes[0].minute == first_minute
    assert [m.minute for m in minutes[:closed]] == [first_minute + 60 * i for i in range(closed)]
    assert all(m.samples == 60 for m in minutes[:closed])
    assert all(m.load_avg_1_max == load_of(m.minute) for m in minutes)
    jsonl_bytes = sum(p.stat().st_size for p in tmp_path.glob("monitor.jsonl*"))
    assert jsonl_bytes <= 3 * CAP + 10_000
    store.close()
    figure(
        "soak",
        f"{TICKS} ticks in {elapsed:.0f} s ({elapsed / TICKS * 1000:.2f} ms/tick); RSS "
        f"{warm_rss / 1024:.1f} MiB after {WARM_UP} ticks, {end_rss / 1024:.1f} MiB at the end "
        f"({growth_per_10k:+.2f} MiB per 10,000 ticks); db file at most "
        f"{largest_file / 1024:.0f} KiB, {result.used_bytes_after / 1024:.0f} KiB in use "
        f"(cap {CAP // 1024} KiB); {count} snapshots kept, {len(minutes)} minutes summarised; "
        f"JSONL {jsonl_bytes / 1024:.0f} KiB in 3 files",
    )


def test_the_engine_and_recorder_over_a_churning_fake_proc(tmp_path: Path) -> None:
    """The whole tick (sampling, attribution, events, anomalies) holds no growing state.

    Without a live conductor the fake processes are recorded as the system's, so no
    lifecycle events are written here (the load test checks those on real processes).
    """
    ticks = int(scaled(20_000))
    warm_up = ticks // 4
    fake = FakeProc(tmp_path / "proc")
    for pid in range(100, 110):
        fake.add(pid, "worker", cmdline=["python", "worker.py"])
    now = [START]
    sampler = ProcfsSampler(
        str(fake.root),
        boot_time=FAKE_BTIME,
        clock_ticks=FAKE_CLOCK_TICKS,
        page_size=FAKE_PAGE_SIZE,
        monotonic=lambda: now[0],
        wall_clock=lambda: now[0],
    )
    engine = MonitorEngine(
        resolve_home(tmp_path / "home"),
        record_system=True,
        keep_all_processes=False,
        sampler=sampler,
        gpu_sampler=GpuSampler(nvml=None, use_smi_fallback=False),
        oom_watcher=OomWatcher(
            kmsg_path=tmp_path / "no-kmsg", proc_root=fake.root, cgroup_root=tmp_path / "no-cg"
        ),
    )
    store = MonitorStore(
        tmp_path / "monitor.db", jsonl_path=tmp_path / "monitor.jsonl", jsonl_max_bytes=CAP
    )
    recorder = Recorder(store=store, retention=RETENTION, clock=lambda: now[0])
    warm_rss = 0
    started = time.monotonic()
    for serial in range(ticks):
        now[0] = START + serial
        if serial % 20 == 0:  # a process exits and another takes its PID, started later
            pid = 100 + (serial // 20) % 10
            fake.remove(pid)
            fake.add(pid, "worker", cmdline=["python", "worker.py"], start_ticks=100 + serial)
        recorder.handle(engine.tick())
        if serial == warm_up:
            warm_rss = rss_kib()
    elapsed = time.monotonic() - started
    end_rss = rss_kib()
    recorder.finish(engine.close_anomalies(now[0]))
    engine.close()
    result = store.cleanup(RETENTION, now=now[0])
    newest = store.read_snapshots(now[0], limit=1)[0]
    store.close()
    growth_per_10k = (end_rss - warm_rss) / 1024 / ((ticks - warm_up) / 10_000)
    assert growth_per_10k < 1.0
    assert recorder.ticks_recorded == ticks
    assert result.used_bytes_after <= CAP
    assert sorted(p.pid for p in newest.processes) == list(range(100, 110))
    figure(
        "soak (engine)",
        f"{ticks} engine ticks over a fake /proc of 10 churning processes in {elapsed:.0f} s "
        f"({elapsed / ticks * 1000:.2f} ms/tick); RSS "
        f"{warm_rss / 1024:.1f} → {end_rss / 1024:.1f} MiB after {warm_up} ticks "
        f"({growth_per_10k:+.2f} MiB per 10,000 ticks)",
    )
