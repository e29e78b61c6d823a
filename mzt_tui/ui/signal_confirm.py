"""`x`: what to signal (a process, or a sheet's process tree) and the confirmation that names it.

The target is taken from the shown tick as `(pid, start time)` pairs; the app checks them against
the live processes when the confirmation opens and again, in `signal_process`, right before
sending, so a reused PID is never hit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Static

from mzt_tui.collect.signals import (
    SIGNAL_CHOICES,
    ProcessIdentity,
    identify,
    same_start,
    signal_processes,
)
from mzt_tui.headless.engine import TickResult
from mzt_tui.models import ProcessMetric
from mzt_tui.ui.formatting import format_clock, shorten
from mzt_tui.ui.job_tree_model import process_key

MAX_LISTED = 6
"""Processes named one by one in the confirmation; more are counted."""
_SIGNAL_KEYS = {"t": "TERM", "i": "INT", "u": "HUP", "k": "KILL", "s": "STOP", "c": "CONT"}


@dataclass(frozen=True)
class SignalTarget:
    """What `x` aims at.

    Attributes:
        label: In words: `process 4242`, `sheet 3 of job my-score`.
        processes: The processes to signal (a sheet: its root processes), as last sampled.
    """

    label: str
    processes: tuple[ProcessMetric, ...]


def process_target(result: TickResult, key: str) -> SignalTarget | None:
    """The process whose node or row key is `key` in the tick, or None."""
    for process in (*result.all_processes, *result.snapshot.processes):
        if process_key(process) == key:
            return SignalTarget(f"process {process.pid}", (process,))
    return None


def sheet_target(result: TickResult, job_id: str, sheet_num: int) -> SignalTarget | None:
    """The root processes of a sheet's tree (each signalled; TERM lets them end their children)."""
    members = [
        process
        for process in result.snapshot.processes
        if process.job_id == job_id and process.sheet_num == sheet_num
    ]
    pids = {process.pid for process in members}
    roots = tuple(process for process in members if process.ppid not in pids)
    if not roots:
        return None
    return SignalTarget(f"sheet {sheet_num} of job {job_id}", roots)


@dataclass
class SignalRequested(Message):
    """`x` was pressed on a screen (the app decides whether and how to signal).

    Attributes:
        target: What was selected, or None when nothing that can be signalled is.
        reason: Why there is no target (when there is none).
    """

    target: SignalTarget | None
    reason: str = ""


@dataclass(frozen=True)
class ConfirmedTarget:
    """A process as sampled and as it is now (the same start time).

    Attributes:
        process: The sampled process (job, sheet).
        identity: The live process (user, command, start time).
    """

    process: ProcessMetric
    identity: ProcessIdentity


def confirmation_text(
    label: str, confirmed: tuple[ConfirmedTarget, ...], signal_name: str, timezone: tzinfo | None
) -> Text:
    """The confirmation's body: the signal, the target and each process it goes to."""
    text = Text("Send ")
    text.append(f"SIG{signal_name}", style="bold red")
    text.append(f" to {label}?\n\n")
    for item in confirmed[:MAX_LISTED]:
        identity, process = item.identity, item.process
        text.append(f"PID {identity.pid}", style="bold")
        text.append(f"  user {identity.user}")
        text.append(f"  started {format_clock(identity.start_time, timezone)}")
        if process.job_id is not None:
            sheet = f" #{process.sheet_num}" if process.sheet_num is not None else ""
            text.append(f"  job {process.job_id}{sheet}")
        text.append("\n  ")
        text.append(shorten(identity.command, 70), style="dim")
        text.append("\n")
    if len(confirmed) > MAX_LISTED:
        text.append(f"… and {len(confirmed) - MAX_LISTED} more\n")
    text.append("\nsignal: ")
    for key, name in _SIGNAL_KEYS.items():
        style = "bold reverse red" if name == signal_name else ""
        text.append(f" {name} ", style=style)
        text.append(f"({key}) ", style="dim")
    return text


class ConfirmSignalScreen(ModalScreen[str | None]):
    """Asks before signalling; returns the signal's name, or None when cancelled.

    Args:
        label: The target in words.
        confirmed: The processes that will get the signal.
        timezone: The zone of start times (local time when None).
    """

    DEFAULT_CSS = """
    ConfirmSignalScreen {
        align: center middle;
    }
    #signal-box {
        width: 84;
        max-width: 95%;
        height: auto;
        border: round $error;
        border-title-color: $error;
        border-subtitle-color: $text-muted;
        background: $surface;
        padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,y", "confirm", "Send", id="signal.confirm"),
        Binding("escape,n", "cancel", "Cancel", id="signal.cancel"),
        *(
            Binding(key, f"choose('{name}')", name, show=False, id=f"signal.{name.lower()}")
            for key, name in _SIGNAL_KEYS.items()
        ),
    ]

    signal_name: reactive[str] = reactive(SIGNAL_CHOICES[0])
    """The signal that Enter sends."""

    def __init__(
        self, label: str, confirmed: tuple[ConfirmedTarget, ...], *, timezone: tzinfo | None
    ) -> None:
        super().__init__(id="confirm-signal")
        self.label = label
        self.confirmed = confirmed
        self.timezone = timezone

    def compose(self) -> ComposeResult:
        """A bordered box naming the target."""
        with Vertical(id="signal-box") as box:
            box.border_title = "signal"
            box.border_subtitle = "Enter or y sends · Esc or n cancels"
            yield Static(id="signal-text")

    def watch_signal_name(self) -> None:
        """Redraw with the chosen signal."""
        self.query_one("#signal-text", Static).update(
            confirmation_text(self.label, self.confirmed, self.signal_name, self.timezone)
        )

    def action_choose(self, name: str) -> None:
        """Pick the signal to send."""
        self.signal_name = name

    def action_confirm(self) -> None:
        """Send the chosen signal."""
        self.dismiss(self.signal_name)

    def action_cancel(self) -> None:
        """Send nothing."""
        self.dismiss(None)


def confirm_and_signal(app: App[Any], target: SignalTarget, *, timezone: tzinfo | None) -> None:
    """Check the target against the live processes, confirm, then signal (each in a thread).

    The confirmation opens only for processes whose PID still has the sampled start time;
    `signal_process` checks each again right before sending.
    """
    app.run_worker(
        partial(_check_then_confirm, app, target, timezone),
        name="signal",
        group="signal",
        exit_on_error=False,
        thread=True,
    )


def _check_then_confirm(app: App[Any], target: SignalTarget, timezone: tzinfo | None) -> None:
    confirmed: list[ConfirmedTarget] = []
    for process in target.processes:
        identity = identify(process.pid)
        start = process.start_time
        if identity is not None and start is not None and same_start(identity.start_time, start):
            confirmed.append(ConfirmedTarget(process, identity))
    if not confirmed:
        app.call_from_thread(
            app.notify,
            f"{target.label} is gone (or its PID now names another process); nothing to signal.",
            title="signal",
            severity="warning",
        )
        return
    chosen = tuple(confirmed)

    def send(signal_name: str | None) -> None:
        if signal_name is not None:
            app.run_worker(
                partial(_send, app, chosen, signal_name),
                name="signal",
                group="signal",
                exit_on_error=False,
                thread=True,
            )

    screen = ConfirmSignalScreen(target.label, chosen, timezone=timezone)
    app.call_from_thread(app.push_screen, screen, send)


def _send(app: App[Any], confirmed: tuple[ConfirmedTarget, ...], signal_name: str) -> None:
    """Send it, each process checked again right before; say what happened."""
    outcomes = signal_processes(
        tuple((item.identity.pid, item.identity.start_time) for item in confirmed), signal_name
    )
    refused = [outcome for outcome in outcomes if not outcome.sent]
    text = "; ".join(outcome.message for outcome in (refused or outcomes)[:3])
    severity = "error" if refused else "information"
    app.call_from_thread(app.notify, text, title="signal", severity=severity)
