"""Anomaly rules: each persistent condition is one anomaly with a start and an end."""

from __future__ import annotations

from mzt_tui.analysis.anomalies import AnomalyDetector
from mzt_tui.models import Anomaly, AnomalyType, GpuMetric, ProcessMetric, SystemSnapshot


def job_process(pid: int = 100, **fields: object) -> ProcessMetric:
    values: dict[str, object] = {"pid": pid, "job_id": "job-a", "sheet_num": 2, "start_time": 50.0}
    values.update(fields)
    return ProcessMetric.model_validate(values)


def tick(stamp: float, *processes: ProcessMetric, **fields: object) -> SystemSnapshot:
    values: dict[str, object] = {
        "timestamp": stamp,
        "system_memory_total_mb": 1000.0,
        "system_memory_available_mb": 500.0,
        "processes": processes,
    }
    values.update(fields)
    return SystemSnapshot.model_validate(values)


def test_memory_spike_opens_once_and_closes_when_it_stops() -> None:
    detector = AnomalyDetector()
    assert not detector.update(tick(0.0, job_process(rss_mb=900.0))).opened
    opened = detector.update(tick(5.0, job_process(rss_mb=2088.0))).opened
    assert [a.anomaly_type for a in opened] == [AnomalyType.MEMORY_SPIKE]
    spike = opened[0]
    assert spike.job_id == "job-a"
    assert spike.sheet_num == 2
    assert spike.description == "PID 100 RSS grew 132% (900\u21922088 MB) in 30s"
    # Still high relative to 30 s ago: the same anomaly, not a new one.
    assert not detector.update(tick(10.0, job_process(rss_mb=2100.0))).opened
    changes = closed_after(detector, 45.0, job_process(rss_mb=2100.0))
    assert [a.anomaly_type for a in changes] == [AnomalyType.MEMORY_SPIKE]
    assert changes[0].ended_at == 45.0
    assert changes[0].started_at == 5.0


def closed_after(detector: AnomalyDetector, stamp: float, *procs: ProcessMetric) -> list[Anomaly]:
    return list(detector.update(tick(stamp, *procs)).closed)


def test_runaway_cpu_needs_sixty_seconds() -> None:
    detector = AnomalyDetector()
    for stamp in range(0, 60, 5):
        assert not detector.update(tick(float(stamp), job_process(cpu_percent=99.0))).opened
    opened = detector.update(tick(60.0, job_process(cpu_percent=99.0))).opened
    assert [a.anomaly_type for a in opened] == [AnomalyType.RUNAWAY_CPU]
    # One dip resets the clock and closes the anomaly.
    closed = detector.update(tick(65.0, job_process(cpu_percent=10.0))).closed
    assert [a.anomaly_type for a in closed] == [AnomalyType.RUNAWAY_CPU]
    assert not detector.update(tick(70.0, job_process(cpu_percent=99.0))).opened


def test_zombie_and_fd_exhaustion() -> None:
    detector = AnomalyDetector()
    changes = detector.update(
        tick(0.0, job_process(state="Z"), job_process(pid=101, open_fds=1000))
    )
    assert sorted(a.anomaly_type for a in changes.opened) == [
        AnomalyType.FD_EXHAUSTION,
        AnomalyType.ZOMBIE,
    ]
    # The zombie is reaped: its anomaly ends, the fd one continues.
    changes = detector.update(tick(5.0, job_process(pid=101, open_fds=1200)))
    assert [a.anomaly_type for a in changes.closed] == [AnomalyType.ZOMBIE]
    assert [a.anomaly_type for a in detector.open_anomalies] == [AnomalyType.FD_EXHAUSTION]


def test_a_reused_pid_is_a_new_subject() -> None:
    detector = AnomalyDetector()
    detector.update(tick(0.0, job_process(state="Z", start_time=1.0)))
    changes = detector.update(tick(5.0, job_process(state="Z", start_time=2.0)))
    assert len(changes.opened) == 1
    assert len(changes.closed) == 1


def test_processes_outside_jobs_are_not_watched() -> None:
    detector = AnomalyDetector()
    stranger = ProcessMetric(pid=5, state="Z", open_fds=5000)
    assert not detector.update(tick(0.0, stranger)).opened


def test_low_system_memory() -> None:
    detector = AnomalyDetector()
    opened = detector.update(tick(0.0, system_memory_available_mb=50.0)).opened
    assert [(a.anomaly_type, a.severity) for a in opened] == [(AnomalyType.LOW_MEMORY, "high")]
    assert detector.update(tick(5.0, system_memory_available_mb=500.0)).closed


def test_gpu_memory_held_while_idle() -> None:
    detector = AnomalyDetector()
    idle = GpuMetric(index=0, utilization_pct=0.0, memory_used_mb=4000.0, memory_total_mb=8000.0)
    busy = idle.model_copy(update={"utilization_pct": 80.0})
    assert not detector.update(tick(0.0, gpus=(idle,))).opened
    assert not detector.update(tick(100.0, gpus=(idle,))).opened
    opened = detector.update(tick(120.0, gpus=(idle,))).opened
    assert [a.anomaly_type for a in opened] == [AnomalyType.GPU_IDLE_MEMORY]
    assert detector.update(tick(125.0, gpus=(busy,))).closed


def test_steady_memory_growth_but_not_noise() -> None:
    detector = AnomalyDetector()
    opened: list[Anomaly] = []
    for step in range(0, 61):
        stamp = step * 5.0
        rss = 500.0 + step * 5.0  # 60 MB per minute, never a 1.5x spike in 30 s
        opened.extend(detector.update(tick(stamp, job_process(rss_mb=rss))).opened)
    assert [a.anomaly_type for a in opened] == [AnomalyType.MEMORY_GROWTH]

    noisy = AnomalyDetector()
    flat: list[Anomaly] = []
    for step in range(0, 61):
        rss = 500.0 + (40.0 if step % 2 else -40.0)
        flat.extend(noisy.update(tick(step * 5.0, job_process(rss_mb=rss))).opened)
    assert flat == []
