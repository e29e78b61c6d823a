"""`mzt top`'s interactive app: the dashboard and processes screens, keys, pause, help.

`make_app` builds it for the CLI and for tests (which switch the live collector off and post
`TickCollected` messages themselves).
"""

from __future__ import annotations

from collections.abc import Iterable
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
from mzt_tui.ui.collector import CollectorSettings
from mzt_tui.ui.dashboard import DashboardOptions, DashboardScreen
from mzt_tui.ui.formatting import format_clock
from mzt_tui.ui.help import HelpScreen, key_help
from mzt_tui.ui.job_screen import JobScreen, JobScreenOptions
from mzt_tui.ui.job_series import JobSeriesBuffer
from mzt_tui.ui.learning_screen import LearningScreen
from mzt_tui.ui.messages import CollectorFailed, TickCollected
from mzt_tui.ui.patterns import PatternsScreen
from mzt_tui.ui.processes import ProcessesScreen
from mzt_tui.ui.styles import stylesheet_paths
from mzt_tui.ui.timeline_log import TimelineLog

DASHBOARD_INTERVAL = 2.0
"""Seconds between ticks when `--interval` is not given (a `top` refreshes often)."""
_MODAL_BLOCKED = frozenset(
    {
        "show_processes",
        "show_patterns",
        "show_learning",
        "show_dashboard",
        "show_job",
        "help",
        "pause",
        "resume",
    }
)
_SUB_SCREENS = (ProcessesScreen, PatternsScreen, LearningScreen)
"""Screens opened from the dashboard, switched in place of one another."""
_AWAY_FROM_DASHBOARD = (*_SUB_SCREENS, JobScreen)
"""Screens from which `d` goes back to the dashboard."""


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
    """

    home: MarianneHome
    interval: float = DASHBOARD_INTERVAL
    score: str | None = None
    readonly: bool = False
    collector: CollectorSettings | None = None
    timezone: tzinfo | None = None
    cursor_blink: bool = True


class MztTopApp(App[None]):
    """A `top` for Marianne: jobs, sheets and their process trees, GPUs, events, anomalies."""

    CSS_PATH = stylesheet_paths(
        "app.tcss",
        "dashboard.tcss",
        "processes.tcss",
        "help.tcss",
        "job.tcss",
        "patterns.tcss",
        "learning.tcss",
    )
    TITLE = "mzt top"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("space", "pause", "Pause", id="app.pause"),
        Binding("space", "resume", "Resume", id="app.resume"),
        Binding("p", "show_processes", "Processes", id="app.processes"),
        Binding("d", "show_dashboard", "Dashboard", id="app.dashboard"),
        Binding("t", "show_patterns", "Patterns", id="app.patterns"),
        Binding("l", "show_learning", "Learning", id="app.learning"),
    ]

    tick_result: var[TickResult | None] = var(None, always_update=True)
    """The tick every screen shows (it stops changing while paused)."""
    paused: reactive[bool] = reactive(False)
    """Whether new ticks are held back instead of shown."""

    def __init__(self, options: TopAppOptions) -> None:
        super().__init__()
        self.options = options
        self.timeline_log = TimelineLog(score=options.score)
        self.job_series = JobSeriesBuffer()
        self._latest: TickResult | None = None
        self._last_failure: str | None = None

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
        self.job_series.record(result)
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
        self._open_sub_screen("processes")

    def action_show_patterns(self) -> None:
        """Open the learned patterns."""
        if isinstance(self.screen, PatternsScreen):
            return
        if not self.is_screen_installed("patterns"):
            self.install_screen(
                PatternsScreen(
                    self.options.home,
                    readonly=self.options.readonly,
                    cursor_blink=self.options.cursor_blink,
                ),
                "patterns",
            )
        self._open_sub_screen("patterns")

    def action_show_learning(self) -> None:
        """Open the learning store's execution side."""
        if isinstance(self.screen, LearningScreen):
            return
        if not self.is_screen_installed("learning"):
            self.install_screen(LearningScreen(self.options.home), "learning")
        self._open_sub_screen("learning")

    def _open_sub_screen(self, name: str) -> None:
        """Show a screen over the dashboard, in place of another one shown over it."""
        if isinstance(self.screen, _SUB_SCREENS):
            self.switch_screen(name)
        else:
            self.push_screen(name)

    def action_show_dashboard(self) -> None:
        """Go back to the dashboard."""
        while isinstance(self.screen, _AWAY_FROM_DASHBOARD):
            self.pop_screen()

    def on_dashboard_screen_job_chosen(self, message: DashboardScreen.JobChosen) -> None:
        """Enter on a job, a sheet or a job's process: open the job screen."""
        self.action_show_job(message.job_id, message.sheet_num)

    def action_show_job(self, job_id: str | None = None, sheet_num: int | None = None) -> None:
        """Open the job screen on `job_id` (default: the job under the dashboard's cursor)."""
        if job_id is None:
            job_id = self._job_under_cursor()
            if job_id is None:
                self.notify("No job to show.", title="Job", timeout=4)
                return
        if not self.is_screen_installed("job"):
            options = JobScreenOptions(
                home=self.options.home,
                series=self.job_series,
                timeline_log=self.timeline_log,
                score=self.options.score,
                timezone=self.options.timezone,
            )
            self.install_screen(JobScreen(options), "job")
        screen = self.get_screen("job", JobScreen)
        if not isinstance(self.screen, JobScreen):
            self.push_screen(screen)
        screen.open_job(job_id, sheet_num)

    def _job_under_cursor(self) -> str | None:
        dashboard = next((s for s in self.screen_stack if isinstance(s, DashboardScreen)), None)
        return dashboard.chosen_job() if dashboard is not None else None

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
        if action == "show_patterns":
            return not isinstance(self.screen, PatternsScreen)
        if action == "show_learning":
            return not isinstance(self.screen, LearningScreen)
        if action == "show_dashboard":
            return isinstance(self.screen, _AWAY_FROM_DASHBOARD)
        return True

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette: our actions, then Textual's own."""
        if isinstance(screen, _AWAY_FROM_DASHBOARD):
            yield SystemCommand(
                "Dashboard", "Gauges, jobs and events (d)", self.action_show_dashboard
            )
        if not isinstance(screen, ProcessesScreen):
            yield SystemCommand(
                "Processes", "Every process, htop style (p)", self.action_show_processes
            )
        if isinstance(screen, DashboardScreen):
            yield SystemCommand(
                "Job",
                "Charts and details of the job under the cursor (Enter)",
                self.action_show_job,
            )
        if self.paused:
            yield SystemCommand("Resume", "Show new samples again (space)", self.action_resume)
        else:
            yield SystemCommand("Pause", "Stop showing new samples (space)", self.action_pause)
        yield SystemCommand(
            "Help", "Every key of this screen and what it does (?)", self.action_help
        )
        yield from self._learning_commands(screen)
        yield from super().get_system_commands(screen)

    def _learning_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette's entries for the patterns and learning screens and their actions."""
        if not isinstance(screen, PatternsScreen):
            yield SystemCommand(
                "Patterns",
                "Learned patterns from global-learning.db (t)",
                self.action_show_patterns,
            )
        else:
            yield SystemCommand(
                "Correlate now",
                "Find which resource figures go with failed sheets, store them as patterns (c)",
                screen.action_correlate,
            )
            yield SystemCommand(
                "Reload patterns", "Read the learning store again (r)", screen.action_reload
            )
        if not isinstance(screen, LearningScreen):
            yield SystemCommand(
                "Learning",
                "Executions, success by hour, learned waits, clusters (l)",
                self.action_show_learning,
            )
        else:
            yield SystemCommand(
                "Reload learning", "Read the learning store again (r)", screen.action_reload
            )


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
    """
    resolved = home if isinstance(home, MarianneHome) else resolve_home(home)
    collector = (
        CollectorSettings(home=resolved, interval=interval, max_ticks=max_ticks, engine=engine)
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
        )
    )
