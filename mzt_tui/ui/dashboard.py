"""The dashboard screen: gauges, the job tree and the timeline; it runs the live collector.

The collector runs in this screen's thread worker and posts `TickCollected` to it; the message
bubbles to the app, which records events and publishes the tick. The screen shows a tick only
while it is the current screen (it catches up when it comes back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive, var
from textual.screen import Screen
from textual.widgets import Input, Static, Tree
from textual.widgets.tree import TreeNode
from textual.worker import Worker, get_current_worker

from mzt_tui.headless.engine import TickResult
from mzt_tui.ui.collector import CollectorSettings, collect
from mzt_tui.ui.conductor_line import ConductorLine
from mzt_tui.ui.footer import KeyFooter
from mzt_tui.ui.gpu_gauges import GpuGauges
from mzt_tui.ui.history import HistoryBar
from mzt_tui.ui.job_tree import JobTree
from mzt_tui.ui.job_tree_model import NodeRef, build_job_tree
from mzt_tui.ui.quiet import QuietHeader
from mzt_tui.ui.signal_confirm import SignalRequested, process_target, sheet_target
from mzt_tui.ui.system_gauges import SystemGauges
from mzt_tui.ui.timeline import Timeline
from mzt_tui.ui.timeline_log import TimelineLog

NARROW_WIDTH = 100
"""Terminals narrower than this get the narrow layout (no per-core bars, no timeline)."""


@dataclass(frozen=True)
class DashboardOptions:
    """What the dashboard shows and how.

    Attributes:
        collector: The live collector's settings; None leaves it off (ticks are injected).
        timeline_log: The events and anomalies the timeline shows.
        score: Show only this job.
        timezone: Zone of the times shown (local time when None).
        cursor_blink: Whether the filter's cursor blinks.
    """

    collector: CollectorSettings | None
    timeline_log: TimelineLog
    score: str | None = None
    timezone: tzinfo | None = None
    cursor_blink: bool = True


class DashboardScreen(Screen[None]):
    """System and GPU gauges, the job tree and the event timeline."""

    TITLE = "mzt top · dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="dashboard.filter"),
        Binding("escape", "back", "Clear filter", id="dashboard.back"),
        Binding("x", "signal", "Signal", show=False, id="dashboard.signal"),
    ]

    result: var[TickResult | None] = var(None, always_update=True)
    """The tick shown now."""
    text_filter: reactive[str] = reactive("")
    """Keep only jobs and processes containing this text."""
    narrow: reactive[bool] = reactive(False)
    """Whether the narrow layout is in use."""

    @dataclass
    class JobChosen(Message):
        """Enter on a job, a sheet or a job's process: show that job (and sheet)."""

        job_id: str
        sheet_num: int | None = None

    def __init__(self, options: DashboardOptions) -> None:
        super().__init__(id="dashboard")
        self.options = options
        self._pending: TickResult | None = None

    def compose(self) -> ComposeResult:
        """Gauges on top, then the conductor line, the job tree and the timeline."""
        yield QuietHeader(show_clock=False)
        with Horizontal(id="gauges"):
            yield SystemGauges(id="system-gauges", timezone=self.options.timezone).data_bind(
                DashboardScreen.result
            )
            yield GpuGauges(id="gpu-gauges").data_bind(DashboardScreen.result)
        yield ConductorLine(id="conductor-line").data_bind(DashboardScreen.result)
        yield Static(id="tree-header")
        yield JobTree(id="job-tree")
        yield Timeline(self.options.timeline_log, timezone=self.options.timezone, id="timeline")
        yield Input(
            placeholder="filter jobs and processes (Enter keeps it, Esc clears it)",
            id="tree-filter",
        )
        yield HistoryBar(timezone=self.options.timezone, id="history-bar")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Follow the app's ticks, focus the tree, and start collecting."""
        self.watch(self.app, "tick_result", self._tick_published, init=True)
        self.query_one("#timeline", Timeline).border_title = "events and anomalies"
        field = self.query_one("#tree-filter", Input)
        field.display = False
        field.cursor_blink = self.options.cursor_blink
        self._show_header()
        tree = self.query_one(JobTree)
        tree.auto_expand = False  # Enter opens a job; the arrows and a click on ▶ expand
        tree.focus()
        if self.options.collector is not None:
            self.run_collector()

    @work(thread=True, exclusive=True, group="collect", exit_on_error=False, name="collector")
    def run_collector(self) -> None:
        """Tick until the worker is cancelled; only posts messages."""
        settings = self.options.collector
        assert settings is not None
        collect(settings, self.post_message, get_current_worker().cancelled_event)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker messages do not bubble: pass them to the app, which reports failures."""
        self.app.post_message(Worker.StateChanged(event.worker, event.state))

    def _tick_published(self, result: TickResult | None) -> None:
        if result is None:
            return
        if self.is_current:
            self.result = result
        else:
            self._pending = result

    def on_screen_resume(self) -> None:
        """Catch up with the ticks published while another screen was shown."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            with self.app.batch_update():
                self.result = pending

    def watch_result(self, result: TickResult | None) -> None:
        """Move the tick into the tree and the timeline (the gauges are data-bound)."""
        if result is None:
            return
        self._sync_tree(result)
        self.query_one("#timeline", Timeline).refresh_entries()

    def watch_text_filter(self) -> None:
        """Filter the tree as the user types."""
        if self.result is not None:
            self._sync_tree(self.result)

    def _sync_tree(self, result: TickResult) -> None:
        rows = build_job_tree(result, score=self.options.score, text_filter=self.text_filter)
        self.query_one(JobTree).sync(rows)

    def on_resize(self, event: events.Resize) -> None:
        """Switch between the wide and the narrow layout."""
        self.narrow = event.size.width < NARROW_WIDTH

    def watch_narrow(self, narrow: bool) -> None:
        """Hide what does not fit, and give the tree its narrow columns."""
        self.set_class(narrow, "-narrow")
        self.query_one(JobTree).narrow = narrow
        self.query_one(GpuGauges).narrow = narrow
        self._show_header()

    def on_job_tree_columns_changed(self) -> None:
        """Realign the column headings with the tree."""
        self._show_header()

    def _show_header(self) -> None:
        self.query_one("#tree-header", Static).update(self.query_one(JobTree).header_text())

    @on(Tree.NodeSelected, "#job-tree")
    def _node_selected(self, event: Tree.NodeSelected[NodeRef]) -> None:
        """Enter on a job, a sheet or a job's process opens the job; on a group, toggles it."""
        ref = event.node.data
        if ref is None:
            return
        if ref.job_id is not None:
            self.post_message(self.JobChosen(ref.job_id, ref.sheet_num))
        elif event.node.allow_expand:
            event.node.toggle()
        elif ref.pid is not None:
            self.notify(
                f"Process {ref.pid} belongs to no job (p lists every process).",
                title="Enter",
                timeout=4,
            )

    def chosen_job(self) -> str | None:
        """The job under the tree's cursor (its own, for a sheet or a process), if any."""
        node = self.query_one(JobTree).cursor_node
        ref = node.data if node is not None else None
        return ref.job_id if ref is not None else None

    def action_signal(self) -> None:
        """Ask the app to signal the selected process or sheet (it confirms first)."""
        self.post_message(signal_request(self.result, self.query_one(JobTree).cursor_node))

    def action_filter(self) -> None:
        """Show the filter and type into it."""
        field = self.query_one("#tree-filter", Input)
        field.display = True
        self.set_focus(field)  # at once, so keys typed right after `/` reach the filter
        self.refresh_bindings()

    @on(Input.Changed, "#tree-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.text_filter = event.value

    @on(Input.Submitted, "#tree-filter")
    def _filter_submitted(self) -> None:
        self.query_one(JobTree).focus()

    def action_back(self) -> None:
        """Clear and hide the filter."""
        field = self.query_one("#tree-filter", Input)
        field.value = ""
        field.display = False
        self.text_filter = ""
        self.query_one(JobTree).focus()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer Esc only while a filter is shown."""
        if action == "back":
            return self._filter_shown()
        return True

    def _filter_shown(self) -> bool:
        fields = self.query("#tree-filter")
        return bool(fields) and fields.first(Input).display


def signal_request(result: TickResult | None, node: TreeNode[NodeRef] | None) -> SignalRequested:
    """What `x` aims at on the selected tree node: a process, or a sheet's process tree."""
    ref = node.data if node is not None else None
    target = None
    if result is not None and ref is not None:
        if ref.kind == "process":
            target = process_target(result, ref.key)
        elif ref.kind == "sheet" and ref.job_id is not None and ref.sheet_num is not None:
            target = sheet_target(result, ref.job_id, ref.sheet_num)
            if target is None:
                return SignalRequested(None, "That sheet has no process to signal.")
    if target is None:
        return SignalRequested(None, "Select a process or a running sheet to signal.")
    return SignalRequested(target)
