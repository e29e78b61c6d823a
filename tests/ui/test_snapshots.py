"""Snapshots of each screen and state, from fixed ticks with a frozen clock.

Regenerate after a deliberate change with `pytest tests/ui --snapshot-update`, and look at the
SVGs under tests/ui/__snapshots__ before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from textual.pilot import Pilot

from mzt_tui.headless.engine import TickResult
from mzt_tui.ui.dashboard import DashboardScreen
from mzt_tui.ui.job_tree import JobTree
from tests.ui.conftest import inject, make_test_app
from tests.ui.factories import NOW, busy_tick, idle_tick, no_conductor_tick

WIDE = (120, 40)
NARROW = (80, 24)


class SnapCompare(Protocol):
    """The `snap_compare` fixture of pytest-textual-snapshot."""

    def __call__(
        self,
        app: object,
        press: tuple[str, ...] = (),
        terminal_size: tuple[int, int] = (80, 24),
        run_before: Callable[[Pilot[None]], Awaitable[None] | None] | None = None,
    ) -> bool: ...


def _showing(result: TickResult, *keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        await inject(pilot, result)
        if keys:
            await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_dashboard_busy_with_two_gpus(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_test_app(), terminal_size=WIDE, run_before=_showing(busy_tick()))


def test_dashboard_without_gpu(snap_compare: SnapCompare) -> None:
    run_before = _showing(busy_tick(gpus=False))
    assert snap_compare(make_test_app(), terminal_size=WIDE, run_before=run_before)


def test_dashboard_idle(snap_compare: SnapCompare) -> None:
    """A conductor with no running job: its finished job, no sheets, quiet gauges."""
    assert snap_compare(make_test_app(), terminal_size=WIDE, run_before=_showing(idle_tick()))


def test_dashboard_without_conductor(snap_compare: SnapCompare) -> None:
    run_before = _showing(no_conductor_tick())
    assert snap_compare(make_test_app(), terminal_size=WIDE, run_before=run_before)


def test_dashboard_narrow(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_test_app(), terminal_size=NARROW, run_before=_showing(busy_tick()))


def test_processes_screen(snap_compare: SnapCompare) -> None:
    run_before = _showing(busy_tick(), "p")
    assert snap_compare(make_test_app(), terminal_size=WIDE, run_before=run_before)


def test_processes_screen_filtered_and_sorted(snap_compare: SnapCompare) -> None:
    run_before = _showing(busy_tick(), "p", "s", "slash", "c", "l", "a", "u", "d", "e")
    assert snap_compare(make_test_app(), terminal_size=WIDE, run_before=run_before)


def test_help(snap_compare: SnapCompare) -> None:
    run_before = _showing(busy_tick(), "question_mark")
    assert snap_compare(make_test_app(), terminal_size=WIDE, run_before=run_before)


def _job_screen(gpus: bool, key: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Three ticks 30 s apart, then Enter on `key` of the dashboard's tree."""

    async def run_before(pilot: Pilot[None]) -> None:
        for offset in (-60.0, -30.0, 0.0):
            await inject(pilot, busy_tick(gpus=gpus, timestamp=NOW + offset))
        screen = pilot.app.screen
        assert isinstance(screen, DashboardScreen)
        tree = screen.query_one(JobTree)
        node = tree.node_for(key)
        assert node is not None
        tree.move_cursor(node)
        await pilot.press("enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


def test_job_screen_busy_with_gpus(snap_compare: SnapCompare) -> None:
    run_before = _job_screen(True, "sheet:train-model:3")
    assert snap_compare(make_test_app(), terminal_size=WIDE, run_before=run_before)


def test_job_screen_without_gpu(snap_compare: SnapCompare) -> None:
    run_before = _job_screen(False, "job:lint-repo")
    assert snap_compare(make_test_app(), terminal_size=WIDE, run_before=run_before)


def test_job_screen_narrow(snap_compare: SnapCompare) -> None:
    run_before = _job_screen(True, "job:train-model")
    assert snap_compare(make_test_app(), terminal_size=NARROW, run_before=run_before)
