"""The learning screen: the learning store's execution side.

Statistics, the latest executions, success of error recoveries by hour of day (with the
optimal and avoid hours), the wait learned per error code and the workspace clusters. The
store is read in a thread worker, again every `RELOAD_SECONDS` while the screen is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static

from mzt_tui.headless.learning_view import LearningReport, read_learning_report
from mzt_tui.marianne.paths import MarianneHome
from mzt_tui.models.errors import MztError, NoDataError
from mzt_tui.ui.footer import KeyFooter
from mzt_tui.ui.hour_chart import HourChart, HourChartData, hour_chart_data, legend_text
from mzt_tui.ui.learning_tables import ClusterTable, ExecutionTable, WaitTable, stats_table
from mzt_tui.ui.quiet import QuietHeader

NARROW_WIDTH = 100
RELOAD_SECONDS = 10.0
HOW_TO_GET_DATA = (
    "Executions and error recoveries are recorded by `mzt top --headless --record-outcomes`"
    " while jobs run, and by `mzt demo`."
)


@dataclass
class LearningReportLoaded(Message):
    """The learning store was read (or could not be).

    Attributes:
        report: What was read; None when there is no store or it cannot be read.
        notice: A calm line to show (no store, nothing recorded yet), or None.
        error: One line saying why the store could not be read, or None.
    """

    report: LearningReport | None
    notice: str | None = None
    error: str | None = None


class LearningScreen(Screen[None]):
    """What the learning store learned from sheet outcomes and error recoveries.

    Args:
        home: The Marianne home (its learning store).
        auto_reload: Read the store again every `RELOAD_SECONDS` while shown.
    """

    TITLE = "mzt top · learning"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Reload", id="learning.reload"),
        Binding("escape", "back", "Back", id="learning.back"),
    ]

    narrow: reactive[bool] = reactive(False, init=False)
    """Whether the panels are stacked for a narrow terminal."""

    def __init__(self, home: MarianneHome, *, auto_reload: bool = True) -> None:
        super().__init__(id="learning")
        self.home = home
        self.auto_reload = auto_reload
        self.report: LearningReport | None = None
        self._pending_chart: HourChartData | None = None

    def compose(self) -> ComposeResult:
        """Statistics and the hour chart side by side, then executions, then waits and clusters."""
        yield QuietHeader(show_clock=False)
        yield Static(id="learning-notice")
        with VerticalScroll(id="learning-body"):
            with Horizontal(id="learning-top"):
                yield Static(id="learning-stats")
                with Vertical(id="learning-hours"):
                    yield HourChart(id="hour-chart")
                    yield Static(legend_text(None), id="hour-legend")
            yield ExecutionTable(id="learning-executions")
            with Horizontal(id="learning-bottom"):
                yield WaitTable(id="learning-waits")
                yield ClusterTable(id="learning-clusters")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Title the panels, and read the store again now and then (also read when shown)."""
        self.sub_title = self.home.learning_db.name
        self.narrow = self.app.size.width < NARROW_WIDTH
        self.set_class(self.narrow, "-narrow")
        for selector, title in (
            ("#learning-stats", "statistics"),
            ("#learning-hours", "recovery success by hour of day"),
            ("#learning-executions", "recent executions"),
            ("#learning-waits", "learned wait per error code"),
            ("#learning-clusters", "workspace clusters"),
        ):
            self.query_one(selector).border_title = title
        self.query_one("#learning-notice", Static).display = False
        self.query_one(ExecutionTable).focus()
        if self.auto_reload:
            self.set_interval(RELOAD_SECONDS, self._reload_if_shown)

    @property
    def chart(self) -> HourChart:
        """The hour-of-day chart."""
        return self.query_one(HourChart)

    def _reload_if_shown(self) -> None:
        if self.is_current:
            self.load_report()

    @work(thread=True, exclusive=True, group="learning-load", exit_on_error=False)
    def load_report(self) -> None:
        """Read the learning store (thread worker) and post what was found."""
        path = self.home.learning_db
        try:
            report = read_learning_report(path)
        except NoDataError:
            missing = f"No learning store at {path} yet. {HOW_TO_GET_DATA}"
            self.post_message(LearningReportLoaded(None, notice=missing))
            return
        except MztError as error:
            self.post_message(LearningReportLoaded(None, error=str(error)))
            return
        stats = report.stats
        empty = not stats.total_executions and not stats.total_error_recoveries
        notice = f"Nothing recorded in {path} yet. {HOW_TO_GET_DATA}" if empty else None
        self.post_message(LearningReportLoaded(report, notice=notice))

    def on_learning_report_loaded(self, message: LearningReportLoaded) -> None:
        """Move what was read into the panels (the chart only while visible)."""
        notice = self.query_one("#learning-notice", Static)
        text = message.error or message.notice
        notice.set_class(message.error is not None, "-error")
        notice.update("" if text is None else text)
        notice.display = text is not None
        report = message.report
        if report is None and self.report is not None:
            return  # a passing read error keeps the last figures on screen
        self.report = report
        with self.app.batch_update():
            self._show(report)

    def _show(self, report: LearningReport | None) -> None:
        self.query_one("#learning-body").display = report is not None
        if report is None:
            return
        self._show_stats()
        self.query_one(ExecutionTable).show(report.recent)
        self.query_one(WaitTable).show(report.waits)
        self.query_one(ClusterTable).show(report.clusters)
        data = hour_chart_data(report.hours, report.window)
        self.query_one("#hour-legend", Static).update(legend_text(data))
        if self.is_current:
            self.chart.show(data)
        else:
            self._pending_chart = data

    def _show_stats(self) -> None:
        if self.report is not None:
            table = stats_table(self.report, pairs_per_row=2 if self.narrow else 1)
            self.query_one("#learning-stats", Static).update(table)

    def on_screen_resume(self) -> None:
        """Draw the chart held back while hidden, and read the store again."""
        if self._pending_chart is not None:
            pending, self._pending_chart = self._pending_chart, None
            self.chart.show(pending)
        self.load_report()

    def watch_narrow(self, narrow: bool) -> None:
        """Stack the panels on a narrow terminal, with the statistics two to a line."""
        self.set_class(narrow, "-narrow")
        self._show_stats()

    def on_resize(self, event: events.Resize) -> None:
        """Stack the panels under 100 cells."""
        self.narrow = event.size.width < NARROW_WIDTH

    def action_reload(self) -> None:
        """Read the learning store again."""
        self.load_report()

    def action_back(self) -> None:
        """Go back."""
        self.dismiss()
