"""History mode and the job screen say once what reads repaired in another writer's rows."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from mzt_tui.store.monitor import MonitorStore
from mzt_tui.ui.app import MztTopApp, make_app
from mzt_tui.ui.dashboard import DashboardScreen
from mzt_tui.ui.job_screen import JobScreen
from mzt_tui.ui.job_tree import JobTree
from tests.history.recorded import at, record
from tests.store.factories import CONDUCTOR_PROCESS, CONDUCTOR_SNAPSHOT, insert_row
from tests.ui.conftest import inject, make_test_app
from tests.ui.factories import NOW, busy_processes, busy_tick, snapshot

Note = tuple[str, str]
"""(message, severity) of a notification."""


def _spoil(path: Path, timestamp: float, **bad: object) -> None:
    """Add a snapshot another writer stored at `timestamp`, with a process row of `bad` values."""
    conn = sqlite3.connect(path)
    with conn:
        snapshot_id = insert_row(conn, "snapshots", {**CONDUCTOR_SNAPSHOT, "timestamp": timestamp})
        insert_row(
            conn,
            "process_metrics",
            {**CONDUCTOR_PROCESS, "snapshot_id": snapshot_id, "job_id": "train-model", **bad},
        )
    conn.close()


def _notes(app: MztTopApp, monkeypatch: pytest.MonkeyPatch) -> list[Note]:
    notes: list[Note] = []

    def notify(message: str, **options: Any) -> None:
        notes.append((str(message), str(options.get("severity", "information"))))

    monkeypatch.setattr(app, "notify", notify)
    return notes


def _repair_notes(notes: list[Note]) -> list[Note]:
    return [note for note in notes if "another writer stored" in note[0]]


async def _settle(pilot: Pilot[None]) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _clock() -> float:
    return NOW


async def test_history_over_spoiled_rows_warns_once_per_kind_of_repair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN our recording with, among its first snapshots and again later, foreign bad rows
    db = record(tmp_path / "monitor.db")
    _spoil(db, at(2) + 1.0, rss_mb=-3.5)
    _spoil(db, at(4) + 1.0, rss_mb=-7.0)
    _spoil(db, at(25) + 1.0, state="running")
    app = make_test_app(history=300.0, history_db=db, clock=_clock)
    notes = _notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        # WHEN history opens on the first snapshots
        await _settle(pilot)
        # THEN one warning names the repair, counting both negative values
        assert _repair_notes(notes) == [
            (
                "monitor.db: repaired 2 values in rows another writer stored"
                " (process_metrics.rss_mb 2 negative)",
                "warning",
            )
        ]
        # WHEN playback steps on and back over the same rows: nothing new is said
        for key in ("right", "right", "right", "left", "left"):
            await pilot.press(key)
            await _settle(pilot)
        assert len(_repair_notes(notes)) == 1
        # WHEN it reaches a new kind of repair: one more warning, with everything so far
        await pilot.press("g")
        await _settle(pilot)
        await pilot.press(*"-48s", "enter")  # the foreign snapshot at at(25) + 1
        await _settle(pilot)
        assert app.tick_result is not None
        assert app.tick_result.snapshot.timestamp == at(25) + 1.0
        assert len(_repair_notes(notes)) == 2
        assert "process_metrics.state 1 not one capital letter" in _repair_notes(notes)[-1][0]


async def test_history_over_our_own_recording_says_nothing_about_repairs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = record(tmp_path / "monitor.db")
    app = make_test_app(history=300.0, history_db=db, clock=_clock)
    notes = _notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        assert app.history_position is not None
        assert _repair_notes(notes) == []


async def _open_job(pilot: Pilot[None], key: str) -> JobScreen:
    app = pilot.app
    assert isinstance(app.screen, DashboardScreen)
    tree = app.screen.query_one(JobTree)
    node = tree.node_for(key)
    assert node is not None
    tree.move_cursor(node)
    await pilot.press("enter")
    await _settle(pilot)
    screen = app.screen
    assert isinstance(screen, JobScreen)
    return screen


async def test_the_job_screen_warns_once_about_repaired_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN our recording of the job and one foreign snapshot with a NaN CPU value
    with MonitorStore(tmp_path / "monitor.db") as store:
        store.write_snapshot(snapshot(busy_processes(), timestamp=NOW - 600.0))
    _spoil(tmp_path / "monitor.db", NOW - 300.0, cpu_percent=math.nan)
    app = make_app(tmp_path, collect=False, timezone=UTC, cursor_blink=False)
    notes = _notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        # WHEN the job screen opens, moves to the next job and back (its history read again)
        screen = await _open_job(pilot, "job:train-model")
        for key in ("right_square_bracket", "left_square_bracket"):
            await pilot.press(key)
            await _settle(pilot)
        assert screen.job_id == "train-model"
        # THEN the warning was shown once
        assert _repair_notes(notes) == [
            (
                "monitor.db: repaired 1 value in rows another writer stored"
                " (process_metrics.cpu_percent 1 NaN or missing)",
                "warning",
            )
        ]
