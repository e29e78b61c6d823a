"""`mzt top`'s interactive app: the dashboard and processes screens, keys, pause, help.

`make_app` builds it for the CLI and for tests (which switch the live collector off and post
`TickCollected` messages themselves).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive, var
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from mzt_tui.headless.engine import MonitorEngine, TickResult
from mzt_tui.marianne.paths import MarianneHome, resolve_home
from mzt_tui.models.config import AnomalyConfig
from mzt_tui.ui.collector import CollectorSettings
from mzt_tui.ui.dashboard import DashboardOptions, DashboardScreen
from mzt_tui.ui.formatting import format_clock
from mzt_tui.ui.help import HelpScreen, key_help
from mzt_tui.ui.keymap import checked_keymap
from mzt_tui.ui.messages import CollectorFailed, TickCollected
from mzt_tui.ui.processes import ProcessesScreen
from mzt_tui.ui.styles import stylesheet_paths
from mzt_tui.ui.timeline_log import TimelineLog

DASHBOARD_INTERVAL = 2.0
"""Seconds between ticks when `--interval` is not given (a `top` refreshes often)."""
_MODAL_BLOCKED = frozenset({"show_processes", "show_dashboard", "help", "pause", "resume"})


@dataclass(frozen=True)
class TopAppOptions:
    """How the app runs.

    Attributes:
        home: The Marianne home whose jobs are shown.
        interval: Seconds between ticks.
        score: Show only this job.
        readonly: Refuse anything that acts on processes (nothing does yet).
        collector: The live collector; None when ticks are injected (tests).
        timezone: Zone of the times shown; local time when None.
        cursor_blink: Whether text cursors blink (off in snapshot tests).
        keymap: Binding id to keys, replacing the default keys of those bindings.
    """

    home: MarianneHome
    interval: float = DASHBOARD_INTERVAL
    score: str | None = None
    readonly: bool = False
    collector: CollectorSettings | None = None
    timezone: tzinfo | None = None
    cursor_blink: bool = True
    keymap: Mapping[str, str] | None = None


class MztTopApp(App[None]):
    """A `top` for Marianne: jobs, sheets and their process trees, GPUs, events, anomalies."""

    CSS_PATH = stylesheet_paths("app.tcss", "dashboard.tcss", "processes.tcss", "help.tcss")
    TITLE = "mzt top"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("space", "pause", "Pause", id="app.pause"),
        Binding("space", "resume", "Resume", id="app.resume"),
        Binding("p", "show_processes", "Processes", id="app.processes"),
        Binding("d", "show_dashboard", "Dashboard", id="app.dashboard"),
    ]

    tick_result: var[TickResult | None] = var(None, always_update=True)
    """The tick every screen shows (it stops changing while paused)."""
    paused: reactive[bool] = reactive(False)
    """Whether new ticks are held back instead of shown."""

    def __init__(self, options: TopAppOptions) -> None:
        super().__init__()
        self.options = options
        self.timeline_log = TimelineLog(score=options.score)
        self._latest: TickResult | None = None
        self._last_failure: str | None = None
        if options.keymap:
            self.set_keymap(dict(options.keymap))

    def get_default_screen(self) -> Screen[None]:
        """The dashboard, which also runs the collector."""
        return DashboardScreen(
            DashboardOptions(
                collector=self.options.collector,
                timeline_log=self.timeline_log,
                score=self.options.score,
                timezone=self.options.timezone,
                cursor_blink=self.options.cursor_blink,
            )
        )

    def on_mount(self) -> None:
        """Show where the data comes from."""
        self._show_sub_title()

    def on_tick_collected(self, message: TickCollected) -> None:
        """Record the tick's events; show the tick unless paused."""
        result = message.result
        self.timeline_log.record(result.events, result.anomalies)
        self._latest = result
        if not self.paused:
            self._publish(result)

    def _publish(self, result: TickResult) -> None:
        with self.batch_update():
            self.tick_result = result
            self._show_sub_title()

    def _show_sub_title(self) -> None:
        parts = [str(self.options.home.root)]
        if self.options.collector is not None:
            parts.append(f"every {self.options.interval:g}s")
        if self.tick_result is not None:
            parts.append(format_clock(self.tick_result.snapshot.timestamp, self.options.timezone))
        if self.paused:
            parts.insert(0, "PAUSED")
        self.sub_title = " · ".join(parts)

    def on_collector_failed(self, message: CollectorFailed) -> None:
        """Say once what the collector ran into (it keeps going)."""
        if message.reason != self._last_failure:
            self._last_failure = message.reason
            self.notify(message.reason, title="collector", severity="warning", timeout=8)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Turn a failed worker into a notification instead of a crash."""
        if event.state is WorkerState.ERROR:
            self.notify(
                f"{event.worker.name or 'a worker'} stopped: {event.worker.error}",
                title="error",
                severity="error",
                timeout=15,
            )

    def watch_paused(self, paused: bool) -> None:
        """Show the pause; on resume, show the latest tick."""
        self.set_class(paused, "-paused")
        self._show_sub_title()
        self.refresh_bindings()
        if not paused and self._latest is not None and self._latest is not self.tick_result:
            self._publish(self._latest)

    def action_pause(self) -> None:
        """Stop showing new ticks (they are still collected, and events still recorded)."""
        self.paused = True

    def action_resume(self) -> None:
        """Show ticks again, starting with the latest."""
        self.paused = False

    def action_show_processes(self) -> None:
        """Open the processes screen."""
        if isinstance(self.screen, ProcessesScreen):
            return
        if not self.is_screen_installed("processes"):
            self.install_screen(
                ProcessesScreen(cursor_blink=self.options.cursor_blink), "processes"
            )
        self.push_screen("processes")

    def action_show_dashboard(self) -> None:
        """Go back to the dashboard."""
        if isinstance(self.screen, ProcessesScreen):
            self.pop_screen()

    def action_help(self) -> None:
        """List the keys of the current screen."""
        bindings = self.screen.active_bindings
        display = {key: self.get_key_display(active.binding) for key, active in bindings.items()}
        self.push_screen(HelpScreen(key_help(bindings.items(), display)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only the keys that apply where the user is."""
        if action in _MODAL_BLOCKED and isinstance(self.screen, ModalScreen):
            return False
        if action == "pause":
            return not self.paused
        if action == "resume":
            return self.paused
        if action == "show_processes":
            return not isinstance(self.screen, ProcessesScreen)
        if action == "show_dashboard":
            return isinstance(self.screen, ProcessesScreen)
        return True

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette: our actions, then Textual's own."""
        if isinstance(screen, ProcessesScreen):
            yield SystemCommand(
                "Dashboard", "Gauges, jobs and events (d)", self.action_show_dashboard
            )
        else:
            yield SystemCommand(
                "Processes", "Every process, htop style (p)", self.action_show_processes
            )
        if self.paused:
            yield SystemCommand("Resume", "Show new samples again (space)", self.action_resume)
        else:
            yield SystemCommand("Pause", "Stop showing new samples (space)", self.action_pause)
        yield SystemCommand(
            "Help", "Every key of this screen and what it does (?)", self.action_help
        )
        yield from super().get_system_commands(screen)


def make_app(
    home: MarianneHome | Path | str | None = None,
    *,
    interval: float = DASHBOARD_INTERVAL,
    score: str | None = None,
    readonly: bool = False,
    collect: bool = True,
    engine: MonitorEngine | None = None,
    max_ticks: int | None = None,
    timezone: tzinfo | None = None,
    cursor_blink: bool = True,
    keymap: Mapping[str, str] | None = None,
    anomaly_config: AnomalyConfig | None = None,
) -> MztTopApp:
    """Build the app (the CLI and the tests share this).

    Args:
        home: The Marianne home (a path, or None for `$MARIANNE_HOME` / `~/.marianne`).
        interval: Seconds between ticks.
        score: Show only this job.
        readonly: Refuse anything that acts on processes.
        collect: Run the live collector; tests switch it off and post `TickCollected`.
        engine: The engine the collector ticks (default: a new one over `home`).
        max_ticks: Stop collecting after this many ticks (tests).
        timezone: Zone of the times shown; local time when None.
        cursor_blink: Whether text cursors blink.
        keymap: Binding id (`app.quit`) to keys (`ctrl+q`), from top.toml's `[keys]`.
        anomaly_config: The live collector's anomaly thresholds (default: the conductor's).

    Raises:
        UsageError: A keymap entry names no binding or a key that does not exist.
    """
    resolved = home if isinstance(home, MarianneHome) else resolve_home(home)
    collector = (
        CollectorSettings(
            home=resolved,
            interval=interval,
            max_ticks=max_ticks,
            engine=engine,
            anomaly_config=anomaly_config or AnomalyConfig(),
        )
        if collect
        else None
    )
    return MztTopApp(
        TopAppOptions(
            home=resolved,
            interval=interval,
            score=score,
            readonly=readonly,
            collector=collector,
            timezone=timezone,
            cursor_blink=cursor_blink,
            keymap=checked_keymap(keymap) if keymap else None,
        )
    )
