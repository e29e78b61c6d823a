"""The collector can also record its ticks (the demo dashboard does, so `h` has history)."""

from __future__ import annotations

import threading
from pathlib import Path

from textual.message import Message

from mzt_tui.marianne.paths import resolve_home
from mzt_tui.store import MonitorStore
from mzt_tui.ui.collector import CollectorSettings, collect
from mzt_tui.ui.messages import CollectorFailed, TickCollected


def test_the_collector_records_each_tick_it_posts(tmp_path: Path) -> None:
    home = resolve_home(tmp_path, pid_file=tmp_path / "marianne.pid")
    db = tmp_path / "monitor.db"
    posted: list[Message] = []
    settings = CollectorSettings(home=home, interval=0.01, max_ticks=2, record_db=db)
    collect(settings, posted.append, threading.Event())
    ticks = [message for message in posted if isinstance(message, TickCollected)]
    assert len(ticks) == 2
    with MonitorStore(db, readonly=True) as store:
        assert store.read_snapshot_times(0.0) == [t.result.snapshot.timestamp for t in ticks]


def test_a_database_that_cannot_open_is_reported_and_ticks_go_on(tmp_path: Path) -> None:
    home = resolve_home(tmp_path, pid_file=tmp_path / "marianne.pid")
    posted: list[Message] = []
    settings = CollectorSettings(home=home, interval=0.01, max_ticks=1, record_db=tmp_path)
    collect(settings, posted.append, threading.Event())
    failures = [m.reason for m in posted if isinstance(m, CollectorFailed)]
    assert len(failures) == 1
    assert failures[0].startswith("not recording: ")
    assert sum(isinstance(m, TickCollected) for m in posted) == 1


def test_without_a_database_nothing_is_written(tmp_path: Path) -> None:
    home = resolve_home(tmp_path, pid_file=tmp_path / "marianne.pid")
    settings = CollectorSettings(home=home, interval=0.01, max_ticks=1)
    collect(settings, lambda message: None, threading.Event())
    assert not home.monitor_db.exists()
