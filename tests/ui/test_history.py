"""History mode: open it (`h`, or `--history`), step, seek, jump, play, and go back to live."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from mzt_tui.ui.app import MztTopApp
from mzt_tui.ui.history import HistoryBar
from tests.history.recorded import COUNT, at, record
from tests.ui.conftest import inject, make_test_app
from tests.ui.factories import NOW, busy_tick, quiet_tick, system_processes


def _clock() -> float:
    return NOW


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return record(tmp_path / "monitor.db")


def _notes(app: MztTopApp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    notes: list[str] = []
    monkeypatch.setattr(app, "notify", lambda message, **_: notes.append(str(message)))
    return notes


async def _settle(pilot: Pilot[None]) -> None:
    """Let the history workers read and the app show what they read."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _shown(app: MztTopApp) -> float:
    assert app.tick_result is not None
    return app.tick_result.snapshot.timestamp


async def _press(pilot: Pilot[None], *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await _settle(pilot)


async def test_h_opens_the_last_recorded_snapshot_and_esc_goes_back_to_live(db: Path) -> None:
    app = make_test_app(history_db=db, clock=_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        await _press(pilot, "h")
        assert app.history_position is not None
        assert _shown(app) == at(COUNT - 1)
        assert app.sub_title.startswith("HISTORY")
        assert app.screen.query_one(HistoryBar).display
        # Live ticks keep coming and are recorded, but not shown.
        later = quiet_tick(system_processes(), timestamp=NOW + 2)
        await inject(pilot, later)
        assert _shown(app) == at(COUNT - 1)
        await _press(pilot, "escape")
        assert app.history_position is None
        assert app.tick_result is later
        assert not app.sub_title.startswith("HISTORY")
        assert not app.screen.query_one(HistoryBar).display
        # The live timeline is back (the busy tick's events, not the recording's).
        assert any(entry.pid == 1150 for entry in app.timeline_log.newest_first())


async def test_h_without_recorded_snapshots_says_how_to_record_and_stays_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_test_app(history_db=tmp_path / "monitor.db", clock=_clock)
    notes = _notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        await _press(pilot, "h")
        assert app.history_position is None
        assert app.tick_result is not None and app.tick_result.snapshot.timestamp == NOW
        assert len(notes) == 1
        assert "mzt top --headless" in notes[0]
    assert not (tmp_path / "monitor.db").exists()


async def test_step_back_and_forward_change_the_shown_time(db: Path) -> None:
    app = make_test_app(history=300.0, history_db=db, clock=_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        assert _shown(app) == at(0)
        await _press(pilot, "right", "right", "full_stop")
        assert _shown(app) == at(3)
        await _press(pilot, "left", "comma")
        assert _shown(app) == at(1)
        assert app.history_position is not None and app.history_position.index == 1


async def test_keys_pressed_quickly_add_up(db: Path) -> None:
    app = make_test_app(history=300.0, history_db=db, clock=_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        await pilot.press("right", "right", "right", "right")
        await _settle(pilot)
        assert _shown(app) == at(4)


async def test_seek_goes_to_a_clock_time_or_a_duration_ago(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_test_app(history=300.0, history_db=db, clock=_clock)
    notes = _notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        await _press(pilot, "g")
        await pilot.press(*"22:10:00", "enter")
        await _settle(pilot)
        assert _shown(app) == at(10)
        await _press(pilot, "g")
        await pilot.press(*"-95s", "enter")
        await _settle(pilot)
        assert _shown(app) == at(20)
        await _press(pilot, "g")
        await pilot.press(*"bogus", "enter")
        await _settle(pilot)
        assert _shown(app) == at(20)
        assert "invalid time 'bogus'" in notes[-1]
        await _press(pilot, "g")
        await pilot.press(*"21:00", "enter")
        await _settle(pilot)
        assert _shown(app) == at(20)
        assert "outside the recorded window" in notes[-1]
        await _press(pilot, "g")
        await pilot.press("escape")
        await _settle(pilot)
        assert _shown(app) == at(20)


async def test_jumps_go_to_the_next_and_previous_event_or_anomaly(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_test_app(history=300.0, history_db=db, clock=_clock)
    notes = _notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        await _press(pilot, "n")
        assert _shown(app) == at(6)  # the spawn
        assert app.tick_result is not None and app.tick_result.events
        await _press(pilot, "n")
        assert _shown(app) == at(15)  # the anomaly opens
        assert app.tick_result is not None and app.tick_result.anomalies.opened
        await _press(pilot, "n", "n")
        assert _shown(app) == at(21)  # the exit; nothing after it
        assert notes == ["No later event or anomaly recorded."]
        await _press(pilot, "N")
        assert _shown(app) == at(15)
        # The timeline shows the past as it stood: the spawn and the open anomaly.
        kinds = [entry.kind for entry in app.timeline_log.newest_first()]
        assert kinds == ["runaway_cpu", "spawn"]


async def test_space_plays_and_pauses_and_playback_stops_at_the_end(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_test_app(history=300.0, history_db=db, clock=_clock)
    notes = _notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        await _press(pilot, "space")
        assert app.history_position is not None and app.history_position.playing
        await _press(pilot, "space")
        assert not app.history_position.playing
        assert _shown(app) == at(0)
        await _press(pilot, "space", "right")  # a step pauses
        assert not app.history_position.playing
        assert _shown(app) == at(1)
        await _press(pilot, "g")
        await pilot.press(*"22:13:10", "enter")
        await _settle(pilot)
        await _press(pilot, "space")
        assert not app.history_position.playing
        assert notes == ["End of the recorded window."]


async def test_history_from_the_command_line_cannot_leave_and_x_is_refused(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_test_app(history=300.0, history_db=db, clock=_clock)
    notes = _notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        await _press(pilot, "escape", "h")
        assert app.history_position is not None
        await _press(pilot, "p")
        assert app.screen.id == "processes"
        assert app.screen.query_one(HistoryBar).display
        await _press(pilot, "x")
        assert "go live" in notes[-1]


async def test_h_typed_into_the_filter_is_text_not_history(db: Path) -> None:
    app = make_test_app(history_db=db, clock=_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        await _press(pilot, "slash", "h", "n")
        assert app.history_position is None
        assert app.screen.query_one("#tree-filter", Input).value == "hn"
