"""`[keys]` in top.toml: remapped bindings, refused ids and keys, and NO_COLOR."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from mzt_tui.models.errors import UsageError
from mzt_tui.ui.help import HelpScreen
from mzt_tui.ui.keymap import binding_ids, keymap_problems
from mzt_tui.ui.processes import ProcessesScreen
from tests.ui.conftest import inject, make_test_app
from tests.ui.factories import busy_tick


async def test_a_remapped_key_does_the_action_and_the_old_key_no_longer_does() -> None:
    app = make_test_app(keymap={"app.processes": "o", "app.pause": "f5"})
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        await pilot.press("p", "space")
        assert not isinstance(app.screen, ProcessesScreen)
        assert not app.paused
        await pilot.press("f5")
        assert app.paused
        await pilot.press("o")
        assert isinstance(app.screen, ProcessesScreen)


async def test_quit_remapped_to_ctrl_q_and_shown_so_in_the_help() -> None:
    app = make_test_app(keymap={"app.quit": "ctrl+q"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        text = str(screen.query_one("#help-text", Static).render())
        quit_line = next(line for line in text.splitlines() if "Quit" in line)
        assert "^q" in quit_line
        await pilot.press("escape", "q")
        assert app.is_running
        await pilot.press("ctrl+q")
    assert not app.is_running


def test_binding_ids_include_every_screen() -> None:
    ids = binding_ids()
    assert ids["app.quit"] == "q"
    assert ids["processes.sort"] == "s"
    assert "dashboard.filter" in ids


@pytest.mark.parametrize(
    ("keymap", "expected"),
    [
        ({"app.quitt": "q"}, "key keys.app.quitt: is not a binding id (allowed: one of app."),
        ({"app.quit": "ctrl+nothing"}, "key keys.app.quit: has the key 'ctrl+nothing'"),
        (
            {"app.quit": "q,hyperdrive"},
            "key keys.app.quit: has the key 'hyperdrive', which is not a key",
        ),
        ({"app.quit": "cmd+q"}, "key keys.app.quit: has the key 'cmd+q'"),
        ({"app.quit": " "}, "key keys.app.quit: is empty"),
    ],
)
def test_bad_keymaps_are_refused_at_start_up(keymap: dict[str, str], expected: str) -> None:
    with pytest.raises(UsageError) as raised:
        make_test_app(keymap=keymap)
    assert str(raised.value).startswith(expected)


def test_good_keys_pass() -> None:
    keymap = {
        "app.quit": "ctrl+q,f10",
        "app.help": "question_mark,?",
        "app.pause": "space",
        "processes.sort": "S,shift+s",
        "dashboard.filter": "slash,ctrl+f",
        "tree.first": "home,g",
    }
    assert keymap_problems(keymap) == []


def test_no_color_makes_the_app_monochrome(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert make_test_app().no_color
    monkeypatch.delenv("NO_COLOR")
    assert not make_test_app().no_color
