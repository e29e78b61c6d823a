"""History mode's pieces: where playback stands, the bar that shows it, the seek box, messages.

The app plays recorded ticks (`mzt_tui.headless.history`) instead of live ones; every screen
shows whatever tick the app publishes, so only the bar and the keys are history's own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from mzt_tui.headless.history import HistoryFrame, HistorySource, parse_seek
from mzt_tui.models.errors import MztError
from mzt_tui.store.repairs import RepairKey
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


class HistoryPlayer:
    """Playback over one recorded window: position, play and pause, speed, steps and jumps.

    Frames are read in a thread worker of `app` and posted to it as `HistoryFrameLoaded`; the
    app shows each and calls `shown`. Each action returns a line to tell the user, or None.

    Args:
        app: The app that shows the frames.
        source: The recorded window.
        from_live: Whether it was opened from the live view (Esc goes back).
        clock: The current time (for seeks to a duration ago).
        timezone: The zone of clock times typed and shown (local time when None).
    """

    def __init__(
        self,
        app: App[Any],
        source: HistorySource,
        *,
        from_live: bool,
        clock: Callable[[], float],
        timezone: tzinfo | None,
    ) -> None:
        self.app = app
        self.source = source
        self.from_live = from_live
        self.clock = clock
        self.timezone = timezone
        self.playing = False
        self.target = source.count - 1 if from_live else 0
        """The snapshot shown or being read (keys pressed quickly add up)."""
        self._speed = 0
        self._shown: HistoryFrame | None = None
        self._timer: Timer | None = None
        self._repair_kinds_told: frozenset[RepairKey] = frozenset()

    @property
    def speed(self) -> float:
        """The playback speed, a multiple of the recorded pace."""
        return SPEEDS[self._speed]

    def position(self) -> HistoryPosition | None:
        """Where playback stands (None until the first frame is shown)."""
        frame = self._shown
        if frame is None:
            return None
        times = self.source.times
        return HistoryPosition(
            frame.index, frame.count, frame.timestamp, times[0], times[-1], self.playing, self.speed
        )

    def window_text(self) -> str:
        """The recorded span, `12:00:05–13:00:01`."""
        times = self.source.times
        return f"{format_clock(times[0], self.timezone)}–{format_clock(times[-1], self.timezone)}"

    def go_to(self, index: int) -> None:
        """Read snapshot `index` in a thread (a newer read replaces an unfinished one)."""
        self.target = index
        self.app.run_worker(
            partial(self._read, index),
            name="player",
            group="history-frame",
            exit_on_error=False,
            exclusive=True,
            thread=True,
        )

    def _read(self, index: int) -> None:
        frame = self.source.frame(index)
        if not get_current_worker().is_cancelled:
            self.app.post_message(HistoryFrameLoaded(self.source, frame))

    def shown(self, frame: HistoryFrame) -> str | None:
        """The app showed `frame`: while playing, schedule the next one."""
        self._shown = frame
        return self._schedule() if self.playing else None

    def repairs_to_tell(self, frame: HistoryFrame) -> str | None:
        """The line saying what reads repaired in foreign rows, once per new kind of repair.

        Playing on through more bad rows of a kind already told says nothing again.
        """
        kinds = frame.repairs.kinds
        if kinds <= self._repair_kinds_told:
            return None
        self._repair_kinds_told |= kinds
        return frame.repairs.summary(self.source.db_name)

    def _schedule(self) -> str | None:
        index = self.target
        times = self.source.times
        if index + 1 >= self.source.count:
            self._set_playing(False)
            return "End of the recorded window."
        gap = (times[index + 1] - times[index]) / self.speed
        delay = min(max(gap, MIN_STEP_SECONDS), MAX_STEP_SECONDS)
        self._timer = self.app.set_timer(delay, partial(self.go_to, index + 1))
        return None

    def _set_playing(self, playing: bool) -> None:
        self.playing = playing
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def toggle_play(self) -> str | None:
        """Play at the recorded pace (times the speed), or pause."""
        self._set_playing(not self.playing)
        return self._schedule() if self.playing else None

    def step(self, delta: int) -> str | None:
        """Show the snapshot `delta` away (playback pauses)."""
        self._set_playing(False)
        target = self.target + delta
        if not 0 <= target < self.source.count:
            return f"At the {'start' if delta < 0 else 'end'} of the recorded window."
        self.go_to(target)
        return None

    def jump(self, direction: int) -> str | None:
        """Go to the next (1) or previous (-1) snapshot with a new event or anomaly."""
        self._set_playing(False)
        source = self.source
        target = (
            source.next_mark(self.target) if direction > 0 else source.previous_mark(self.target)
        )
        if target is None:
            return f"No {'later' if direction > 0 else 'earlier'} event or anomaly recorded."
        self.go_to(target)
        return None

    def change_speed(self, step: int) -> None:
        """Play faster (1) or slower (-1)."""
        self._speed = min(max(self._speed + step, 0), len(SPEEDS) - 1)
        if self.playing:
            self._set_playing(True)
            self._schedule()

    def seek(self, text: str) -> str | None:
        """Go to the time `text` names (`14:05`, `14:05:30`, `-10m`); or say why not."""
        try:
            moment = parse_seek(text, now=self.clock(), timezone=self.timezone)
        except MztError as error:
            return str(error)
        index = self.source.index_at(moment)
        if index is None:
            return f"{text.strip()} is outside the recorded window {self.window_text()}"
        self._set_playing(False)
        self.go_to(index)
        return None

    def stop(self) -> None:
        """Stop playing and close the source in a thread (after a read in flight)."""
        self._set_playing(False)
        self.app.run_worker(
            self.source.close, name="history close", group="history-close", thread=True
        )
