"""Snapshots of history mode (the bar) and of the signal confirmation, from fixed data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from mzt_tui.collect.signals import ProcessIdentity
from mzt_tui.ui.signal_confirm import ConfirmedTarget, ConfirmSignalScreen
from tests.history.recorded import record
from tests.ui.conftest import inject, make_test_app
from tests.ui.factories import NOW, busy_processes, busy_tick
from tests.ui.test_snapshots import WIDE, SnapCompare


async def _settled(pilot: Pilot[None]) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _jump_to_anomaly() -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        await _settled(pilot)
        for key in ("n", "n"):
            await pilot.press(key)
            await _settled(pilot)

    return run_before


def test_dashboard_in_history_with_the_bar(snap_compare: SnapCompare, tmp_path: Path) -> None:
    db = record(tmp_path / "monitor.db")
    app = make_test_app(history=300.0, history_db=db, clock=lambda: NOW)
    assert snap_compare(app, terminal_size=WIDE, run_before=_jump_to_anomaly())


def test_signal_confirmation_names_the_target(snap_compare: SnapCompare) -> None:
    process = busy_processes()[2]
    identity = ProcessIdentity(
        pid=process.pid,
        start_time=NOW - 410.0,
        user="alice",
        command="node /usr/lib/claude/cli.js --resume",
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await inject(pilot, busy_tick())
        pilot.app.push_screen(
            ConfirmSignalScreen(
                f"process {process.pid}",
                (ConfirmedTarget(process, identity),),
                timezone=pilot.app.options.timezone,  # type: ignore[attr-defined]
            )
        )
        await pilot.pause()
        await pilot.press("k")
        await pilot.pause()

    assert snap_compare(make_test_app(), terminal_size=WIDE, run_before=run_before)
