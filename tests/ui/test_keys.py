"""Keys: the help lists them, the footer offers the ones that apply, the palette, quitting."""

from __future__ import annotations

from textual.widgets import Static

from mzt_tui.ui.app import MztTopApp
from mzt_tui.ui.dashboard import DashboardScreen
from mzt_tui.ui.help import HelpScreen
from mzt_tui.ui.processes import ProcessesScreen
from tests.ui.conftest import inject, make_test_app
from tests.ui.factories import busy_tick


def _help_text(app: MztTopApp) -> str:
    screen = app.screen
    assert isinstance(screen, HelpScreen)
    return str(screen.query_one("#help-text", Static).render())


def _footer_actions(app: MztTopApp) -> set[str]:
    return {
        active.binding.action
        for active in app.screen.active_bindings.values()
        if active.binding.show and active.enabled
    }


async def test_help_lists_every_dashboard_key_and_closes_with_escape() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        await pilot.press("question_mark")
        text = _help_text(app)
        for description in ("Quit", "Help", "Pause", "Processes", "Filter", "Open", "Up", "Down"):
            assert description in text
        assert "Dashboard" not in text  # we are on it
        assert "↑ k" in text
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_help_on_the_processes_screen_lists_sorting_and_closes_with_question_mark() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        await pilot.press("p", "question_mark")
        text = _help_text(app)
        for description in ("Sort", "Reverse", "Back", "Dashboard", "Filter"):
            assert description in text
        # keys of the screen below do nothing while the help is open
        await pilot.press("p", "space")
        assert not app.paused
        await pilot.press("question_mark")
        assert isinstance(app.screen, ProcessesScreen)


async def test_the_footer_offers_only_the_keys_that_apply() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        dashboard = _footer_actions(app)
        assert {"quit", "help", "pause", "show_processes", "filter"} <= dashboard
        assert "resume" not in dashboard
        assert "show_dashboard" not in dashboard
        assert "back" not in dashboard  # nothing to clear yet
        await pilot.press("space")
        assert "resume" in _footer_actions(app)
        await pilot.press("space", "p")
        processes = _footer_actions(app)
        assert {"cycle_sort", "reverse_sort", "show_dashboard", "back"} <= processes
        assert "show_processes" not in processes


async def test_the_command_palette_lists_our_actions() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert titles[:4] == ["Processes", "Job", "Pause", "Help"]
        assert "Quit" in titles
        await pilot.press("p", "space")
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert titles[:3] == ["Dashboard", "Resume", "Help"]


async def test_palette_commands_do_what_they_say() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        commands["Pause"].callback()
        await pilot.pause()
        assert app.paused
        commands["Processes"].callback()
        await pilot.pause()
        assert isinstance(app.screen, ProcessesScreen)


async def test_remapped_keys_follow_the_binding_ids() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.set_keymap({"app.processes": "o"})
        await pilot.press("p")
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("o")
        assert isinstance(app.screen, ProcessesScreen)


async def test_q_quits() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.is_running
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_the_palette_also_lists_every_other_key_of_the_screen() -> None:
    """Filter, signal and history are in the palette too, and run from it."""
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        assert {"Filter", "Signal", "History", "Quit", "Patterns", "Learning"} <= set(commands)
        assert "(/)" in commands["Filter"].help
        commands["Filter"].callback()
        await pilot.pause()
        assert app.screen.query_one("#tree-filter").has_focus
        await pilot.press("escape", "p")
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Sort", "Reverse", "Filter", "Signal"} <= titles
