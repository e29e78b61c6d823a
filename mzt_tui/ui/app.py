"""`mzt top`'s interactive app: the dashboard and processes screens, keys, pause, help.

`make_app` builds it for the CLI and for tests (which switch the live collector off and post
`TickCollected` messages themselves).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive, var
from textual.screen import ModalScreen, Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from mzt_tui.headless.engine import MonitorEngine, TickResult
from mzt_tui.headless.history import RECORD_HINT, open_history
from mzt_tui.marianne.paths import MarianneHome, resolve_home
from mzt_tui.models.config import AnomalyConfig
from mzt_tui.models.errors import MztError
from mzt_tui.ui.collector import CollectorSettings
from mzt_tui.ui.dashboard import DashboardOptions, DashboardScreen
from mzt_tui.ui.formatting import format_clock
from mzt_tui.ui.help import HelpScreen, key_help
from mzt_tui.ui.history import (
    HistoryFrameLoaded,
    HistoryOpened,
    HistoryPlayer,
    HistoryPosition,
    SeekScreen,
)
from mzt_tui.ui.job_series import JobSeriesBuffer
from mzt_tui.ui.keymap import checked_keymap
from mzt_tui.ui.messages import CollectorFailed, TickCollected
from mzt_tui.ui.processes import ProcessesScreen
from mzt_tui.ui.signal_confirm import SignalRequested, confirm_and_signal
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
_LAZY_SCREENS = {
    "patterns": ("mzt_tui.ui.patterns", "PatternsScreen"),
    "learning": ("mzt_tui.ui.learning_screen", "LearningScreen"),
    "job": ("mzt_tui.ui.job_screen", "JobScreen"),
}
"""Screens imported when first opened (their charts and tables would slow the first frame)."""
_SUB_SCREENS = ("processes", "patterns", "learning")
"""Screens opened from the dashboard, switched in place of one another."""
_AWAY_FROM_DASHBOARD = (*_SUB_SCREENS, "job")
"""Screens from which `d` goes back to the dashboard."""


def lazy_screen_modules() -> tuple[str, ...]:
    """The modules of the screens loaded when first opened (the keymap check loads them)."""
    return tuple(module for module, _ in _LAZY_SCREENS.values())


def _is_screen(screen: object, *kinds: str) -> bool:
    """Whether `screen` is one of `kinds` (a screen whose module is not loaded is none)."""
    for kind in kinds:
        if kind == "processes":
            if isinstance(screen, ProcessesScreen):
                return True
            continue
        module, name = _LAZY_SCREENS[kind]
        loaded = sys.modules.get(module)
        if loaded is not None and isinstance(screen, getattr(loaded, name)):
            return True
    return False


HISTORY_WINDOW = 3600.0
"""Seconds of monitor.db that `h` opens."""
_HISTORY_ACTIONS = frozenset(
    {"history_play", "history_step", "history_seek", "history_jump", "history_speed"}
)


@dataclass(frozen=True)
class TopAppOptions:
    """How the app runs.

    Attributes:
        home: The Marianne home whose jobs are shown.
        interval: Seconds between ticks.
        score: Show only this job.
        readonly: Refuse anything that acts on processes (`x`).
        collector: The live collector; None when ticks are injected (tests).
        timezone: Zone of the times shown; local time when None.
        cursor_blink: Whether text cursors blink (off in snapshot tests).
        history_db: The monitor.db that history reads (default: the home's).
        history_seconds: Open in history over the last this many seconds (`--history`).
        clock: The current time (history windows and seeks; tests fix it).
        keymap: Binding id to keys, replacing the default keys of those bindings.
    """

    home: MarianneHome
    interval: float = DASHBOARD_INTERVAL
    score: str | None = None
    readonly: bool = False
    collector: CollectorSettings | None = None
    timezone: tzinfo | None = None
    cursor_blink: bool = True
    history_db: Path | None = None
    history_seconds: float | None = None
    clock: Callable[[], float] = time.time
    keymap: Mapping[str, str] | None = None


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
        Binding("h", "history", "History", id="app.history", priority=True),
        Binding("space", "history_play", "Play", id="history.play", priority=True),
        Binding("left,comma", "history_step(-1)", "Back", id="history.back", priority=True),
        Binding("right,full_stop", "history_step(1)", "Fwd", id="history.forward", priority=True),
        Binding("g", "history_seek", "Go to", id="history.seek", priority=True),
        Binding("n", "history_jump(1)", "Next event", id="history.next", priority=True),
        Binding("N", "history_jump(-1)", "Prev event", id="history.previous", priority=True),
        Binding("plus", "history_speed(1)", "Faster", show=False, id="history.faster"),
        Binding("minus", "history_speed(-1)", "Slower", show=False, id="history.slower"),
        Binding("escape,h", "leave_history", "Live", id="history.leave", priority=True),
    ]

    tick_result: var[TickResult | None] = var(None, always_update=True)
    """The tick every screen shows (it stops changing while paused)."""
    paused: reactive[bool] = reactive(False)
    """Whether new ticks are held back instead of shown."""
    history_position: var[HistoryPosition | None] = var(None)
    """Where history playback stands; None in live mode."""

    def __init__(self, options: TopAppOptions) -> None:
        super().__init__()
        self.options = options
        self.timeline_log = TimelineLog(score=options.score)
        self.job_series = JobSeriesBuffer()
        self._latest: TickResult | None = None
        self._last_failure: str | None = None
        self._player: HistoryPlayer | None = None
        self._live_log: TimelineLog | None = None
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
        """Show where the data comes from; open history when asked to start there."""
        self._show_sub_title()
        if self.options.history_seconds is not None:
            self._open_history(self.options.history_seconds, from_live=False)

    def on_tick_collected(self, message: TickCollected) -> None:
        """Record the tick's events; show the tick unless paused or showing history."""
        result = message.result
        live_log = self._live_log if self._live_log is not None else self.timeline_log
        live_log.record(result.events, result.anomalies)
        self.job_series.record(result)
        self._latest = result
        if not self.paused and self._player is None:
            self._publish(result)

    def _publish(self, result: TickResult) -> None:
        with self.batch_update():
            self.tick_result = result
            self._show_sub_title()

    def _show_sub_title(self) -> None:
        position = self.history_position
        if position is not None:
            clock = format_clock(position.timestamp, self.options.timezone)
            where = self.options.home.root
            self.sub_title = f"HISTORY · {clock} · {position.index + 1}/{position.count} · {where}"
            return
        # The sample's time is on the gauges' monitor line: a sub-title that changed every
        # tick would repaint the whole screen every tick.
        parts = [str(self.options.home.root)]
        if self.options.collector is not None:
            parts.append(f"every {self.options.interval:g}s")
        if self.paused:
            shown = self.tick_result
            when = format_clock(shown.snapshot.timestamp, self.options.timezone) if shown else ""
            parts.insert(0, f"PAUSED at {when}" if when else "PAUSED")
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
                ProcessesScreen(
                    cursor_blink=self.options.cursor_blink, timezone=self.options.timezone
                ),
                "processes",
            )
        self._open_sub_screen("processes")

    def action_show_patterns(self) -> None:
        """Open the learned patterns."""
        if _is_screen(self.screen, "patterns"):
            return
        if not self.is_screen_installed("patterns"):
            from mzt_tui.ui.patterns import PatternsScreen

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
        if _is_screen(self.screen, "learning"):
            return
        if not self.is_screen_installed("learning"):
            from mzt_tui.ui.learning_screen import LearningScreen

            self.install_screen(LearningScreen(self.options.home), "learning")
        self._open_sub_screen("learning")

    def _open_sub_screen(self, name: str) -> None:
        """Show a screen over the dashboard, in place of another one shown over it."""
        if _is_screen(self.screen, *_SUB_SCREENS):
            self.switch_screen(name)
        else:
            self.push_screen(name)

    def action_show_dashboard(self) -> None:
        """Go back to the dashboard."""
        while _is_screen(self.screen, *_AWAY_FROM_DASHBOARD):
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
        from mzt_tui.ui.job_screen import JobScreen, JobScreenOptions

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
        if action in _HISTORY_ACTIONS or action in ("history", "leave_history"):
            return self._check_history_action(action)
        if action == "pause":
            return not self.paused and self._player is None
        if action == "resume":
            return self.paused and self._player is None
        if action == "show_processes":
            return not isinstance(self.screen, ProcessesScreen)
        if action == "show_patterns":
            return not _is_screen(self.screen, "patterns")
        if action == "show_learning":
            return not _is_screen(self.screen, "learning")
        if action == "show_dashboard":
            return _is_screen(self.screen, *_AWAY_FROM_DASHBOARD)
        return True

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette: our actions, every other key of the screen, Textual's own."""
        ours = [*self._screen_commands(screen), *self._learning_commands(screen)]
        yield from ours
        yield from self._binding_commands(screen, {command.title for command in ours})
        yield from super().get_system_commands(screen)

    def _screen_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette's entries for moving between screens, pausing and help."""
        if _is_screen(screen, *_AWAY_FROM_DASHBOARD):
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

    def _binding_commands(
        self, screen: Screen[object], listed: set[str]
    ) -> Iterable[SystemCommand]:
        """Every other key that applies on `screen` (filter, sort, signal, history ...)."""
        seen = set(listed)
        for key, active in screen.active_bindings.items():
            binding = active.binding
            title = binding.description
            if not title or title in seen or not active.enabled:
                continue
            seen.add(title)
            node, action = active.node, binding.action
            help_text = binding.tooltip or title
            yield SystemCommand(
                title,
                f"{help_text} ({self.get_key_display(binding) or key})",
                partial(self.call_later, self.run_action, action, node),
            )

    def _learning_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette's entries for the patterns and learning screens and their actions."""
        if not _is_screen(screen, "patterns"):
            yield SystemCommand(
                "Patterns",
                "Learned patterns from global-learning.db (t)",
                self.action_show_patterns,
            )
        else:
            from mzt_tui.ui.patterns import PatternsScreen  # loaded: it is on screen

            assert isinstance(screen, PatternsScreen)
            yield SystemCommand(
                "Correlate now",
                "Find which resource figures go with failed sheets, store them as patterns (c)",
                screen.action_correlate,
            )
            yield SystemCommand(
                "Reload patterns", "Read the learning store again (r)", screen.action_reload
            )
        if not _is_screen(screen, "learning"):
            yield SystemCommand(
                "Learning",
                "Executions, success by hour, learned waits, clusters (l)",
                self.action_show_learning,
            )
        else:
            from mzt_tui.ui.learning_screen import LearningScreen  # loaded: it is on screen

            assert isinstance(screen, LearningScreen)
            yield SystemCommand(
                "Reload learning", "Read the learning store again (r)", screen.action_reload
            )

    # -- history ------------------------------------------------------------------------------

    def _check_history_action(self, action: str) -> bool:
        """History keys work in history; `h` opens it from live; none while typing or in a box."""
        if isinstance(self.screen, ModalScreen) or isinstance(self.focused, Input):
            return False
        if action == "history":
            return self._player is None and self.options.history_seconds is None
        if action == "leave_history":
            return self._player is not None and self._player.from_live
        return self._player is not None

    def action_history(self) -> None:
        """Open the last hour of monitor.db (live collection keeps running behind it)."""
        self._open_history(HISTORY_WINDOW, from_live=True)

    @work(thread=True, exclusive=True, group="history-open", exit_on_error=False, name="history")
    def _open_history(self, seconds: float, *, from_live: bool) -> None:
        """Open the recorded window in a thread; post it, or say why there is none."""
        home = self.options.home
        try:
            source = open_history(
                self.options.history_db or home.monitor_db,
                seconds,
                self.options.clock(),
                registry_db=home.registry_db,
            )
        except MztError as error:
            reason = str(error)
            text = reason if RECORD_HINT in reason else f"{reason}; {RECORD_HINT}"
            self.call_from_thread(
                self.notify, f"No history: {text}", title="history", severity="warning"
            )
            return
        self.post_message(HistoryOpened(source, from_live))

    def on_history_opened(self, message: HistoryOpened) -> None:
        """Switch to history: the newest snapshot from live, the oldest for `--history`."""
        player = HistoryPlayer(
            self,
            message.source,
            from_live=message.from_live,
            clock=self.options.clock,
            timezone=self.options.timezone,
        )
        if self._player is not None:
            player.stop()
            return
        self._player = player
        self._live_log = self.timeline_log.copy()
        player.go_to(player.target)
        self.refresh_bindings()

    def on_history_frame_loaded(self, message: HistoryFrameLoaded) -> None:
        """Show the recorded tick, its timeline and where playback stands."""
        player = self._player
        if player is None or message.source is not player.source:
            return
        frame = message.frame
        self.timeline_log.reset(frame.recent_events, frame.recent_anomalies)
        repairs = player.repairs_to_tell(frame)
        if repairs is not None:
            self.notify(repairs, title="history", severity="warning", timeout=10)
        self._tell(player.shown(frame))
        self.history_position = player.position()
        self._publish(frame.tick)

    def _tell(self, note: str | None, *, error: bool = False) -> None:
        if note is not None:
            self.notify(
                note, title="history", severity="error" if error else "information", timeout=4
            )
        if self._player is not None:
            self.history_position = self._player.position()

    def action_history_play(self) -> None:
        """Play the recording at its own pace (times the speed), or pause it."""
        if self._player is not None:
            self._tell(self._player.toggle_play())

    def action_history_step(self, delta: int) -> None:
        """Show the previous or next snapshot (playback pauses)."""
        if self._player is not None:
            self._tell(self._player.step(delta))

    def action_history_jump(self, direction: int) -> None:
        """Go to the next (1) or previous (-1) snapshot with a new event or anomaly."""
        if self._player is not None:
            self._tell(self._player.jump(direction))

    def action_history_speed(self, step: int) -> None:
        """Play faster (1) or slower (-1)."""
        if self._player is not None:
            self._player.change_speed(step)
            self._tell(None)

    def action_history_seek(self) -> None:
        """Ask for a time and go there."""
        player = self._player
        if player is None:
            return
        hint = f"recorded {player.window_text()} ({player.source.count} snapshots)"

        def seek(text: str | None) -> None:
            if text and text.strip() and self._player is player:
                self._tell(player.seek(text), error=True)

        self.push_screen(SeekScreen(hint, cursor_blink=self.options.cursor_blink), seek)

    def action_leave_history(self) -> None:
        """Back to live: the latest live tick, and the events recorded meanwhile."""
        player = self._player
        if player is None or not player.from_live:
            return
        player.stop()
        self._player = None
        if self._live_log is not None:
            self.timeline_log.replace_with(self._live_log)
            self._live_log = None
        self.history_position = None
        if self._latest is not None:
            self._publish(self._latest)
        self.refresh_bindings()

    def watch_history_position(self) -> None:
        """Keep the sub-title with the position."""
        self._show_sub_title()

    # -- signals ------------------------------------------------------------------------------

    def on_signal_requested(self, message: SignalRequested) -> None:
        """`x`: refuse when read-only or in history, else confirm with the live processes."""
        if self.options.readonly:
            refusal = "Read-only (--readonly): nothing is signalled."
        elif self._player is not None:
            refusal = "History shows recorded processes: go live (Esc) to signal one."
        elif message.target is None:
            refusal = message.reason
        else:
            confirm_and_signal(self, message.target, timezone=self.options.timezone)
            return
        self.notify(refusal, title="signal", severity="warning")


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
    history: float | None = None,
    history_db: Path | None = None,
    clock: Callable[[], float] = time.time,
    record_db: Path | None = None,
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
        history: Open in history over the last this many seconds (no collector then).
        history_db: The monitor.db history reads (default: the home's).
        clock: The current time (history windows and seeks).
        record_db: Also record the live ticks into this monitor.db (the demo).
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
            record_db=record_db,
            anomaly_config=anomaly_config or AnomalyConfig(),
        )
        if collect and history is None
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
            history_db=history_db,
            history_seconds=history,
            clock=clock,
            keymap=checked_keymap(keymap) if keymap else None,
        )
    )
