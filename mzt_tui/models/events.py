"""Process lifecycle events and resource anomalies."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from mzt_tui.models.process import Frozen, NonNegFloat, NonNegInt


class EventType(StrEnum):
    """The five event types the conductor's reader accepts, and no other."""

    SPAWN = "spawn"
    EXIT = "exit"
    SIGNAL = "signal"
    KILL = "kill"
    OOM = "oom"


class ProcessEvent(Frozen):
    """A row of `process_events`."""

    timestamp: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
    pid: NonNegInt = 0
    event_type: EventType
    exit_code: int | None = None
    signal_num: NonNegInt | None = None
    job_id: str | None = None
    sheet_num: int | None = None
    details: str = ""


class AnomalyType(StrEnum):
    """Conditions the monitor watches for (the conductor's five, plus two of ours)."""

    MEMORY_SPIKE = "memory_spike"
    RUNAWAY_CPU = "runaway_cpu"
    ZOMBIE = "zombie"
    FD_EXHAUSTION = "fd_exhaustion"
    LOW_MEMORY = "low_memory"
    GPU_IDLE_MEMORY = "gpu_idle_memory"
    MEMORY_GROWTH = "memory_growth"


Severity = Literal["low", "medium", "high", "critical"]


class Anomaly(Frozen):
    """A condition that held from `started_at` until `ended_at` (None while it persists)."""

    anomaly_type: AnomalyType
    severity: Severity = "medium"
    started_at: NonNegFloat
    ended_at: NonNegFloat | None = None
    pid: NonNegInt | None = None
    job_id: str | None = None
    sheet_num: int | None = None
    description: str = ""
    metric_value: float | None = None
    threshold: float | None = None

    @property
    def active(self) -> bool:
        """Whether the condition still holds."""
        return self.ended_at is None
