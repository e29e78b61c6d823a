"""The patterns screen: learned patterns from global-learning.db, sortable, filterable, detailed.

The store is read in a thread worker, never on the event loop; `c` runs the correlation now
(in a worker too), which writes patterns, so `--readonly` refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static
from textual.worker import Worker, WorkerState

from mzt_tui.analysis.job_patterns import pattern_confidence
from mzt_tui.headless.learning_view import read_patterns
from mzt_tui.marianne.paths import MarianneHome
from mzt_tui.models.errors import MztError, NoDataError
from mzt_tui.models.learning import LearnedPattern
from mzt_tui.ui.filtered_screen import FilteredScreen
from mzt_tui.ui.footer import KeyFooter
from mzt_tui.ui.pattern_details import PatternDetailsScreen
from mzt_tui.ui.pattern_table import PatternSortOrder, PatternTable
from mzt_tui.ui.quiet import QuietHeader

NARROW_WIDTH = 100
HOW_TO_GET_PATTERNS = (
    "Patterns come from the correlation: press c (or run `mzt correlate`) once"
    " `mzt top --headless --record-outcomes` has recorded some sheets; `mzt demo` makes some too."
)


@dataclass
class PatternsLoaded(Message):
    """The learning store was read (or could not be).

    Attributes:
        patterns: The patterns read; empty when there are none or on a problem.
        notice: A calm line to show instead of the table (no store, no patterns), or None.
        error: One line saying why the store could not be read, or None.
    """

    patterns: tuple[LearnedPattern, ...]
    notice: str | None = None
    error: str | None = None


@dataclass
class CorrelationFinished(Message):
    """A correlation run ended.

    Attributes:
        summary: One line saying what it found and stored.
        severity: `warning` when there was nothing to correlate, `error` when it failed or
            not everything was stored.
    """

    summary: str
    severity: SeverityLevel = "information"


class PatternsScreen(FilteredScreen):
    """The learned patterns, one row each, with their details on Enter.

    Args:
        home: The Marianne home (its learning store and monitor.db).
        readonly: Refuse the correlation, which writes patterns.
        cursor_blink: Whether the filter's cursor blinks.
    """

    TITLE = "mzt top · patterns"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="patterns.filter"),
        Binding("s", "cycle_sort", "Sort", id="patterns.sort"),
        Binding("S", "reverse_sort", "Reverse", id="patterns.sort-reverse"),
        Binding("c", "correlate", "Correlate now", id="patterns.correlate"),
        Binding("r", "reload", "Reload", id="patterns.reload"),
        Binding("escape", "back", "Back", id="patterns.back"),
    ]
    FILTER_ID = "pattern-filter"

    order: reactive[PatternSortOrder] = reactive(PatternSortOrder, init=False)
    """The sort order of the rows."""
    narrow: reactive[bool] = reactive(False, init=False)
    """Whether the narrow columns are in use."""
    correlating: reactive[bool] = reactive(False, init=False)
    """Whether a correlation run is under way."""

    def __init__(self, home: MarianneHome, *, readonly: bool, cursor_blink: bool = True) -> None:
        super().__init__(id="patterns")
        self.home = home
        self.readonly = readonly
        self.cursor_blink = cursor_blink
        self.patterns: tuple[LearnedPattern, ...] = ()
        self._by_id: dict[str, LearnedPattern] = {}
        self._start_narrow = False

    def compose(self) -> ComposeResult:
        """The filter (hidden until `/`), a status line, a notice line and the table."""
        self._start_narrow = self.app.size.width < NARROW_WIDTH
        yield QuietHeader(show_clock=False)
        yield Input(
            placeholder="filter by type, finding or tag (Enter keeps it, Esc clears it)",
            id="pattern-filter",
        )
        yield Static(id="patterns-status")
        yield Static(id="patterns-notice")
        yield PatternTable(narrow=self._start_narrow, order=self.order, id="pattern-table")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Start with the filter hidden (the store is read when the screen is shown)."""
        self.set_reactive(PatternsScreen.narrow, self._start_narrow)
        self.set_class(self._start_narrow, "-narrow")
        self.sub_title = self.home.learning_db.name
        field = self.query_one("#pattern-filter", Input)
        field.display = False
        field.cursor_blink = self.cursor_blink
        self.query_one("#patterns-notice", Static).display = False
        self.table.focus()
        self._show_status()

    @property
    def table(self) -> PatternTable:
        """The table of patterns."""
        return self.query_one(PatternTable)

    @work(thread=True, exclusive=True, group="patterns-load", exit_on_error=False)
    def load_patterns(self) -> None:
        """Read the learning store (thread worker) and post what was found."""
        path = self.home.learning_db
        try:
            patterns = read_patterns(path)
        except NoDataError:
            self.post_message(
                PatternsLoaded((), notice=f"No learning store at {path} yet. {HOW_TO_GET_PATTERNS}")
            )
            return
        except MztError as error:
            self.post_message(PatternsLoaded((), error=str(error)))
            return
        notice = None if patterns else f"No learned patterns in {path} yet. {HOW_TO_GET_PATTERNS}"
        self.post_message(PatternsLoaded(tuple(patterns), notice=notice))

    def on_patterns_loaded(self, message: PatternsLoaded) -> None:
        """Show the patterns, or the line that says why there are none."""
        self.patterns = message.patterns
        self._by_id = {pattern.id: pattern for pattern in message.patterns}
        notice = self.query_one("#patterns-notice", Static)
        text = message.error or message.notice
        notice.set_class(message.error is not None, "-error")
        notice.update("" if text is None else text)
        notice.display = text is not None
        with self.app.batch_update():
            self._refill()

    def _refill(self) -> None:
        shown = self.table.show(self.patterns, self.text_filter.strip().lower())
        self._show_status(shown)

    def _show_status(self, shown: int | None = None) -> None:
        count = self.table.row_count if shown is None else shown
        text = f"{count} of {len(self.patterns)} patterns · sorted by {self.order.label}"
        if self.text_filter:
            text += f" · filter “{self.text_filter}”"
        if any(not pattern_confidence(pattern)[1] for pattern in self.patterns):
            text += " · * = effectiveness (untested)"
        if self.correlating:
            text += " · correlating…"
        self.query_one("#patterns-status", Static).update(text)

    def watch_text_filter(self) -> None:
        """Filter as the user types."""
        self._refill()

    def watch_order(self, order: PatternSortOrder) -> None:
        """Sort the table."""
        self.table.sort_by(order)
        self._show_status()

    def watch_correlating(self) -> None:
        """Say in the status line that a correlation runs."""
        self._show_status()

    async def watch_narrow(self, narrow: bool) -> None:
        """Swap the table for one with the columns that fit, keeping the cursor's row."""
        self.set_class(narrow, "-narrow")
        old = self.table
        cursor_key = old.cursor_key
        had_focus = old.has_focus
        await old.remove()
        table = PatternTable(narrow=narrow, order=self.order, id="pattern-table")
        await self.mount(table, after="#patterns-notice")
        self._refill()
        if cursor_key is not None and cursor_key in table.row_keys:
            table.move_cursor(row=table.row_keys.index(cursor_key), animate=False)
        if had_focus:
            table.focus()

    def on_resize(self, event: events.Resize) -> None:
        """Use the narrow columns under 100 cells."""
        self.narrow = event.size.width < NARROW_WIDTH

    def on_screen_resume(self) -> None:
        """Read the store each time the screen is shown."""
        self.load_patterns()

    def action_cycle_sort(self) -> None:
        """Sort by the next column of the cycle."""
        self.order = self.order.next_in_cycle()

    def action_reverse_sort(self) -> None:
        """Sort the other way."""
        self.order = self.order.reversed()

    def action_reload(self) -> None:
        """Read the learning store again."""
        self.load_patterns()

    @on(DataTable.HeaderSelected, "#pattern-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        """A click on a heading sorts by it; a second click reverses."""
        column = str(event.column_key.value)
        self.order = (
            self.order.reversed()
            if column == self.order.column
            else PatternSortOrder.default_for(column)
        )

    @on(DataTable.RowSelected, "#pattern-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        pattern = self._by_id.get(str(event.row_key.value))
        if pattern is not None:
            self.app.push_screen(PatternDetailsScreen(pattern))

    def action_correlate(self) -> None:
        """Run the correlation now, unless read-only (it writes patterns) or already running."""
        if self.readonly:
            self.notify(
                "Read-only: the correlation writes patterns to global-learning.db, so it was"
                " not run (start without --readonly to run it).",
                title="correlate",
                severity="warning",
                timeout=8,
            )
            return
        if self.correlating:
            self.notify("A correlation is already running.", title="correlate", timeout=4)
            return
        self.correlating = True
        self.run_correlation_now()

    @work(thread=True, exclusive=True, group="patterns-correlate", exit_on_error=False)
    def run_correlation_now(self) -> None:
        """Run one correlation over monitor.db (thread worker) and post what it did."""
        from mzt_tui.headless.correlate import run_correlation  # scipy loads on first use
        from mzt_tui.models.config import CorrelationConfig

        try:
            report = run_correlation(self.home, self.home.monitor_db, CorrelationConfig())
        except NoDataError as error:
            self.post_message(CorrelationFinished(f"nothing to correlate: {error}", "warning"))
            return
        except MztError as error:
            self.post_message(CorrelationFinished(f"correlation failed: {error}", "error"))
            return
        if report.skipped_reason is not None:
            summary = (
                f"{report.runs_used} of {report.runs_total} runs with a known outcome:"
                f" {report.skipped_reason}. Nothing stored."
            )
        else:
            summary = (
                f"{report.runs_used} runs, {report.tests_run} tests, {len(report.findings)}"
                f" findings: {report.patterns_written} patterns written,"
                f" {report.patterns_updated} updated,"
                f" {report.patterns_deactivated} marked inactive."
            )
        if report.error is not None:
            self.post_message(CorrelationFinished(f"{summary} {report.error}", "error"))
            return
        if report.repairs is not None:
            self.post_message(CorrelationFinished(f"{summary} {report.repairs}", "warning"))
            return
        self.post_message(CorrelationFinished(summary))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A correlation worker that crashed or was cancelled is no longer running."""
        if event.worker.group == "patterns-correlate" and event.state in (
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self.correlating = False

    def on_correlation_finished(self, message: CorrelationFinished) -> None:
        """Say what the run did and show the patterns as they are now."""
        self.correlating = False
        self.notify(
            message.summary,
            title="correlate",
            severity=message.severity,
            timeout=10,
        )
        self.load_patterns()
