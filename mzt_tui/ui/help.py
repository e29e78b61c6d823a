"""The `?` help: a modal listing every key of the screen below it and what it does."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


@dataclass(frozen=True, slots=True)
class KeyHelp:
    """One line of help: the keys, and what they do."""

    keys: str
    description: str


def key_help(
    bindings: Iterable[tuple[str, ActiveBinding]], display: dict[str, str]
) -> list[KeyHelp]:
    """One line per action (its keys joined), in the order the bindings come.

    Args:
        bindings: `(key, active binding)` pairs, as `Screen.active_bindings` gives them.
        display: How to show each key (`question_mark` → `?`).
    """
    keys_by_action: dict[tuple[str, str], list[str]] = {}
    for key, active in bindings:
        binding = active.binding
        description = binding.description or binding.tooltip
        if not description or not active.enabled:
            continue
        keys_by_action.setdefault((binding.action, description), []).append(display.get(key, key))
    return [
        KeyHelp(" ".join(keys), description) for (_, description), keys in keys_by_action.items()
    ]


class HelpScreen(ModalScreen[None]):
    """Every key that works on the screen below, with what it does.

    Args:
        lines: The keys to list.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, lines: list[KeyHelp]) -> None:
        super().__init__(id="help")
        self.lines = lines

    def compose(self) -> ComposeResult:
        """A bordered box of two columns: keys and what they do."""
        width = max((len(line.keys) for line in self.lines), default=4) + 2
        text = Text()
        for index, line in enumerate(self.lines):
            if index:
                text.append("\n")
            text.append(line.keys.rjust(width), style="bold cyan")
            text.append("  ")
            text.append(line.description)
        with VerticalScroll(id="help-box") as box:
            box.border_title = "keys"
            box.border_subtitle = "Esc or ? closes"
            yield Static(text, id="help-text")
