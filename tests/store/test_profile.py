"""Job resource profiles (CPU seconds, syscall shares) and the text report."""

from __future__ import annotations

from pathlib import Path

import pytest

from mzt_tui.models.events import EventType
from mzt_tui.store import MonitorStore
from tests.store.factories import BASE_TIME, anomaly, event, process, snapshot


@pytest.fixture
def store(tmp_path: Path) -> MonitorStore:
    """A fresh store."""
    return MonitorStore(tmp_path / "monitor.db")


def test_cpu_seconds_count_intervals_first_samples_and_gaps(store: MonitorStore) -> None:
    # GIVEN 5 s ticks; pid 10 starts 2 s before its first sample; pid 20 is sampled, then
    # missing for 95 s (a gap); pid 10 is reused by a new process (another start time).
    t = BASE_TIME
    first = process(10, sheet_num=1, cpu_percent=50.0, age_seconds=2.0, start_time=t - 2.0)
    store.write_snapshot(snapshot(t, (first, process(20, sheet_num=2, cpu_percent=100.0))))
    store.write_snapshot(
        snapshot(
            t + 5.0,
            (
                first.model_copy(update={"age_seconds": 7.0}),
                process(20, sheet_num=2, cpu_percent=100.0),
            ),
        )
    )
    store.write_snapshot(snapshot(t + 10.0, (first.model_copy(update={"age_seconds": 12.0}),)))
    reused = process(10, sheet_num=1, cpu_percent=20.0, age_seconds=1.0, start_time=t + 99.0)
    store.write_snapshot(
        snapshot(
            t + 100.0, (reused, process(20, sheet_num=2, cpu_percent=100.0, age_seconds=500.0))
        )
    )

    profile = store.read_job_resource_profile("job-a")

    # THEN pid 10 (first): 0.5 x 2 s (its age) + 0.5 x 5 + 0.5 x 5 = 6 s;
    #      pid 20: 1.0 x 5 (first, capped at one interval) + 1.0 x 5 + 1.0 x 5 (after the gap);
    #      pid 10 (reused): 0.2 x 1 s (its age).
    assert profile.nominal_interval_seconds == 5.0
    assert profile.sheet_metrics["1"].cpu_seconds == pytest.approx(6.0 + 0.2)
    assert profile.sheet_metrics["2"].cpu_seconds == pytest.approx(15.0)
    assert profile.total_cpu_seconds == pytest.approx(21.2)
    assert profile.unique_pid_count == 2
    assert profile.sample_count == 7


def test_syscall_shares_use_each_processes_latest_summary_weighted_by_calls(
    store: MonitorStore,
) -> None:
    early = process(1, syscall_counts={"open": 5}, syscall_time_pct={"open": 100.0})
    late = process(1, syscall_counts={"read": 300}, syscall_time_pct={"read": 100.0})
    other = process(
        2,
        syscall_counts={"write": 50, "futex": 50},
        syscall_time_pct={"write": 50.0, "futex": 50.0},
    )
    store.write_snapshot(snapshot(BASE_TIME, (early, other)))
    store.write_snapshot(snapshot(BASE_TIME + 5.0, (late, other)))

    hotspots = store.read_job_resource_profile("job-a").syscall_hotspots

    # pid 1 weighs 300 calls, pid 2 100: read 300/400, write and futex 50/400 each.
    assert hotspots == pytest.approx({"read": 75.0, "write": 12.5, "futex": 12.5})
    assert list(hotspots) == ["read", "write", "futex"]
    assert sum(hotspots.values()) == pytest.approx(100.0)


def test_peaks_per_job_and_sheet(store: MonitorStore) -> None:
    store.write_snapshot(
        snapshot(
            BASE_TIME,
            (
                process(1, sheet_num=1, rss_mb=300.0, open_fds=12, threads=3),
                process(2, sheet_num=1, rss_mb=200.0, cpu_percent=80.0),
                process(3, sheet_num=2, rss_mb=50.0, open_fds=900, threads=40),
            ),
        )
    )
    profile = store.read_job_resource_profile("job-a")
    assert profile.peak_rss_mb == 300.0
    assert profile.peak_total_rss_mb == 550.0
    assert profile.sheet_metrics["1"].peak_total_rss_mb == 500.0
    assert profile.sheet_metrics["1"].max_cpu_pct == 80.0
    assert profile.peak_open_fds == 900 and profile.peak_threads == 40
    assert profile.sheet_metrics["2"].unique_pid_count == 1


def test_report_lists_events_and_anomalies(store: MonitorStore) -> None:
    store.write_snapshot(snapshot(BASE_TIME, (process(1, rss_mb=512.0),)))
    store.write_events(
        [
            event(BASE_TIME + 1, EventType.SPAWN, pid=1),
            event(BASE_TIME + 2, EventType.SIGNAL, pid=1, signal_num=15, details="SIGTERM"),
            event(BASE_TIME + 3, EventType.KILL, pid=1, signal_num=9),
            event(BASE_TIME + 4, EventType.OOM, pid=1, details='{"rss_mb": 9000}'),
            event(BASE_TIME + 5, EventType.EXIT, pid=1, exit_code=137),
        ]
    )
    store.write_anomaly(anomaly(BASE_TIME, BASE_TIME + 30.0))

    report = store.generate_resource_report("job-a").splitlines()

    assert report[0] == "Resource Profile for job 'job-a':"
    assert "  Peak memory: 512.0 MB" in report
    assert "  Signals sent: 2" in report
    assert "    PID 1 signal=15 SIGTERM" in report
    assert "    PID 1 signal=9" in report
    assert "  OOM events: 1" in report
    assert '    PID 1: {"rss_mb": 9000}' in report
    assert "  Process lifecycle: 1 spawns, 1 exits" in report
    assert "    non-zero exits: 1, kills: 1, OOM kills: 1" in report
    assert "  Anomalies: 1" in report
    assert any(
        line.startswith("    memory_spike (high, sheet 1, PID 5001) ")
        and line.endswith("30 s: RSS grew 1.8x in 30 s")
        for line in report
    )


def test_report_of_a_job_with_events_only(store: MonitorStore) -> None:
    store.write_event(event(BASE_TIME, EventType.EXIT, job_id="job-b", exit_code=1))
    report = store.generate_resource_report("job-b")
    assert report.startswith("Resource Profile for job 'job-b':\n  No process samples recorded.\n")
    assert "non-zero exits: 1" in report
    assert store.job_ids() == ["job-b"]
