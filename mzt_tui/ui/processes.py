"""The processes screen: every process, htop style, sortable and filterable as you type."""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static

from mzt_tui.headless.engine import TickResult
from mzt_tui.ui.filtered_screen import FilteredScreen
from mzt_tui.ui.footer import KeyFooter
from mzt_tui.ui.history import HistoryBar
from mzt_tui.ui.job_tree_model import process_key
from mzt_tui.ui.process_table import ProcessTable, SortOrder
from mzt_tui.ui.quiet import QuietHeader
from mzt_tui.ui.signal_confirm import SignalRequested, process_target

NARROW_WIDTH = 100


class ProcessesScreen(FilteredScreen):
    """Every visible process, attributed to its job and sheet where it has one.

    Args:
        cursor_blink: Whether the filter's cursor blinks.
        timezone: The zone of the history bar's times (local time when None).
    """

    TITLE = "mzt top · processes"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="processes.filter"),
        Binding("s", "cycle_sort", "Sort", id="processes.sort"),
        Binding("S", "reverse_sort", "Reverse", id="processes.sort-reverse"),
        Binding("escape", "back", "Back", id="processes.back"),
        Binding("x", "signal", "Signal", show=False, id="processes.signal"),
    ]
    FILTER_ID = "process-filter"

    order: reactive[SortOrder] = reactive(SortOrder, init=False)
    """The sort order of the rows."""
    narrow: reactive[bool] = reactive(False, init=False)
    """Whether the narrow columns are in use."""

    def __init__(self, *, cursor_blink: bool = True, timezone: tzinfo | None = None) -> None:
        super().__init__(id="processes")
        self.cursor_blink = cursor_blink
        self.timezone = timezone
        self._shown: TickResult | None = None
        self._pending: TickResult | None = None
        self._start_narrow = False

    def compose(self) -> ComposeResult:
        """The filter (hidden until `/`), a status line and the table."""
        self._start_narrow = self.app.size.width < NARROW_WIDTH
        yield QuietHeader(show_clock=False)
        yield Input(
            placeholder="filter by command, PID or job (Enter keeps it, Esc clears it)",
            id="process-filter",
        )
        yield Static(id="process-status")
        yield ProcessTable(narrow=self._start_narrow, order=self.order, id="process-table")
        yield HistoryBar(timezone=self.timezone, id="history-bar")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Follow the app's ticks; start with the filter hidden."""
        self.set_reactive(ProcessesScreen.narrow, self._start_narrow)
        self.set_class(self._start_narrow, "-narrow")
        field = self.query_one("#process-filter", Input)
        field.display = False
        field.cursor_blink = self.cursor_blink
        self.watch(self.app, "tick_result", self._tick_published, init=True)
        self.query_one(ProcessTable).focus()

    @property
    def table(self) -> ProcessTable:
        """The table of processes."""
        return self.query_one(ProcessTable)

    def _tick_published(self, result: TickResult | None) -> None:
        if result is None:
            return
        if self.is_current:
            self._show(result)
        else:
            self._pending = result

    def on_screen_resume(self) -> None:
        """Catch up with the ticks published while the screen was hidden."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            with self.app.batch_update():
                self._show(pending)

    def _show(self, result: TickResult) -> None:
        self._shown = result
        self._refill()

    def _refill(self) -> None:
        result = self._shown
        if result is None:
            self._show_status(0, 0)
            return
        shown = self.table.show(result.all_processes, self.text_filter.strip().lower())
        self._show_status(shown, len(result.all_processes))

    def _show_status(self, shown: int, total: int) -> None:
        text = f"{shown} of {total} processes · sorted by {self.order.label}"
        if self.text_filter:
            text += f" · filter “{self.text_filter}”"
        self.query_one("#process-status", Static).update(text)

    def watch_text_filter(self) -> None:
        """Filter as the user types."""
        self._refill()

    def watch_order(self, order: SortOrder) -> None:
        """Sort the table."""
        self.table.sort_by(order)
        self._show_status(
            self.table.row_count, len(self._shown.all_processes) if self._shown else 0
        )

    async def watch_narrow(self, narrow: bool) -> None:
        """Swap the table for one with the columns that fit, keeping the cursor's row."""
        self.set_class(narrow, "-narrow")
        old = self.table
        cursor_key = old.cursor_key
        had_focus = old.has_focus
        await old.remove()
        table = ProcessTable(narrow=narrow, order=self.order, id="process-table")
        await self.mount(table, after="#process-status")
        self._refill()
        if cursor_key is not None and cursor_key in table.row_keys:
            table.move_cursor(row=table.row_keys.index(cursor_key), animate=False)
        if had_focus:
            table.focus()

    def on_resize(self, event: events.Resize) -> None:
        """Use the narrow columns under 100 cells."""
        self.narrow = event.size.width < NARROW_WIDTH

    def action_cycle_sort(self) -> None:
        """Sort by the next column of the cycle."""
        self.order = self.order.next_in_cycle()

    def action_reverse_sort(self) -> None:
        """Sort the other way."""
        self.order = self.order.reversed()

    @on(DataTable.HeaderSelected, "#process-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        """A click on a heading sorts by it; a second click reverses."""
        column = str(event.column_key.value)
        self.order = (
            self.order.reversed() if column == self.order.column else SortOrder.default_for(column)
        )

    @on(DataTable.RowSelected, "#process-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a job's process opens the job screen; other processes have no view."""
        key = str(event.row_key.value)
        shown = self._shown.all_processes if self._shown is not None else ()
        chosen = next((p for p in shown if process_key(p) == key), None)
        if chosen is not None and chosen.job_id is not None:
            self.call_later(
                self.app.run_action, f"show_job({chosen.job_id!r}, {chosen.sheet_num!r})"
            )
            return
        self.notify("This process belongs to no job: no detail view.", title="Enter", timeout=4)

    def action_signal(self) -> None:
        """Ask the app to signal the process under the cursor (it confirms first)."""
        key = self.table.cursor_key
        target = process_target(self._shown, key) if self._shown and key else None
        reason = "" if target is not None else "Select a process to signal."
        self.post_message(SignalRequested(target, reason))
