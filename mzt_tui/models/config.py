"""Configuration with the conductor's defaults."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
PositiveInt = Annotated[int, Field(gt=0)]


class Strict(BaseModel):
    """Base for configuration sections: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RetentionConfig(Strict):
    """How long monitor.db keeps what, and how big it may grow."""

    full_resolution_hours: PositiveFloat = 24.0
    downsampled_days: PositiveFloat = 7.0
    events_days: PositiveFloat = 30.0
    max_bytes: PositiveInt = 1024 * 1024 * 1024
    """Byte cap of monitor.db; the oldest snapshots go first when it is exceeded."""
    cleanup_batch_rows: PositiveInt = 5000
    """Rows deleted per transaction, so clean-up never stalls a writer."""


class AnomalyConfig(Strict):
    """Anomaly thresholds (the conductor's defaults, plus ours)."""

    memory_spike_factor: Annotated[float, Field(gt=1.0)] = 1.5
    memory_spike_window_seconds: PositiveFloat = 30.0
    runaway_cpu_percent: PositiveFloat = 90.0
    runaway_cpu_seconds: PositiveFloat = 60.0
    zombie_count: PositiveInt = 1
    fd_threshold: PositiveInt = 1000
    low_memory_percent: Annotated[float, Field(gt=0.0, lt=100.0)] = 10.0
    gpu_idle_utilization_pct: Annotated[float, Field(ge=0.0, le=100.0)] = 5.0
    gpu_idle_memory_mb: PositiveFloat = 1024.0
    gpu_idle_seconds: PositiveFloat = 120.0
    memory_growth_mb_per_minute: PositiveFloat = 50.0
    memory_growth_window_seconds: PositiveFloat = 300.0


class CorrelationConfig(Strict):
    """Correlation analysis schedule and thresholds."""

    interval_minutes: PositiveFloat = 30.0
    min_sample_size: PositiveInt = 5
    q_threshold: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.05
    lookback_days: PositiveFloat = 7.0


class MonitorConfig(Strict):
    """Everything the monitor can be told."""

    interval_seconds: PositiveFloat = 5.0
    jsonl_max_bytes: PositiveInt = 52_428_800
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    anomaly: AnomalyConfig = Field(default_factory=AnomalyConfig)
    correlation: CorrelationConfig = Field(default_factory=CorrelationConfig)
