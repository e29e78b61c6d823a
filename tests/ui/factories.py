"""Fixed ticks for the UI tests, built from the models with a frozen timestamp."""

from __future__ import annotations

from datetime import UTC, datetime

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.headless.engine import TickResult
from mzt_tui.models import (
    Anomaly,
    AnomalyType,
    ConductorStatus,
    EventType,
    GpuMetric,
    GpuProcessUsage,
    JobRecord,
    MonitorCost,
    ProcessEvent,
    ProcessMetric,
    SheetState,
    SystemSnapshot,
)

NOW = 1_700_000_000.0
"""The frozen clock: every tick is taken at this instant (2023-11-14 22:13:20 UTC)."""
CONDUCTOR_PID = 1000
NO_GPU_REASON = "NVML is not available (libnvidia-ml.so.1 not found)"


def _at(seconds_ago: float) -> datetime:
    return datetime.fromtimestamp(NOW - seconds_ago, tz=UTC)


def process(
    pid: int,
    command: str,
    *,
    ppid: int = 1,
    cpu: float = 0.0,
    rss: float = 10.0,
    job: str | None = None,
    sheet: int | None = None,
    state: str = "S",
    threads: int = 1,
    fds: int = 4,
    age: float = 60.0,
    gpu: float = 0.0,
) -> ProcessMetric:
    """One process with the fields the views show."""
    return ProcessMetric(
        pid=pid,
        ppid=ppid,
        command=command,
        state=state,
        cpu_percent=cpu,
        rss_mb=rss,
        threads=threads,
        open_fds=fds,
        age_seconds=age,
        job_id=job,
        sheet_num=sheet,
        start_time=NOW - age,
        gpu_memory_mb=gpu,
    )


def system_processes() -> list[ProcessMetric]:
    """A handful of processes that belong to no job."""
    return [
        process(1, "/sbin/init splash", ppid=0, rss=12.0, age=86_400.0),
        process(420, "/usr/sbin/sshd -D", rss=8.0, age=80_000.0),
        process(610, "/usr/bin/python3 -m http.server 8000", cpu=3.5, rss=35.0, age=3_600.0),
        process(777, "/usr/lib/postgresql/16/bin/postgres -D /var/lib/pg", cpu=1.2, rss=210.0),
        process(901, "bash", rss=5.0, age=1_200.0),
    ]


def busy_jobs() -> tuple[JobRecord, ...]:
    """Two running jobs and one finished, as the registry lists them (newest first)."""
    train_sheets = {
        1: SheetState(
            sheet_num=1,
            status="completed",
            exit_code=0,
            instrument_name="claude-code",
            execution_duration_seconds=310.0,
        ),
        2: SheetState(
            sheet_num=2,
            status="failed",
            exit_code=1,
            instrument_name="claude-code",
            execution_duration_seconds=95.0,
            attempt_count=2,
        ),
        3: SheetState(
            sheet_num=3,
            status="in_progress",
            started_at=_at(420.0),
            instrument_name="claude-code",
            attempt_count=1,
        ),
        4: SheetState(sheet_num=4, status="pending"),
    }
    lint_sheets = {
        1: SheetState(
            sheet_num=1, status="in_progress", started_at=_at(65.0), instrument_name="gemini-cli"
        ),
        2: SheetState(sheet_num=2, status="pending"),
    }
    done_sheets = {n: SheetState(sheet_num=n, status="completed", exit_code=0) for n in (1, 2, 3)}
    return (
        JobRecord(
            job_id="lint-repo",
            status="running",
            pid=CONDUCTOR_PID,
            started_at=NOW - 65.0,
            total_sheets=2,
            sheets=lint_sheets,
        ),
        JobRecord(
            job_id="train-model",
            status="running",
            pid=CONDUCTOR_PID,
            started_at=NOW - 900.0,
            total_sheets=4,
            sheets=train_sheets,
        ),
        JobRecord(
            job_id="docs-site",
            status="completed",
            pid=CONDUCTOR_PID,
            started_at=NOW - 7_200.0,
            completed_at=NOW - 6_000.0,
            total_sheets=3,
            sheets=done_sheets,
        ),
    )


def busy_processes() -> list[ProcessMetric]:
    """The conductor, the jobs' process trees, and the system's processes."""
    return [
        process(
            CONDUCTOR_PID,
            "/usr/bin/python3 -m marianne.daemon",
            cpu=2.0,
            rss=150.0,
            threads=8,
            fds=40,
            age=3_600.0,
        ),
        process(
            1100,
            "claude --model opus -p 'refactor the loader'",
            ppid=CONDUCTOR_PID,
            cpu=45.0,
            rss=820.0,
            job="train-model",
            sheet=3,
            threads=12,
            fds=60,
            age=420.0,
        ),
        process(
            1101,
            "node /usr/lib/claude/cli.js",
            ppid=1100,
            cpu=30.5,
            rss=400.0,
            job="train-model",
            sheet=3,
            threads=10,
            fds=33,
            age=410.0,
        ),
        process(
            1102,
            "python -m pytest -x tests/",
            ppid=1100,
            cpu=98.0,
            rss=1_536.0,
            job="train-model",
            sheet=3,
            state="R",
            threads=4,
            fds=25,
            age=30.0,
            gpu=2_048.0,
        ),
        process(
            1200,
            "gemini --yolo 'lint everything'",
            ppid=CONDUCTOR_PID,
            cpu=12.0,
            rss=300.0,
            job="lint-repo",
            sheet=1,
            threads=6,
            fds=20,
            age=65.0,
        ),
        process(
            1201,
            "ruff check .",
            ppid=1200,
            cpu=0.0,
            rss=0.0,
            job="lint-repo",
            sheet=1,
            state="Z",
            age=5.0,
        ),
        *system_processes(),
    ]


def two_gpus() -> tuple[GpuMetric, ...]:
    """Two fake H100s, one busy with the pytest above."""
    return (
        GpuMetric(
            index=0,
            name="NVIDIA H100 80GB HBM3",
            utilization_pct=87.0,
            memory_used_mb=40_960.0,
            memory_total_mb=81_559.0,
            temperature_c=71.0,
            power_w=512.0,
            processes=(GpuProcessUsage(gpu_index=0, pid=1102, memory_used_mb=2_048.0),),
        ),
        GpuMetric(
            index=1,
            name="NVIDIA H100 80GB HBM3",
            utilization_pct=3.0,
            memory_used_mb=1_024.0,
            memory_total_mb=81_559.0,
            temperature_c=38.0,
            power_w=70.0,
        ),
    )


def busy_events() -> tuple[ProcessEvent, ...]:
    """A spawn, a clean exit, a failing exit, a kill and an out-of-memory kill."""
    return (
        ProcessEvent(
            timestamp=NOW - 30.0,
            pid=1102,
            event_type=EventType.SPAWN,
            job_id="train-model",
            sheet_num=3,
            details="python -m pytest",
        ),
        ProcessEvent(
            timestamp=NOW - 95.0,
            pid=1050,
            event_type=EventType.EXIT,
            exit_code=1,
            job_id="train-model",
            sheet_num=2,
        ),
        ProcessEvent(
            timestamp=NOW - 320.0,
            pid=1010,
            event_type=EventType.EXIT,
            exit_code=0,
            job_id="train-model",
            sheet_num=1,
        ),
        ProcessEvent(
            timestamp=NOW - 20.0,
            pid=1150,
            event_type=EventType.KILL,
            signal_num=9,
            job_id="train-model",
            sheet_num=3,
        ),
        ProcessEvent(
            timestamp=NOW - 10.0,
            pid=1160,
            event_type=EventType.OOM,
            job_id="lint-repo",
            sheet_num=1,
        ),
    )


def busy_anomalies() -> AnomalyChanges:
    """A high memory spike and a zombie."""
    return AnomalyChanges(
        opened=(
            Anomaly(
                anomaly_type=AnomalyType.MEMORY_SPIKE,
                severity="high",
                started_at=NOW - 15.0,
                pid=1102,
                job_id="train-model",
                sheet_num=3,
                description="RSS grew 1.5x in 30 s (1.5G)",
            ),
            Anomaly(
                anomaly_type=AnomalyType.ZOMBIE,
                severity="medium",
                started_at=NOW - 5.0,
                pid=1201,
                job_id="lint-repo",
                sheet_num=1,
                description="zombie process",
            ),
        )
    )


def snapshot(
    processes: list[ProcessMetric],
    *,
    gpus: tuple[GpuMetric, ...] = (),
    conductor_pid: int | None = CONDUCTOR_PID,
    timestamp: float = NOW,
) -> SystemSnapshot:
    """The system snapshot around `processes` (16 cores, 32 GiB)."""
    cores = tuple(float((i * 37) % 100) for i in range(16))
    return SystemSnapshot(
        timestamp=timestamp,
        daemon_pid=conductor_pid or 0,
        system_memory_total_mb=32_768.0,
        system_memory_available_mb=20_480.0,
        system_memory_used_mb=12_288.0,
        load_avg_1=3.25,
        load_avg_5=2.5,
        load_avg_15=1.75,
        processes=tuple(p for p in processes if p.job_id is not None or p.pid == conductor_pid),
        gpus=gpus,
        pressure_level="none",
        running_jobs=2 if conductor_pid else 0,
        active_sheets=2 if conductor_pid else 0,
        zombie_count=1 if conductor_pid else 0,
        zombie_pids=(1201,) if conductor_pid else (),
        conductor_uptime_seconds=3_600.0 if conductor_pid else 0.0,
        cpu_percent=42.5,
        per_core_cpu_percent=cores,
        monitor=MonitorCost(cpu_percent=0.8, rss_mb=48.0, tick_seconds=0.012),
    )


def busy_tick(*, gpus: bool = True, timestamp: float = NOW) -> TickResult:
    """A conductor running two jobs, with events, anomalies and (by default) two GPUs."""
    processes = busy_processes()
    return TickResult(
        snapshot=snapshot(processes, gpus=two_gpus() if gpus else (), timestamp=timestamp),
        all_processes=tuple(processes),
        events=busy_events(),
        anomalies=busy_anomalies(),
        jobs=busy_jobs(),
        conductor=ConductorStatus(pid=CONDUCTOR_PID, source="pid_file"),
        gpu_reason=None if gpus else NO_GPU_REASON,
    )


def quiet_tick(processes: list[ProcessMetric], *, timestamp: float = NOW) -> TickResult:
    """The same conductor and jobs, with other processes and no events (a later tick)."""
    return TickResult(
        snapshot=snapshot(processes, timestamp=timestamp),
        all_processes=tuple(processes),
        events=(),
        anomalies=AnomalyChanges(),
        jobs=busy_jobs(),
        conductor=ConductorStatus(pid=CONDUCTOR_PID, source="pid_file"),
        gpu_reason=NO_GPU_REASON,
    )


def no_conductor_tick() -> TickResult:
    """No conductor, no registry: only the machine's own processes."""
    processes = system_processes()
    return TickResult(
        snapshot=snapshot(processes, conductor_pid=None),
        all_processes=tuple(processes),
        events=(),
        anomalies=AnomalyChanges(),
        jobs=(),
        conductor=ConductorStatus(reasons=("no PID file at /tmp/marianne.pid",)),
        gpu_reason=NO_GPU_REASON,
    )


def idle_tick() -> TickResult:
    """A conductor with nothing to do: its finished job only, no sheet running, quiet CPU."""
    conductor = process(CONDUCTOR_PID, "python -m marianne.daemon", cpu=0.3, rss=150.0, age=3_600.0)
    processes = [conductor, *system_processes()]
    done = busy_jobs()[2]
    quiet = snapshot(processes).model_copy(
        update={
            "running_jobs": 0,
            "active_sheets": 0,
            "zombie_count": 0,
            "zombie_pids": (),
            "cpu_percent": 2.5,
            "per_core_cpu_percent": tuple(float(i % 3) for i in range(16)),
        }
    )
    return TickResult(
        snapshot=quiet,
        all_processes=tuple(processes),
        events=(),
        anomalies=AnomalyChanges(),
        jobs=(done,),
        conductor=ConductorStatus(pid=CONDUCTOR_PID, source="pid_file"),
        gpu_reason=NO_GPU_REASON,
    )
