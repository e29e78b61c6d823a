"""Headless recording runs the correlation every `interval_minutes`, in its own thread."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mzt_tui.headless.correlate import CorrelationReport
from mzt_tui.headless.run import HeadlessOptions, run_headless
from mzt_tui.marianne.paths import resolve_home
from mzt_tui.models import CorrelationConfig, MonitorConfig
from mzt_tui.models.errors import StoreError
from mzt_tui.store import MonitorStore


def _options(tmp_path: Path) -> HeadlessOptions:
    home = resolve_home(tmp_path / "home")
    config = MonitorConfig(
        interval_seconds=0.2, correlation=CorrelationConfig(interval_minutes=0.01)
    )
    return HeadlessOptions(
        home=home, db_path=home.monitor_db, config=config, record=True, stream_json=False
    )


def _record_for(options: HeadlessOptions, seconds: float, status: io.StringIO) -> None:
    stop = threading.Event()
    worker = threading.Thread(
        target=run_headless, args=(options,), kwargs={"stop": stop, "stderr": status}
    )
    worker.start()
    time.sleep(seconds)
    stop.set()
    worker.join(timeout=20)
    assert not worker.is_alive()


def test_correlation_runs_on_its_schedule_while_ticks_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float] = []

    def fake_run(
        home: Any, db_path: Path, config: CorrelationConfig, **_: Any
    ) -> CorrelationReport:
        calls.append(time.monotonic())
        assert config.interval_minutes == 0.01
        time.sleep(0.5)  # a slow analysis must not hold up the ticks
        return CorrelationReport(dry_run=False, since=0.0, skipped_reason="too few runs")

    monkeypatch.setattr("mzt_tui.headless.correlate.run_correlation", fake_run)
    options = _options(tmp_path)
    status = io.StringIO()
    _record_for(options, 3.0, status)
    assert 2 <= len(calls) <= 4  # every 0.6 s plus 0.5 s of work, over 3 s
    with MonitorStore(options.db_path, readonly=True) as store:
        assert store.count_snapshots() >= 12  # ticks every 0.2 s kept going
    assert "warning" not in status.getvalue()


def test_a_failing_correlation_is_reported_once_and_recording_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args: Any, **kwargs: Any) -> CorrelationReport:
        raise StoreError("learning store is locked")

    monkeypatch.setattr("mzt_tui.headless.correlate.run_correlation", failing)
    options = _options(tmp_path)
    status = io.StringIO()
    _record_for(options, 2.0, status)
    warnings = [line for line in status.getvalue().splitlines() if "warning" in line]
    assert warnings == ["mzt: warning: correlation failed: learning store is locked"]
