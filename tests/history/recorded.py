"""A monitor.db with a fixed recording: 30 snapshots ten seconds apart, events and an anomaly."""

from __future__ import annotations

from pathlib import Path

from mzt_tui.models import Anomaly, AnomalyType, EventType, ProcessEvent
from mzt_tui.store import MonitorStore
from tests.ui.factories import NOW, busy_processes, snapshot

COUNT = 30
STEP = 10.0
FIRST = NOW - 300.0
"""Snapshot i is recorded at FIRST + i * STEP (the last at NOW - 10)."""
SPAWN_AT = FIRST + 55.0
"""A spawn between snapshots 5 and 6: snapshot 6 is the first to show it."""
EXIT_AT = FIRST + 205.0
"""An exit between snapshots 20 and 21."""
ANOMALY_START = FIRST + 145.0
ANOMALY_END = FIRST + 255.0
"""A runaway CPU from between snapshots 14 and 15 to between 25 and 26."""


def at(index: int) -> float:
    """When snapshot `index` was recorded."""
    return FIRST + index * STEP


def record(path: Path, *, count: int = COUNT) -> Path:
    """Write the recording into `path` (monitor.db) and return it."""
    processes = busy_processes()
    with MonitorStore(path) as store:
        for index in range(count):
            store.write_snapshot(snapshot(processes, timestamp=at(index)))
        store.write_events(
            [
                ProcessEvent(
                    timestamp=SPAWN_AT,
                    pid=1101,
                    event_type=EventType.SPAWN,
                    job_id="train-model",
                    sheet_num=3,
                    details="python train.py",
                ),
                ProcessEvent(
                    timestamp=EXIT_AT,
                    pid=1102,
                    event_type=EventType.EXIT,
                    exit_code=1,
                    job_id="train-model",
                    sheet_num=3,
                ),
            ]
        )
        store.write_anomaly(
            Anomaly(
                anomaly_type=AnomalyType.RUNAWAY_CPU,
                severity="high",
                started_at=ANOMALY_START,
                ended_at=ANOMALY_END,
                pid=1101,
                job_id="train-model",
                sheet_num=3,
                description="runaway CPU: 99% for 60s",
            )
        )
    return path
