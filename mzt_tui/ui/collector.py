"""The live collector: the engine's tick loop, run in a screen's thread worker.

Plain Python; it only builds messages. The screen that owns the worker posts them (the one
thread-safe call); stopping is the worker's cancelled event.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from textual.message import Message

from mzt_tui.collect.ticks import TickStats, run_ticks
from mzt_tui.headless.engine import MonitorEngine
from mzt_tui.headless.recorder import Recorder
from mzt_tui.marianne.paths import MarianneHome
from mzt_tui.models.config import AnomalyConfig
from mzt_tui.models.errors import MztError
from mzt_tui.store import MonitorStore
from mzt_tui.ui.messages import CollectorFailed, TickCollected

FIRST_GAP_SECONDS = 0.5
"""The dashboard's second sample comes this soon after its first: CPU % and jobs sooner."""


@dataclass(frozen=True)
class CollectorSettings:
    """How the dashboard collects.

    Attributes:
        home: The Marianne home whose jobs are shown.
        interval: Seconds between ticks.
        max_ticks: Stop after this many ticks (tests); None runs until cancelled.
        engine: An engine to use instead of a new one over `home` (tests).
        record_db: Also record every tick into this monitor.db (the demo does, so its
            history has something to show); None records nothing.
        anomaly_config: The anomaly thresholds of a new engine.
    """

    home: MarianneHome
    interval: float = 2.0
    max_ticks: int | None = None
    engine: MonitorEngine | None = None
    record_db: Path | None = None
    anomaly_config: AnomalyConfig = field(default_factory=AnomalyConfig)

    def open_engine(self) -> MonitorEngine:
        """The engine to tick: the injected one, or a new one over the home."""
        if self.engine is not None:
            return self.engine
        return MonitorEngine(home=self.home, anomaly_config=self.anomaly_config)


def collect(
    settings: CollectorSettings, post: Callable[[Message], object], stop: threading.Event
) -> None:
    """Tick until `stop` is set (or `max_ticks` ran), posting one message per tick.

    A tick that fails with a known error posts `CollectorFailed` and the loop goes on; anything
    else ends the worker, whose error the app shows.
    """
    engine = settings.open_engine()
    recorder = _open_recorder(settings.record_db, post)

    def tick(stats: TickStats) -> Message:
        try:
            result = engine.tick(stats)
        except MztError as error:
            return CollectorFailed(str(error))
        if recorder is not None:
            recorder.handle(result)
        return TickCollected(result)

    def emit(message: Message) -> None:
        post(message)

    try:
        run_ticks(
            tick,
            settings.interval,
            emit,
            stop,
            max_ticks=settings.max_ticks,
            first_gap=FIRST_GAP_SECONDS,
        )
    finally:
        if recorder is not None:
            recorder.finish(engine.close_anomalies(time.time()))
            if recorder.store is not None:
                recorder.store.close()
        engine.close()


def _open_recorder(db_path: Path | None, post: Callable[[Message], object]) -> Recorder | None:
    """A recorder into `db_path`, or None (and one `CollectorFailed`) when it cannot open."""
    if db_path is None:
        return None
    store = MonitorStore(db_path)
    try:
        store.initialize()
    except MztError as error:
        store.close()
        post(CollectorFailed(f"not recording: {error}"))
        return None
    return Recorder(store=store)
