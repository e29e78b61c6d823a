"""Models keep every value inside what the conductor's reader accepts."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError

from mzt_tui.models import (
    EventType,
    GpuMetric,
    MonitorConfig,
    ProcessEvent,
    ProcessMetric,
    SystemSnapshot,
)


@pytest.mark.parametrize(
    "field",
    ["cpu_percent", "rss_mb", "vms_mb", "threads", "open_fds", "age_seconds", "pid", "ppid"],
)
def test_process_metric_rejects_negative_values(field: str) -> None:
    with pytest.raises(ValidationError):
        ProcessMetric.model_validate({"pid": 1, field: -1})


@pytest.mark.parametrize("state", ["r", "RS", "", "1"])
def test_process_state_is_one_upper_case_letter(state: str) -> None:
    with pytest.raises(ValidationError):
        ProcessMetric(pid=1, state=state)


def test_process_command_is_truncated_to_500_characters() -> None:
    assert len(ProcessMetric(pid=1, command="x" * 2000).command) == 500


def test_syscall_time_shares_stay_within_0_and_100() -> None:
    with pytest.raises(ValidationError):
        ProcessMetric(pid=1, syscall_time_pct={"read": 101.0})


@pytest.mark.parametrize("utilization", [-0.1, 100.1, math.nan, math.inf])
def test_gpu_utilization_must_be_a_percentage(utilization: float) -> None:
    with pytest.raises(ValidationError):
        GpuMetric(index=0, utilization_pct=utilization)


def test_only_the_five_event_types_exist() -> None:
    assert {kind.value for kind in EventType} == {"spawn", "exit", "signal", "kill", "oom"}
    with pytest.raises(ValidationError):
        ProcessEvent.model_validate({"timestamp": 1.0, "event_type": "crash"})


@pytest.mark.parametrize("load", [-1.0, math.nan])
def test_snapshot_rejects_negative_or_nan_load(load: float) -> None:
    with pytest.raises(ValidationError):
        SystemSnapshot(timestamp=1.0, load_avg_1=load)


def test_snapshot_rejects_unknown_pressure_level() -> None:
    with pytest.raises(ValidationError):
        SystemSnapshot.model_validate({"timestamp": 1.0, "pressure_level": "extreme"})


def test_only_job_keeps_that_jobs_processes() -> None:
    snapshot = SystemSnapshot(
        timestamp=1.0,
        processes=(
            ProcessMetric(pid=10, job_id="a"),
            ProcessMetric(pid=11, job_id="b"),
            ProcessMetric(pid=12),
        ),
    )
    assert [p.pid for p in snapshot.only_job("a").processes] == [10]
    assert len(snapshot.processes) == 3


def test_config_defaults_are_the_conductors() -> None:
    config = MonitorConfig()
    assert config.interval_seconds == 5.0
    assert config.retention.full_resolution_hours == 24.0
    assert config.retention.downsampled_days == 7.0
    assert config.retention.events_days == 30.0
    assert config.anomaly.memory_spike_factor == 1.5
    assert config.anomaly.memory_spike_window_seconds == 30.0
    assert config.anomaly.runaway_cpu_percent == 90.0
    assert config.anomaly.runaway_cpu_seconds == 60.0
    assert config.anomaly.fd_threshold == 1000
    assert config.anomaly.low_memory_percent == 10.0
    assert config.correlation.interval_minutes == 30.0
    assert config.correlation.min_sample_size == 5


@pytest.mark.parametrize(
    "bad",
    [
        {"interval_seconds": 0},
        {"interval_seconds": -5},
        {"retention": {"max_bytes": 0}},
        {"anomaly": {"memory_spike_factor": 0.5}},
        {"correlation": {"q_threshold": 1.5}},
        {"unknown_key": 1},
    ],
)
def test_config_rejects_bad_values(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        MonitorConfig.model_validate(bad)


def test_snapshot_json_has_the_conductors_keys(upstream_dir: Any) -> None:
    import json

    first_line = (upstream_dir / "monitor.jsonl").read_text().splitlines()[0]
    conductor_keys = set(json.loads(first_line))
    ours = SystemSnapshot.model_validate_json(first_line)
    assert conductor_keys <= set(ours.model_dump())
