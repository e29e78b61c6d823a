"""The patterns screen: opening it, sorting, filtering, details, the correlation, read-only."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, Static

from mzt_tui.marianne.learning import LearningStore
from mzt_tui.models.correlation import RESOURCE_CORRELATION
from mzt_tui.ui.app import MztTopApp, make_app
from mzt_tui.ui.dashboard import DashboardScreen
from mzt_tui.ui.help import HelpScreen
from mzt_tui.ui.learning_screen import LearningScreen
from mzt_tui.ui.pattern_details import PatternDetailsScreen
from mzt_tui.ui.pattern_table import PatternTable
from mzt_tui.ui.patterns import PatternsScreen
from tests.correlation_runs import builders
from tests.store.factories import conductor_file
from tests.ui.learning_data import (
    INSIGHT_FINDING,
    MEMORY_FINDING,
    RETIRED_FINDING,
    SPIKE_FINDING,
    fill_patterns,
)

WAIT_TURNS = 200
"""How many turns `wait_until` gives the app before it fails."""


def app_over(home: Path, **kwargs: Any) -> MztTopApp:
    """The app over `home` with the collector off, times in UTC and no blinking cursor."""
    return make_app(home, collect=False, timezone=UTC, cursor_blink=False, **kwargs)


async def settle(pilot: Pilot[None]) -> None:
    """Let the screen start its workers, finish them, and handle what they posted."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool]) -> None:
    """Let the app run until `condition` holds (a worker's message may need a few turns)."""
    for _ in range(WAIT_TURNS):
        if condition():
            return
        await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
    assert condition()


def _screen(app: MztTopApp) -> PatternsScreen:
    screen = app.screen
    assert isinstance(screen, PatternsScreen)
    return screen


def _findings(app: MztTopApp) -> list[str]:
    table = app.screen.query_one(PatternTable)
    names = []
    for key in table.row_keys:
        cells = table.row_cells(key)
        assert cells is not None
        names.append(cells[-1].text)
    return names


def _details_text(details: PatternDetailsScreen) -> str:
    return "\n".join(f"{label} {value}" for label, value in details.fields)


def _notice(app: MztTopApp) -> Static:
    return app.screen.query_one("#patterns-notice", Static)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    root = tmp_path / "home"
    root.mkdir()
    fill_patterns(root / "global-learning.db")
    return root


async def test_t_opens_the_patterns_sorted_by_confidence_and_escape_goes_back(home: Path) -> None:
    app = app_over(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        screen = _screen(app)
        assert _findings(app) == [MEMORY_FINDING, RETIRED_FINDING, SPIKE_FINDING, INSIGHT_FINDING]
        assert not _notice(app).display
        status = str(screen.query_one("#patterns-status", Static).render())
        assert "4 of 4 patterns · sorted by CONF ▼" in status
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_the_palette_opens_patterns_and_learning(home: Path) -> None:
    app = app_over(home)
    async with app.run_test(size=(120, 40)) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {"Patterns", "Learning"} <= set(titles)
        for title, screen_type in (("Patterns", PatternsScreen), ("Learning", LearningScreen)):
            await pilot.press("ctrl+p")
            assert isinstance(app.screen, CommandPalette)
            await pilot.press(*title.lower(), "enter")
            await settle(pilot)
            assert isinstance(app.screen, screen_type)
        # from the learning screen, `t` switches back to patterns in its place; `d` goes home
        await pilot.press("t")
        await settle(pilot)
        current = app.screen
        assert isinstance(current, PatternsScreen)
        palette = [command.title for command in app.get_system_commands(app.screen)]
        assert {"Correlate now", "Reload patterns", "Dashboard"} <= set(palette)
        await pilot.press("d")
        assert isinstance(app.screen, DashboardScreen)


async def test_s_cycles_the_sort_and_shift_s_reverses(home: Path) -> None:
    app = app_over(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        screen = _screen(app)
        await pilot.press("s")
        assert screen.order.column == "last_seen"
        assert _findings(app) == [SPIKE_FINDING, MEMORY_FINDING, INSIGHT_FINDING, RETIRED_FINDING]
        await pilot.press("S")
        assert _findings(app) == [RETIRED_FINDING, INSIGHT_FINDING, MEMORY_FINDING, SPIKE_FINDING]
        await pilot.press("s", "s")
        assert screen.order.column == "seen"
        assert _findings(app)[0] == SPIKE_FINDING  # recorded twice
        status = str(screen.query_one("#patterns-status", Static).render())
        assert "sorted by SEEN ▼" in status


async def test_the_filter_narrows_the_rows_as_you_type_and_escape_clears_it(home: Path) -> None:
    app = app_over(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("slash", "m", "e", "m")
        assert app.screen.query_one("#pattern-filter", Input).has_focus
        assert sorted(_findings(app)) == sorted([MEMORY_FINDING, SPIKE_FINDING])
        await pilot.press("o", "r", "y", "_", "v")
        assert _findings(app) == [MEMORY_FINDING]
        await pilot.press("escape")
        assert len(_findings(app)) == 4
        assert isinstance(app.screen, PatternsScreen)


async def test_a_tag_matches_the_filter(home: Path) -> None:
    app = app_over(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("slash", *"sheet:3")
        assert _findings(app) == [SPIKE_FINDING]


async def test_enter_shows_every_field_of_the_selected_pattern(home: Path) -> None:
    app = app_over(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("enter")
        details = app.screen
        assert isinstance(details, PatternDetailsScreen)
        assert details.pattern.pattern_name == MEMORY_FINDING
        text = _details_text(details)
        for expected in (
            "resource_correlation",
            "failed 80% of the time",
            "Give memory-heavy sheets more headroom.",
            "0.999 (confidence tag)",
            "q_value",
            "0.0012",
            "source:mzt_tui",
            "2026-11-20 09:30",
        ):
            assert expected in text
        await pilot.press("escape")
        await pilot.press("down", "enter")
        details = app.screen
        assert isinstance(details, PatternDetailsScreen)
        assert details.pattern.pattern_name == RETIRED_FINDING
        assert "no (retired)" in _details_text(details)


async def test_the_help_lists_the_patterns_keys(home: Path) -> None:
    app = app_over(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text", Static).render())
        for description in ("Sort", "Reverse", "Filter", "Correlate now", "Reload", "Learning"):
            assert description in text
        assert "Patterns" not in text  # we are on it


async def test_without_a_learning_store_a_calm_line_says_how_to_get_patterns(
    tmp_path: Path,
) -> None:
    app = app_over(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        notice = _notice(app)
        assert notice.display
        assert not notice.has_class("-error")
        text = str(notice.render())
        assert "No learning store" in text and "mzt correlate" in text and "mzt demo" in text
        assert app.screen.query_one(PatternTable).row_count == 0
        assert not (tmp_path / "global-learning.db").exists()


async def test_a_corrupt_learning_store_is_one_line_of_error(tmp_path: Path) -> None:
    (tmp_path / "global-learning.db").write_bytes(b"this is not a database" * 100)
    app = app_over(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        notice = _notice(app)
        assert notice.has_class("-error")
        text = str(notice.render())
        assert "cannot read learning store" in text and "\n" not in text
        assert isinstance(app.screen, PatternsScreen)


@pytest.fixture
def home_with_runs(tmp_path: Path, upstream_copy: Path) -> Path:
    """A home whose monitor.db and registry hold 60 recent runs with a planted memory effect."""
    root = tmp_path / "runs-home"
    root.mkdir()
    shutil.copy(upstream_copy / "learning.db", root / "global-learning.db")
    runs = builders.planted_runs(
        builders.outcomes(12, 15), builders.outcomes(4, 45), first_start=time.time() - 3600
    )
    builders.record_runs(root / "monitor.db", runs)
    builders.registry_for(root / "daemon-state.db", runs)
    return root


async def test_c_runs_the_correlation_and_the_table_shows_its_pattern(
    home_with_runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_over(home_with_runs)
    notes: list[str] = []
    monkeypatch.setattr(app, "notify", lambda message, **_: notes.append(message))
    new_id = LearningStore.pattern_id(RESOURCE_CORRELATION, builders.MEMORY_FINDING)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        table = app.screen.query_one(PatternTable)
        assert new_id not in table.row_keys
        rows_before = table.row_count
        await pilot.press("c")
        await wait_until(pilot, lambda: not _screen(app).correlating and bool(notes))
        await wait_until(pilot, lambda: new_id in table.row_keys)
        assert table.row_count == rows_before + 3
        assert notes == [
            "60 runs, 3 tests, 3 findings: 3 patterns written, 0 updated, 0 marked inactive."
        ]


async def test_readonly_refuses_the_correlation_and_writes_nothing(
    home_with_runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    learning_db = home_with_runs / "global-learning.db"
    monitor_db = home_with_runs / "monitor.db"
    before = (learning_db.read_bytes(), monitor_db.read_bytes())
    app = app_over(home_with_runs, readonly=True)
    notes: list[str] = []
    monkeypatch.setattr(app, "notify", lambda message, **_: notes.append(message))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert not _screen(app).correlating
        assert len(notes) == 1 and "Read-only" in notes[0]
    assert (learning_db.read_bytes(), monitor_db.read_bytes()) == before


async def _correlate_over(home: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Open the patterns screen over `home`, press `c`; the notes it made, with severities."""
    app = app_over(home)
    notes: list[tuple[str, str]] = []
    monkeypatch.setattr(
        app,
        "notify",
        lambda message, severity="information", **_: notes.append((message, severity)),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("c")
        await wait_until(pilot, lambda: bool(notes) and not _screen(app).correlating)
    return notes


async def test_c_without_a_monitor_database_warns_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = await _correlate_over(tmp_path, monkeypatch)
    assert len(notes) == 1
    message, severity = notes[0]
    assert message.startswith("nothing to correlate: no monitor database") and severity == "warning"
    assert sorted(path.name for path in tmp_path.iterdir()) == []


async def test_c_says_what_reading_monitor_db_repaired(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conductor_file(tmp_path / "monitor.db", process_values={"rss_mb": -3.0})
    notes = await _correlate_over(tmp_path, monkeypatch)
    ((message, severity),) = notes
    assert message.endswith(
        "monitor.db: repaired 1 value in rows another writer stored"
        " (process_metrics.rss_mb 1 negative)"
    )
    assert severity == "warning"
