"""`mzt top --headless` and `mzt top --json`: the tick loop without a screen.

SIGINT and SIGTERM stop the loop; the tick in flight is finished and flushed, open
anomalies are closed, and the process exits 0.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TextIO

from mzt_tui.collect.strace import StraceProfiler
from mzt_tui.collect.ticks import TickStats, run_ticks
from mzt_tui.headless.engine import MonitorEngine, TickResult
from mzt_tui.headless.exporter import PrometheusExporter, is_loopback
from mzt_tui.headless.outcomes import OutcomeRecorder
from mzt_tui.headless.recorder import Recorder
from mzt_tui.marianne.learning import LearningStore
from mzt_tui.marianne.paths import MarianneHome
from mzt_tui.models import MonitorConfig
from mzt_tui.models.errors import MztError
from mzt_tui.store import MonitorStore


@dataclass(frozen=True)
class HeadlessOptions:
    """What `mzt top` was asked to do without a screen."""

    home: MarianneHome
    db_path: Path
    config: MonitorConfig
    record: bool
    """Write monitor.db and monitor.jsonl (`--headless`)."""
    stream_json: bool
    """Stream NDJSON snapshots to stdout (`--json`)."""
    score: str | None = None
    once: bool = False
    record_system: bool = False
    strace: bool = False
    """Attach `strace -c` to sheet roots for syscall summaries."""
    record_outcomes: bool = False
    """Record each sheet that ends in the registry into the learning store, once."""
    jsonl_path: Path | None = None
    prometheus: tuple[str, int] | None = None
    """Serve the latest tick as Prometheus metrics on (host, port) (`--prometheus`)."""


def run_headless(
    options: HeadlessOptions,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stop: threading.Event | None = None,
    engine: MonitorEngine | None = None,
) -> int:
    """Run ticks until stopped (or once) and return the exit code.

    Raises:
        StoreError: monitor.db cannot be opened for writing (before any tick runs).
        MztError: The Prometheus address cannot be bound (before any tick runs).
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    stop_event = stop if stop is not None else threading.Event()
    exporter = _start_exporter(options.prometheus, err)
    store: MonitorStore | None = None
    if options.record:
        store = MonitorStore(
            options.db_path,
            jsonl_path=options.jsonl_path or options.home.monitor_jsonl,
            jsonl_max_bytes=options.config.jsonl_max_bytes,
        )
        try:
            store.initialize()
        except MztError:
            if exporter is not None:
                exporter.stop()
            raise
    learning = LearningStore(options.home.learning_db) if options.record else None
    monitor = engine or MonitorEngine(
        options.home,
        record_system=options.record_system,
        keep_all_processes=False,
        strace=StraceProfiler(window_seconds=max(10.0, options.config.interval_seconds))
        if options.strace
        else None,
        anomaly_config=options.config.anomaly,
    )
    recorder = Recorder(
        store=store,
        learning=learning,
        ndjson_out=out if options.stream_json else None,
        score=options.score,
        status_out=err if options.record else None,
        status_is_tty=err.isatty(),
        retention=options.config.retention,
    )
    restore = _stop_on_signals(stop_event) if stop is None else None

    def tick(stats: TickStats) -> TickResult:
        return monitor.tick(stats)

    outcomes = (
        OutcomeRecorder(LearningStore(options.home.learning_db))
        if options.record_outcomes
        else None
    )

    def emit(result: TickResult) -> None:
        recorder.handle(result)
        if exporter is not None:
            exporter.update(result)
        if outcomes is not None:
            for problem in outcomes.record(result.jobs):
                recorder.warn("outcomes", problem)

    correlator = (
        threading.Thread(
            target=_correlate_periodically,
            args=(options, stop_event, recorder),
            name="mzt-correlate",
            daemon=True,
        )
        if options.record
        else None
    )
    if correlator is not None:
        correlator.start()
    try:
        run_ticks(
            tick,
            options.config.interval_seconds,
            emit,
            stop_event,
            max_ticks=1 if options.once else None,
        )
    finally:
        stop_event.set()
        if correlator is not None:
            correlator.join()
        recorder.finish(monitor.close_anomalies(time.time()))
        monitor.close()
        if exporter is not None:
            exporter.stop()
        if store is not None:
            store.close()
        if restore is not None:
            restore()
    return 0


def _start_exporter(address: tuple[str, int] | None, err: TextIO) -> PrometheusExporter | None:
    """Bind the Prometheus endpoint (before any tick) and say where it is on stderr."""
    if address is None:
        return None
    exporter = PrometheusExporter(host=address[0], port=address[1])
    exporter.start()
    where = "" if is_loopback(exporter.host) else " (reachable from other machines)"
    err.write(f"mzt: Prometheus metrics at {exporter.url}{where}\n")
    err.flush()
    return exporter


def _correlate_periodically(
    options: HeadlessOptions, stop: threading.Event, recorder: Recorder
) -> None:
    """Run the correlation analysis every `interval_minutes` until `stop` (own thread).

    It reads monitor.db through its own connections and writes patterns to the learning
    store; a tick never waits for it. Failures are said on the status line.
    """
    config = options.config.correlation
    while not stop.wait(config.interval_minutes * 60.0):
        # Imported on first use: scipy would add ~70 MB to a recorder that may never need it.
        from mzt_tui.headless.correlate import run_correlation

        try:
            report = run_correlation(options.home, options.db_path, config)
        except MztError as error:
            recorder.warn("correlate", f"correlation failed: {error}")
            continue
        if report.error is not None:
            recorder.warn("correlate", f"correlation patterns not stored: {report.error}")
        recorder.correlations_run += 1


def _stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    """Make SIGINT and SIGTERM set `stop`; return a callable that restores the old handlers."""
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in previous:
        signal.signal(signum, handler)

    def restore() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old)

    return restore
