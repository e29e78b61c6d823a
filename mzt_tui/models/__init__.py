"""Pydantic v2 models shared by every layer. Imports nothing else of ours."""

from __future__ import annotations

from mzt_tui.models.conductor import ConductorSource, ConductorStatus
from mzt_tui.models.config import (
    AnomalyConfig,
    CorrelationConfig,
    MonitorConfig,
    RetentionConfig,
)
from mzt_tui.models.events import Anomaly, AnomalyType, EventType, ProcessEvent, Severity
from mzt_tui.models.jobs import JobRecord, SheetState
from mzt_tui.models.learning import ExecutionRecord, LearnedPattern
from mzt_tui.models.process import (
    GpuMetric,
    GpuProcessUsage,
    JobProgress,
    MonitorCost,
    PressureLevel,
    ProcessMetric,
    SystemSnapshot,
)

__all__ = [
    "Anomaly",
    "AnomalyConfig",
    "AnomalyType",
    "ConductorSource",
    "ConductorStatus",
    "CorrelationConfig",
    "EventType",
    "ExecutionRecord",
    "GpuMetric",
    "GpuProcessUsage",
    "JobProgress",
    "JobRecord",
    "LearnedPattern",
    "MonitorConfig",
    "MonitorCost",
    "PressureLevel",
    "ProcessEvent",
    "ProcessMetric",
    "RetentionConfig",
    "Severity",
    "SheetState",
    "SystemSnapshot",
]
