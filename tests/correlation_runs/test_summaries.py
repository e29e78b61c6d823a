"""Sheet-run summaries built from monitor.db: peaks of the tree, CPU seconds, attempts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.headless.engine import TickResult
from mzt_tui.headless.recorder import Recorder
from mzt_tui.models import Anomaly, AnomalyType, ConductorStatus, ProcessMetric, SystemSnapshot
from mzt_tui.store import SCHEMA_VERSION, MonitorStore
from tests.correlation_runs.builders import proc, tick
from tests.store.factories import BASE_TIME, raw_rows

T0 = BASE_TIME


def two_attempts() -> list[SystemSnapshot]:
    """Sheet 1 of job-a: attempt 1 (root 5001 + child 5002), then attempt 2 (root 5003).

    Attempt 1 is seen at T0+2, +4, +6; attempt 2 at T0+10, +12; the tick at T0+14 shows
    neither, so both have ended.
    """
    first_root = T0 + 1.0
    child_start = T0 + 1.5
    second_root = T0 + 9.0

    def attempt_one(
        now: float, root_rss: float, child_rss: float, cpu: float
    ) -> list[ProcessMetric]:
        return [
            proc(
                5001,
                start=first_root,
                rss_mb=root_rss,
                cpu_percent=cpu,
                open_fds=20,
                threads=3,
                syscall_time_pct={"read": 70.0, "write": 30.0},
                now=now,
            ),
            proc(
                5002,
                ppid=5001,
                start=child_start,
                rss_mb=child_rss,
                cpu_percent=cpu,
                open_fds=5,
                threads=1,
                syscall_time_pct={"futex": 90.0, "read": 10.0},
                now=now,
            ),
        ]

    ticks = [
        # The conductor itself is in every snapshot; it is no sheet's root.
        tick(T0 + 2.0, [*attempt_one(T0 + 2.0, 100.0, 50.0, 50.0)]),
        tick(T0 + 4.0, [*attempt_one(T0 + 4.0, 300.0, 400.0, 100.0)]),
        tick(T0 + 6.0, [*attempt_one(T0 + 6.0, 600.0, 10.0, 20.0)]),
        tick(T0 + 8.0, []),
        tick(T0 + 10.0, [proc(5003, start=second_root, rss_mb=80.0, now=T0 + 10.0)]),
        tick(T0 + 12.0, [proc(5003, start=second_root, rss_mb=90.0, now=T0 + 12.0)]),
        tick(T0 + 14.0, []),
    ]
    return ticks


def record(path: Path, snapshots: list[SystemSnapshot]) -> MonitorStore:
    store = MonitorStore(path)
    for shot in snapshots:
        store.write_snapshot(shot)
    return store


def test_peaks_sum_the_tree_per_tick_and_attempts_are_told_apart(tmp_path: Path) -> None:
    # GIVEN two attempts of one sheet recorded tick by tick
    store = record(tmp_path / "monitor.db", two_attempts())
    # WHEN the summaries are rebuilt
    assert store.rebuild_sheet_runs() == 2
    first, second = store.read_sheet_runs()
    store.close()
    # THEN each attempt is one run, numbered by its root's start
    assert (first.root_pid, first.attempt, second.root_pid, second.attempt) == (5001, 1, 5003, 2)
    # Peak RSS is the largest per-tick SUM of the tree: 300+400 at T0+4 (not 600 alone).
    assert first.peak_rss_mb == pytest.approx(700.0)
    assert first.peak_fds == 25 and first.peak_threads == 4
    # CPU seconds: tree CPU% × time since the previous tick (the first tick: since the root's
    # start, 1 s): 100% × 1 s + 200% × 2 s + 40% × 2 s.
    assert first.cpu_seconds == pytest.approx(1.0 + 4.0 + 0.8)
    assert first.mean_cpu_percent == pytest.approx((100.0 + 200.0 + 40.0) / 3)
    assert first.samples == 3 and first.process_count == 2 and first.pids == (5001, 5002)
    assert first.started_at == T0 + 1.0 and first.ended_at == T0 + 6.0
    assert first.duration_seconds == pytest.approx(5.0)
    assert first.first_seen == T0 + 2.0
    # Summed shares: read 70+70+70+10×3 = 240 beats futex 270? futex 90×3 = 270 wins.
    assert first.dominant_syscall == "futex"
    assert first.gpu_memory_peak_mb is None  # no GPU at any tick
    assert second.peak_rss_mb == pytest.approx(90.0)
    assert second.process_count == 1 and second.dominant_syscall is None


def test_a_reused_pid_with_another_start_time_is_another_attempt(tmp_path: Path) -> None:
    ticks = [
        tick(T0 + 2.0, [proc(5001, start=T0 + 1.0, now=T0 + 2.0)]),
        tick(T0 + 4.0, [proc(5001, start=T0 + 3.5, rss_mb=500.0, now=T0 + 4.0)]),
        tick(T0 + 6.0, []),
    ]
    with record(tmp_path / "monitor.db", ticks) as store:
        store.rebuild_sheet_runs()
        runs = store.read_sheet_runs()
    assert [(run.root_pid, run.root_start_time, run.attempt) for run in runs] == [
        (5001, T0 + 1.0, 1),
        (5001, T0 + 3.5, 2),
    ]
    assert [run.peak_rss_mb for run in runs] == [100.0, 500.0]


def test_a_run_still_running_in_the_newest_tick_is_not_written(tmp_path: Path) -> None:
    ticks = two_attempts()[:-1]  # attempt 2 is still there at the last tick
    with record(tmp_path / "monitor.db", ticks) as store:
        store.rebuild_sheet_runs()
        assert [run.root_pid for run in store.read_sheet_runs()] == [5001]


def test_gpu_memory_and_anomalies_of_the_tree_are_kept(tmp_path: Path) -> None:
    ticks = [
        tick(T0 + 2.0, [proc(5001, start=T0, gpu_memory_mb=1000.0, now=T0 + 2.0)], gpus=1),
        tick(
            T0 + 4.0,
            [
                proc(5001, start=T0, gpu_memory_mb=1500.0, now=T0 + 4.0),
                proc(5002, ppid=5001, start=T0 + 3, gpu_memory_mb=500.0, now=T0 + 4.0),
            ],
            gpus=1,
        ),
        tick(T0 + 6.0, [], gpus=1),
    ]
    store = record(tmp_path / "monitor.db", ticks)
    spike = Anomaly(
        anomaly_type=AnomalyType.MEMORY_SPIKE,
        started_at=T0 + 4.0,
        ended_at=T0 + 6.0,
        pid=5002,
        job_id="job-a",
        sheet_num=1,
        description="spike",
    )
    other_pid = spike.model_copy(update={"anomaly_type": AnomalyType.RUNAWAY_CPU, "pid": 9999})
    sheet_wide = spike.model_copy(update={"anomaly_type": AnomalyType.ZOMBIE, "pid": None})
    other_job = spike.model_copy(update={"anomaly_type": AnomalyType.FD_EXHAUSTION, "job_id": "b"})
    too_late = spike.model_copy(
        update={"anomaly_type": AnomalyType.MEMORY_GROWTH, "started_at": T0 + 5.0}
    )
    for anomaly in (spike, other_pid, sheet_wide, other_job, too_late):
        store.write_anomaly(anomaly)
    store.rebuild_sheet_runs()
    (run,) = store.read_sheet_runs()
    store.close()
    assert run.gpu_memory_peak_mb == pytest.approx(2000.0)
    # The spike on the child and the sheet-wide zombie count; another PID, another job and
    # an anomaly that began after the run's last tick do not.
    assert run.anomaly_types == ("memory_spike", "zombie")


def test_the_recorder_writes_each_run_as_it_ends_and_a_rebuild_gives_the_same(
    tmp_path: Path,
) -> None:
    # GIVEN the recorder handling the ticks live
    store = MonitorStore(tmp_path / "monitor.db")
    recorder = Recorder(store=store)
    written_at: list[int] = []
    for shot in two_attempts():
        recorder.handle(
            TickResult(
                snapshot=shot,
                all_processes=shot.processes,
                events=(),
                anomalies=AnomalyChanges(),
                jobs=(),
                conductor=ConductorStatus(pid=4242, source="pid_file"),
                gpu_reason=None,
            )
        )
        written_at.append(len(store.read_sheet_runs()))
    recorder.finish(AnomalyChanges())
    # THEN attempt 1 is written by the tick that no longer shows it (T0+8), attempt 2 at T0+14
    assert written_at == [0, 0, 0, 1, 1, 1, 2]
    live = store.read_sheet_runs()
    # WHEN the table is emptied and rebuilt from the ticks
    with sqlite3.connect(tmp_path / "monitor.db") as conn:
        conn.execute("DELETE FROM mzt_sheet_runs")
    conn.close()
    assert store.read_sheet_runs() == []
    store.rebuild_sheet_runs()
    # THEN the rows are the same
    assert store.read_sheet_runs() == live
    store.close()


def test_rebuilding_again_adds_no_rows_and_keeps_rows_whose_ticks_are_gone(
    tmp_path: Path,
) -> None:
    store = record(tmp_path / "monitor.db", two_attempts())
    store.rebuild_sheet_runs()
    before = store.read_sheet_runs()
    store.rebuild_sheet_runs()
    assert store.read_sheet_runs() == before
    # GIVEN retention deleted the first two ticks of attempt 1
    with sqlite3.connect(tmp_path / "monitor.db") as conn:
        conn.execute("DELETE FROM snapshots WHERE timestamp < ?", (T0 + 5.0,))
    conn.close()
    # WHEN rebuilt, THEN the row built from more ticks stands
    store.rebuild_sheet_runs()
    assert store.read_sheet_runs() == before
    store.close()


def test_since_reads_a_run_that_started_before_it_whole(tmp_path: Path) -> None:
    with record(tmp_path / "monitor.db", two_attempts()) as store:
        # Attempt 1 was seen from T0+2 to T0+6: a window from T0+5 still sees all of it.
        runs = store.summarize_sheet_runs(since=T0 + 5.0)
        assert [(run.root_pid, run.samples) for run in runs] == [(5001, 3), (5003, 2)]
        assert runs[0].peak_rss_mb == pytest.approx(700.0)
        # A window after attempt 1 ended leaves it out.
        assert [run.root_pid for run in store.summarize_sheet_runs(since=T0 + 7.0)] == [5003]
        # Nothing was stored by summarising.
        assert store.read_sheet_runs() == []


def test_orphans_join_the_one_run_of_their_sheet_and_unattributed_roots_are_no_runs(
    tmp_path: Path,
) -> None:
    ticks = [
        tick(
            T0 + 2.0,
            [
                proc(5001, start=T0, rss_mb=100.0, now=T0 + 2.0),
                # Re-parented to init, still attributed to the sheet by its cwd.
                proc(7001, ppid=1, start=T0 + 1, rss_mb=50.0, now=T0 + 2.0),
                # A direct child of the conductor that no job claims.
                proc(5009, start=T0, job_id=None, sheet_num=None, now=T0 + 2.0),
            ],
        ),
        tick(T0 + 4.0, []),
    ]
    with record(tmp_path / "monitor.db", ticks) as store:
        store.rebuild_sheet_runs()
        (run,) = store.read_sheet_runs()
    assert run.root_pid == 5001 and run.peak_rss_mb == pytest.approx(150.0)
    assert run.pids == (5001, 7001)


def test_rows_of_the_conductors_profiler_give_runs_from_the_process_age(tmp_path: Path) -> None:
    # GIVEN a monitor.db written only by the conductor: its tables, no start times, no extras
    path = tmp_path / "monitor.db"
    with MonitorStore(path):
        pass  # our tables exist, but hold nothing: every snapshot is the conductor's
    conn = sqlite3.connect(path)
    for snapshot_id, (stamp, age) in enumerate(((T0 + 2.0, 2.0), (T0 + 4.0, 4.01)), start=1):
        conn.execute(
            "INSERT INTO snapshots (id, timestamp, daemon_pid) VALUES (?, ?, 4242)",
            (snapshot_id, stamp),
        )
        conn.execute(
            "INSERT INTO process_metrics (snapshot_id, pid, ppid, state, cpu_percent, rss_mb,"
            " threads, open_fds, age_seconds, job_id, sheet_num, syscall_counts,"
            " syscall_time_pct) VALUES (?, 5001, 4242, 'S', 10, ?, 2, 5, ?, 'job-a', 1,"
            " '{}', '{}')",
            (snapshot_id, 100.0 * snapshot_id, age),
        )
    conn.execute("INSERT INTO snapshots (id, timestamp, daemon_pid) VALUES (3, ?, 4242)", (T0 + 6,))
    conn.commit()
    conn.close()
    # WHEN summarised, THEN the two rows are one run (start estimated from the age)
    with MonitorStore(path, readonly=True) as store:
        (run,) = store.summarize_sheet_runs()
    assert run.samples == 2 and run.peak_rss_mb == pytest.approx(200.0)
    assert run.started_at == pytest.approx(T0, abs=0.02)


def test_a_version_1_file_gains_the_table_and_keeps_its_rows(tmp_path: Path) -> None:
    # GIVEN a file as version 1 left it
    path = tmp_path / "monitor.db"
    with record(path, two_attempts()):
        pass
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE mzt_sheet_runs")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    # WHEN opened read-only, THEN there are simply no summaries yet
    with MonitorStore(path, readonly=True) as reader:
        assert reader.read_sheet_runs() == []
    # WHEN opened for writing, THEN it is migrated in place
    with MonitorStore(path) as store:
        assert store.count_snapshots() == 7
        store.rebuild_sheet_runs()
        assert len(store.read_sheet_runs()) == 2
    assert SCHEMA_VERSION == 2
    assert raw_rows(path, "PRAGMA user_version") == [(2,)]
