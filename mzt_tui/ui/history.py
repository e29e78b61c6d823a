"""History mode's pieces: where playback stands, the bar that shows it, the seek box, messages.

The app plays recorded ticks (`mzt_tui.headless.history`) instead of live ones; every screen
shows whatever tick the app publishes, so only the bar and the keys are history's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Static

from mzt_tui.headless.history import HistoryFrame, HistorySource
from mzt_tui.ui.formatting import format_clock

SPEEDS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
"""Playback speeds, as multiples of the recorded pace."""
MIN_STEP_SECONDS = 0.1
MAX_STEP_SECONDS = 2.0
"""Playback waits between these (a long gap in the recording does not stall it)."""


@dataclass(frozen=True)
class HistoryPosition:
    """Where history playback stands.

    Attributes:
        index: The snapshot shown (0 is the oldest).
        count: How many snapshots the window holds.
        timestamp: When the shown snapshot was recorded.
        since: When the window's first snapshot was recorded.
        until: When its last was.
        playing: Whether playback runs.
        speed: The playback speed, a multiple of the recorded pace.
    """

    index: int
    count: int
    timestamp: float
    since: float
    until: float
    playing: bool = False
    speed: float = 1.0


def bar_text(position: HistoryPosition, width: int, timezone: tzinfo | None) -> Text:
    """One line: the label, play state, recorded time, a position track, index and speed."""
    text = Text(" HISTORY ", style="bold reverse yellow")
    text.append(" ▶ " if position.playing else " ⏸ ", style="bold")
    text.append(format_clock(position.timestamp, timezone), style="bold")
    tail = Text(f"  {position.index + 1}/{position.count}  ×{position.speed:g}  ")
    tail.append(format_clock(position.since, timezone), style="dim")
    tail.append("→", style="dim")
    tail.append(format_clock(position.until, timezone), style="dim")
    track_width = width - text.cell_len - tail.cell_len - 2
    if track_width >= 5:
        span = max(position.until - position.since, 1e-9)
        share = min(max((position.timestamp - position.since) / span, 0.0), 1.0)
        marker = round(share * (track_width - 1))
        text.append("  ")
        text.append("━" * marker, style="yellow")
        text.append("●", style="bold yellow")
        text.append("─" * (track_width - 1 - marker), style="dim")
    text.append_text(tail)
    return text


class HistoryBar(Widget):
    """The history line (placed last before the footer); hidden in live mode.

    Args:
        timezone: The zone of the times shown (local time when None).
    """

    DEFAULT_CSS = """
    HistoryBar {
        height: 1;
        background: $warning 25%;
        display: none;
    }
    HistoryBar.-shown {
        display: block;
    }
    """

    position: reactive[HistoryPosition | None] = reactive(None)
    """Where playback stands; None in live mode."""

    def __init__(self, *, timezone: tzinfo | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.timezone = timezone

    def on_mount(self) -> None:
        """Follow the app's history position."""
        self.watch(self.app, "history_position", self._moved, init=True)

    def _moved(self, position: HistoryPosition | None) -> None:
        self.position = position

    def watch_position(self, position: HistoryPosition | None) -> None:
        """Show the bar only in history."""
        self.set_class(position is not None, "-shown")

    def render(self) -> Text:
        """The bar's line."""
        if self.position is None:
            return Text()
        return bar_text(self.position, self.size.width, self.timezone)


class SeekScreen(ModalScreen[str | None]):
    """A one-line box asking for the time to go to; returns the text, or None when cancelled.

    Args:
        hint: The recorded window, to say what can be reached.
        cursor_blink: Whether the cursor blinks.
    """

    DEFAULT_CSS = """
    SeekScreen {
        align: center middle;
    }
    #seek-box {
        width: 60;
        height: auto;
        border: round $accent;
        border-title-color: $accent;
        border-subtitle-color: $text-muted;
        background: $surface;
        padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="seek.cancel"),
    ]

    def __init__(self, hint: str, *, cursor_blink: bool = True) -> None:
        super().__init__(id="seek")
        self.hint = hint
        self.cursor_blink = cursor_blink

    def compose(self) -> ComposeResult:
        """The hint and the input."""
        with Vertical(id="seek-box") as box:
            box.border_title = "go to time"
            box.border_subtitle = "Enter goes · Esc cancels"
            yield Static(self.hint, id="seek-hint")
            field = Input(placeholder="14:05, 14:05:30 or -10m", id="seek-input")
            field.cursor_blink = self.cursor_blink
            yield field

    @on(Input.Submitted, "#seek-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Close without moving."""
        self.dismiss(None)


@dataclass
class HistoryOpened(Message):
    """The history source is open (posted from the thread that opened it).

    Attributes:
        source: The recorded window.
        from_live: Whether history was opened from the live view (Esc goes back).
    """

    source: HistorySource
    from_live: bool


@dataclass
class HistoryFrameLoaded(Message):
    """A recorded tick was read (posted from the thread that read it).

    Attributes:
        source: The source it came from (a frame of a closed source is dropped).
        frame: The tick and its context.
    """

    source: HistorySource
    frame: HistoryFrame
