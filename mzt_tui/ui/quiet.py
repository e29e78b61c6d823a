"""Widgets that redraw what changed without laying the whole screen out again.

`Static.update` asks for a layout pass every time, and a layout pass re-renders the whole
screen. Gauges and status lines change every tick but rarely change height, so `TextLine`
skips unchanged text and asks for layout only when the number of rows it needs changes;
`QuietHeader` shows a new title or sub-title (which carries the sample's time) in place.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.visual import VisualType
from textual.widgets import Header, Static
from textual.widgets._header import HeaderTitle


def rows_needed(text: Text, width: int) -> int:
    """How many rows `text` takes when wrapped at `width` cells (0: width unknown)."""
    if width <= 0:
        return 0
    return sum(max(1, -(-cell_len(line) // width)) for line in text.plain.split("\n"))


class TextLine(Static):
    """Shows a `Text`; `show` redraws only on change and lays out only on a height change."""

    def __init__(self, text: Text | str = "", *, id: str | None = None, classes: str = "") -> None:
        """Start with `text` shown."""
        shown = Text(text) if isinstance(text, str) else text
        super().__init__(shown, id=id, classes=classes)
        self._shown = shown
        self._rows = 0

    def show(self, text: Text) -> None:
        """Show `text` unless it is shown already."""
        if text == self._shown:
            return
        rows = rows_needed(text, self.content_size.width)
        layout = rows == 0 or rows != self._rows
        self._shown = text
        self._rows = rows
        self.update(text, layout=layout)


class _TitleLine(HeaderTitle):
    """The header's title: one row whatever it says, so a new one needs no layout pass."""

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        """Show `content` in place (`layout` is ignored: the row's size never changes)."""
        del layout
        super().update(content, layout=False)


class QuietHeader(Header):
    """Textual's header, whose title changes repaint only the title row."""

    def compose(self) -> ComposeResult:
        """Header's own widgets, with the title swapped for one that updates in place."""
        for widget in super().compose():
            yield _TitleLine() if type(widget) is HeaderTitle else widget
