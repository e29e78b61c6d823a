"""Snapshots of the patterns and learning screens, over stores written with a fixed clock.

Regenerate after a deliberate change with
`pytest tests/ui/test_snapshots_learning.py --snapshot-update`, and look at the SVGs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import TEST_HOME
from tests.ui.learning_data import fill_all
from tests.ui.test_patterns_screen import app_over, settle
from tests.ui.test_snapshots import NARROW, WIDE, SnapCompare


def _showing(*keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


@pytest.fixture
def home(tmp_path: Path) -> Path:
    root = tmp_path / "home"
    root.mkdir()
    fill_all(root / "global-learning.db")
    return root


def test_patterns_screen(snap_compare: SnapCompare, home: Path) -> None:
    assert snap_compare(app_over(home), terminal_size=WIDE, run_before=_showing("t"))


def test_patterns_screen_without_a_store(snap_compare: SnapCompare) -> None:
    assert snap_compare(app_over(TEST_HOME), terminal_size=WIDE, run_before=_showing("t"))


def test_pattern_details(snap_compare: SnapCompare, home: Path) -> None:
    assert snap_compare(app_over(home), terminal_size=WIDE, run_before=_showing("t", "enter"))


def test_patterns_screen_narrow(snap_compare: SnapCompare, home: Path) -> None:
    assert snap_compare(app_over(home), terminal_size=NARROW, run_before=_showing("t"))


def test_learning_screen(snap_compare: SnapCompare, home: Path) -> None:
    assert snap_compare(app_over(home), terminal_size=WIDE, run_before=_showing("l"))


def test_learning_screen_without_a_store(snap_compare: SnapCompare) -> None:
    assert snap_compare(app_over(TEST_HOME), terminal_size=WIDE, run_before=_showing("l"))


def test_learning_screen_narrow(snap_compare: SnapCompare, home: Path) -> None:
    assert snap_compare(app_over(home), terminal_size=NARROW, run_before=_showing("l"))
