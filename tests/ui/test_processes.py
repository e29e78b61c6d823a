"""The processes screen: switching, sorting, filtering, in-place updates, narrow columns."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input

from mzt_tui.ui.dashboard import DashboardScreen
from mzt_tui.ui.process_table import NARROW_PROCESS_COLUMNS, ProcessTable
from mzt_tui.ui.processes import ProcessesScreen
from tests.ui.conftest import inject, make_test_app
from tests.ui.factories import NOW, busy_processes, busy_tick, no_conductor_tick, quiet_tick


def _table(app: Any) -> ProcessTable:
    return app.screen.query_one(ProcessTable)  # type: ignore[no-any-return]


def _pids(table: ProcessTable) -> list[int]:
    return [int(key.split(":")[1]) for key in table.row_keys]


async def test_p_opens_every_process_sorted_by_cpu_and_d_goes_back() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        await pilot.press("p")
        assert isinstance(app.screen, ProcessesScreen)
        table = _table(app)
        assert table.row_count == 11
        assert _pids(table)[:3] == [1102, 1100, 1101]
        assert table.has_focus
        await pilot.press("d")
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("p")
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_s_cycles_the_sort_column_and_shift_s_reverses() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, ProcessesScreen)
        table = _table(app)
        await pilot.press("s")
        assert screen.order.column == "rss"
        assert _pids(table)[:2] == [1102, 1100]  # 1.5G, then 820M
        await pilot.press("s")
        assert screen.order.column == "pid"
        assert _pids(table) == sorted(_pids(table))
        await pilot.press("S")
        assert _pids(table) == sorted(_pids(table), reverse=True)
        status = str(screen.query_one("#process-status").render())
        assert "sorted by PID ▼" in status
        for _ in range(5):
            await pilot.press("s")
        assert screen.order.column == "command"
        await pilot.press("s")
        assert screen.order.column == "cpu"


async def test_clicking_a_heading_sorts_by_it_and_again_reverses() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, ProcessesScreen)
        table = _table(app)
        await pilot.click(ProcessTable, offset=(4, 0))
        await pilot.pause()
        assert screen.order.column == "pid"
        assert _pids(table)[0] == 1
        await pilot.click(ProcessTable, offset=(4, 0))
        await pilot.pause()
        assert screen.order.descending
        assert _pids(table)[0] == 1201


async def test_slash_filters_on_command_pid_and_job_as_you_type() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        await pilot.press("p", "slash")
        field = app.screen.query_one("#process-filter", Input)
        assert field.has_focus
        table = _table(app)
        await pilot.press(*"claude")
        assert sorted(_pids(table)) == [1100, 1101]
        field.value = "610"
        await pilot.pause()
        assert _pids(table) == [610]
        field.value = "LINT-"
        await pilot.pause()
        assert sorted(_pids(table)) == [1200, 1201]
        await pilot.press("enter")
        assert table.has_focus
        await pilot.press("escape")
        assert table.row_count == 11
        assert isinstance(app.screen, ProcessesScreen)


async def test_a_row_updated_in_place_keeps_the_cursor_on_its_process() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        await pilot.press("p")
        table = _table(app)
        await pilot.press("down", "down", "down")
        assert table.cursor_key == "proc:1200:1699999935.00"
        # GIVEN gemini (4th by CPU) now uses the most CPU, and pytest has exited
        changed = [
            p.model_copy(update={"cpu_percent": 99.5}) if p.pid == 1200 else p
            for p in busy_processes()
            if p.pid != 1102
        ]
        await inject(pilot, quiet_tick(changed, timestamp=NOW + 2))
        # THEN its row moved to the top and the cursor went with it
        assert table.row_count == 10
        assert table.cursor_key == "proc:1200:1699999935.00"
        assert table.cursor_row == 0
        assert str(table.get_cell("proc:1200:1699999935.00", "cpu")) == "99.5"


async def test_pause_leaves_the_table_as_it_was() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        await pilot.press("p", "space")
        table = _table(app)
        before = table.row_keys
        await inject(pilot, no_conductor_tick())
        assert table.row_keys == before
        await pilot.press("space")
        assert table.row_count == 5


async def test_a_hidden_processes_screen_catches_up_when_shown_again() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        await pilot.press("p", "d")
        await inject(pilot, no_conductor_tick())
        await pilot.press("p")
        assert _table(app).row_count == 5


async def test_narrow_terminal_gets_the_narrow_columns() -> None:
    app = make_test_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await inject(pilot, busy_tick())
        await pilot.press("p")
        table = _table(app)
        assert table.column_specs == NARROW_PROCESS_COLUMNS
        assert table.row_count == 11
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        wide = _table(app)
        assert len(wide.column_specs) == 11
        assert wide.row_count == 11
