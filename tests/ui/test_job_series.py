"""The per-job series behind the job screen's charts: points, bounds, order, sheet marks."""

from __future__ import annotations

from datetime import UTC, datetime

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.headless.engine import TickResult
from mzt_tui.models import (
    Anomaly,
    AnomalyType,
    ConductorStatus,
    JobRecord,
    ProcessMetric,
    SheetState,
)
from mzt_tui.ui.job_series import JobSeriesBuffer, SeriesPoint, SheetMark
from tests.ui.factories import NOW, busy_tick, process, snapshot


def _tick(
    timestamp: float,
    processes: list[ProcessMetric],
    *,
    jobs: tuple[JobRecord, ...] = (),
    anomalies: AnomalyChanges | None = None,
) -> TickResult:
    return TickResult(
        snapshot=snapshot(processes, timestamp=timestamp),
        all_processes=tuple(processes),
        events=(),
        anomalies=anomalies or AnomalyChanges(),
        jobs=jobs,
        conductor=ConductorStatus(pid=1000, source="pid_file"),
        gpu_reason=None,
    )


def _sheet_process(sheet: int, rss: float = 100.0, cpu: float = 50.0) -> ProcessMetric:
    return process(2000 + sheet, "worker", job="etl", sheet=sheet, rss=rss, cpu=cpu)


def _running_job(**sheets: SheetState) -> JobRecord:
    return JobRecord(
        job_id="etl",
        status="running",
        sheets={int(key.removeprefix("s")): value for key, value in sheets.items()},
    )


def test_a_tick_adds_one_point_per_job_with_its_totals() -> None:
    buffer = JobSeriesBuffer()
    buffer.record(busy_tick())
    train = buffer.view("train-model").points
    assert train == (SeriesPoint(NOW, 820.0 + 400.0 + 1_536.0, 45.0 + 30.5 + 98.0, 2_048.0, (3,)),)
    lint = buffer.view("lint-repo").points
    assert lint == (SeriesPoint(NOW, 300.0, 12.0, 0.0, (1,)),)
    assert sorted(buffer.job_ids) == ["lint-repo", "train-model"]


def test_a_running_job_without_processes_gets_a_zero_point_and_a_finished_one_none() -> None:
    buffer = JobSeriesBuffer()
    finished = JobRecord(job_id="old", status="completed")
    buffer.record(_tick(NOW, [], jobs=(_running_job(), finished)))
    assert buffer.view("etl").points == (SeriesPoint(NOW, 0.0, 0.0, 0.0, ()),)
    assert buffer.get("old") is None


def test_points_stay_in_time_order_whatever_order_they_come_in() -> None:
    buffer = JobSeriesBuffer()
    for offset in (10.0, 0.0, 20.0, 5.0, 10.0):
        buffer.record(_tick(NOW + offset, [_sheet_process(1, rss=offset + 1)]))
    times = [p.timestamp for p in buffer.view("etl").points]
    assert times == [NOW, NOW + 5.0, NOW + 10.0, NOW + 20.0]
    # the second point at +10 s replaced the first one
    assert buffer.view("etl").points[2].rss_mb == 11.0


def test_a_view_until_an_earlier_time_leaves_out_what_came_after() -> None:
    buffer = JobSeriesBuffer()
    for offset in range(0, 60, 2):
        buffer.record(_tick(NOW + offset, [_sheet_process(1)]))
    view = buffer.view("etl", until=NOW + 10.0)
    assert [p.timestamp for p in view.points] == [NOW + t for t in (0, 2, 4, 6, 8, 10)]


def test_each_job_keeps_only_its_window_and_its_point_cap() -> None:
    buffer = JobSeriesBuffer(window_seconds=100.0, max_points=30)
    for offset in range(0, 400, 2):
        buffer.record(_tick(NOW + offset, [_sheet_process(1)]))
    points = buffer.view("etl").points
    assert len(points) == 30  # the cap bites before the 100 s window (51 points)
    assert points[-1].timestamp == NOW + 398
    wide = JobSeriesBuffer(window_seconds=20.0, max_points=1000)
    for offset in range(0, 400, 2):
        wide.record(_tick(NOW + offset, [_sheet_process(1)]))
    assert wide.view("etl").points[0].timestamp == NOW + 378


def test_the_job_updated_longest_ago_goes_when_too_many_jobs_are_kept() -> None:
    buffer = JobSeriesBuffer(max_jobs=3)
    for index in range(5):
        worker = process(3000 + index, "w", job=f"job-{index}", rss=10.0)
        buffer.record(_tick(NOW + index, [worker]))
    assert sorted(buffer.job_ids) == ["job-2", "job-3", "job-4"]
    assert len(buffer) == 3


def test_sheet_starts_and_ends_are_where_its_processes_appear_and_go() -> None:
    buffer = JobSeriesBuffer()
    layout = [(), (1,), (1,), (1, 2), (2,), (2,), ()]
    for index, sheets in enumerate(layout):
        buffer.record(
            _tick(NOW + 2 * index, [_sheet_process(s) for s in sheets], jobs=(_running_job(),))
        )
    marks = buffer.view("etl").sheet_marks
    assert marks == (
        SheetMark(NOW + 2, 1, "start"),
        SheetMark(NOW + 6, 2, "start"),
        SheetMark(NOW + 8, 1, "end"),
        SheetMark(NOW + 12, 2, "end"),
    )


def test_a_sheet_already_running_when_the_series_begins_has_no_made_up_start() -> None:
    buffer = JobSeriesBuffer()
    for index in range(4):
        buffer.record(_tick(NOW + 2 * index, [_sheet_process(1)]))
    assert buffer.view("etl").sheet_marks == ()


def test_a_gap_in_the_points_is_not_taken_for_a_sheet_ending() -> None:
    buffer = JobSeriesBuffer()
    for offset in (0, 2, 4, 6):
        buffer.record(_tick(NOW + offset, [_sheet_process(1)]))
    buffer.record(_tick(NOW + 600, [], jobs=(_running_job(),)))
    assert buffer.view("etl").sheet_marks == ()


def test_the_registry_times_are_used_where_they_fall_and_for_sheets_never_seen() -> None:
    at = NOW + 3.0
    quick = SheetState(
        sheet_num=2,
        status="completed",
        started_at=datetime.fromtimestamp(NOW + 4.5, tz=UTC),
        completed_at=datetime.fromtimestamp(NOW + 5.0, tz=UTC),
    )
    job = _running_job(
        s1=SheetState(
            sheet_num=1, status="in_progress", started_at=datetime.fromtimestamp(at, UTC)
        ),
        s2=quick,
    )
    buffer = JobSeriesBuffer()
    buffer.record(_tick(NOW, [], jobs=(job,)))
    for offset in (4.0, 6.0, 8.0):
        buffer.record(_tick(NOW + offset, [_sheet_process(1)], jobs=(job,)))
    assert buffer.view("etl").sheet_marks == (
        SheetMark(at, 1, "start"),
        SheetMark(NOW + 4.5, 2, "start"),
        SheetMark(NOW + 5.0, 2, "end"),
    )


def test_anomalies_of_a_job_open_and_close_and_a_view_before_the_end_shows_them_open() -> None:
    spike = Anomaly(
        anomaly_type=AnomalyType.MEMORY_SPIKE,
        started_at=NOW + 2,
        pid=2001,
        job_id="etl",
        sheet_num=1,
        description="RSS grew",
    )
    buffer = JobSeriesBuffer()
    buffer.record(_tick(NOW + 2, [_sheet_process(1)], anomalies=AnomalyChanges(opened=(spike,))))
    closed = spike.model_copy(update={"ended_at": NOW + 10})
    buffer.record(_tick(NOW + 10, [_sheet_process(1)], anomalies=AnomalyChanges(closed=(closed,))))
    (mark,) = buffer.view("etl").anomalies
    assert (mark.anomaly_type, mark.started_at, mark.ended_at) == (
        "memory_spike",
        NOW + 2,
        NOW + 10,
    )
    (earlier,) = buffer.view("etl", until=NOW + 5).anomalies
    assert earlier.ended_at is None
    assert buffer.view("etl", until=NOW + 1).anomalies == ()


def test_per_sheet_peaks_are_the_highest_totals_and_cpu_time_adds_up() -> None:
    buffer = JobSeriesBuffer()
    for offset, rss in ((0, 100.0), (2, 300.0), (4, 200.0)):
        buffer.record(_tick(NOW + offset, [_sheet_process(1, rss=rss, cpu=50.0)]))
    peak = buffer.get("etl").sheet_peaks[1]  # type: ignore[union-attr]
    assert peak.peak_rss_mb == 300.0
    assert peak.peak_cpu_percent == 50.0
    assert peak.cpu_seconds == 2.0  # 50 % of the two 2 s intervals
    assert (peak.first_seen, peak.last_seen) == (NOW, NOW + 4)


def test_a_backfill_merges_older_recorded_points_of_one_job() -> None:
    buffer = JobSeriesBuffer()
    buffer.record(_tick(NOW, [_sheet_process(1, rss=50.0)]))
    recorded = [
        snapshot([_sheet_process(1, rss=float(t))], timestamp=NOW - t) for t in (30, 20, 10)
    ]
    assert buffer.backfill("etl", recorded, ()) == 3
    points = buffer.view("etl").points
    assert [p.timestamp for p in points] == [NOW - 30, NOW - 20, NOW - 10, NOW]
    assert [p.rss_mb for p in points] == [30.0, 20.0, 10.0, 50.0]


def test_a_job_that_ends_gets_one_zero_point_where_it_stopped() -> None:
    buffer = JobSeriesBuffer()
    buffer.record(_tick(NOW, [_sheet_process(1)], jobs=(_running_job(),)))
    done = JobRecord(job_id="etl", status="completed")
    for offset in (2.0, 4.0, 6.0):
        buffer.record(_tick(NOW + offset, [], jobs=(done,)))
    points = buffer.view("etl").points
    assert [(p.timestamp, p.rss_mb) for p in points] == [(NOW, 100.0), (NOW + 2.0, 0.0)]
