"""The job screen: one job's charts over time, per-sheet peaks, events, patterns, processes.

It shows whatever tick the app publishes (`app.tick_result`), drawing the job's series up to
that tick's time (so recorded ticks shown out of order draw correctly), and only while it is
the current screen (it catches up when it comes back). Recorded history (monitor.db) and
learned patterns are read in thread workers when a job is opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane
from textual.widgets.data_table import RowKey
from textual.worker import Worker

from mzt_tui.analysis.job_patterns import JobFigures, applied_patterns
from mzt_tui.headless.engine import TickResult
from mzt_tui.marianne.paths import MarianneHome
from mzt_tui.models import JobRecord
from mzt_tui.ui.footer import KeyFooter
from mzt_tui.ui.formatting import format_age, format_clock
from mzt_tui.ui.job_chart import (
    ANOMALY_COLOR,
    CPU_CHART,
    GPU_CHART,
    RSS_CHART,
    SHEET_END_COLOR,
    SHEET_START_COLOR,
    JobChart,
)
from mzt_tui.ui.job_chart import chart_data as build_chart_data
from mzt_tui.ui.job_data import (
    LearnedPatterns,
    RecordedJob,
    read_learned_patterns,
    read_recorded_job,
)
from mzt_tui.ui.job_series import JobSeriesBuffer, SheetPeak
from mzt_tui.ui.job_tables import (
    EVENT_COLUMNS,
    PATTERN_COLUMNS,
    PEAK_COLUMNS,
    event_rows,
    hotspot_text,
    live_hotspots,
    merged_peaks,
    pattern_rows,
    peak_rows,
    sheet_row_key,
)
from mzt_tui.ui.job_tree import JobTree
from mzt_tui.ui.job_tree_model import build_job_tree
from mzt_tui.ui.keyed_table import KeyedTable
from mzt_tui.ui.quiet import QuietHeader
from mzt_tui.ui.timeline_log import TimelineEntry, TimelineLog, anomaly_entry, event_entry

NARROW_WIDTH = 100
MAX_EVENTS = 300
CHARTS = (("chart-rss", RSS_CHART), ("chart-cpu", CPU_CHART), ("chart-gpu", GPU_CHART))


@dataclass(frozen=True)
class JobScreenOptions:
    """What the job screen reads from.

    Attributes:
        home: The Marianne home (monitor.db, the learning store).
        series: The per-job series the app keeps.
        timeline_log: The events and anomalies the app recorded.
        score: The `--score` job (the only one to move between), if any.
        timezone: Zone of the times shown (local time when None).
    """

    home: MarianneHome
    series: JobSeriesBuffer
    timeline_log: TimelineLog
    score: str | None = None
    timezone: tzinfo | None = None


def job_order(result: TickResult, score: str | None) -> list[str]:
    """The jobs in the order the dashboard's tree shows them."""
    return [
        row.ref.job_id
        for row in build_job_tree(result, score=score)
        if row.ref.job_id and row.ref.kind == "job"
    ]


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _top_syscall(shares: Mapping[str, float]) -> str | None:
    return max(shares, key=lambda name: shares[name]) if shares else None


class JobScreen(Screen[None]):
    """Charts, peaks, hotspots, events, patterns and the process tree of one job."""

    TITLE = "mzt top · job"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="job.back"),
        Binding("left_square_bracket", "previous_job", "Prev job", id="job.previous"),
        Binding("right_square_bracket", "next_job", "Next job", id="job.next"),
        Binding("1", "show_tab('tab-sheets')", "Sheets tab", show=False, id="job.tab-sheets"),
        Binding(
            "2", "show_tab('tab-processes')", "Processes tab", show=False, id="job.tab-processes"
        ),
        Binding("3", "show_tab('tab-events')", "Events tab", show=False, id="job.tab-events"),
        Binding("4", "show_tab('tab-patterns')", "Patterns tab", show=False, id="job.tab-patterns"),
    ]

    job_id: reactive[str] = reactive("", init=False)
    """The job shown."""
    narrow: reactive[bool] = reactive(False, init=False)
    """Whether the narrow layout is in use."""

    @dataclass
    class RecordedJobRead(Message):
        """A job's recorded history was read (posted from a thread)."""

        recorded: RecordedJob

    @dataclass
    class PatternsRead(Message):
        """The learned patterns were read (posted from a thread)."""

        patterns: LearnedPatterns

    def __init__(self, options: JobScreenOptions) -> None:
        super().__init__(id="job")
        self.options = options
        self.sheet_num: int | None = None
        self._shown: TickResult | None = None
        self._pending: TickResult | None = None
        self._recorded: RecordedJob | None = None
        self._patterns = LearnedPatterns()
        self._reads_started_for: str | None = None
        self._select_pending = False
        self._repairs_told: set[str] = set()

    def compose(self) -> ComposeResult:
        """The summary line, three charts, a legend, then the tabs."""
        yield QuietHeader(show_clock=False)
        yield Static(id="job-summary")
        with Horizontal(id="job-charts"):
            for chart_id, _ in CHARTS:
                yield JobChart(id=chart_id, classes="job-chart")
        yield Static(id="chart-legend")
        with TabbedContent(id="job-tabs", initial="tab-sheets"):
            with TabPane("Sheets", id="tab-sheets"):
                yield Static(id="hotspots")
                yield KeyedTable(PEAK_COLUMNS, id="sheet-peaks")
            with TabPane("Processes", id="tab-processes"):
                yield Static(id="job-tree-header")
                yield JobTree(id="job-process-tree")
            with TabPane("Events", id="tab-events"):
                yield KeyedTable(EVENT_COLUMNS, id="job-events")
            with TabPane("Patterns", id="tab-patterns"):
                yield Static(id="patterns-note")
                yield KeyedTable(PATTERN_COLUMNS, id="job-patterns")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Follow the app's ticks."""
        events_table = self.query_one("#job-events", KeyedTable)
        events_table.follow_top = True
        events_table.set_sort(lambda values: values[0], reverse=True)
        self.query_one("#job-patterns", KeyedTable).set_sort(lambda values: values[0])
        self.watch(self.app, "tick_result", self._tick_published, init=True)

    def open_job(self, job_id: str, sheet_num: int | None = None) -> None:
        """Show `job_id` (and select `sheet_num` in the peaks table once it is listed)."""
        self.sheet_num = sheet_num
        self._select_pending = sheet_num is not None
        if job_id == self.job_id:
            self._select_sheet()
            return
        self.job_id = job_id

    def watch_job_id(self, job_id: str) -> None:
        """Start over for another job: read its history and the patterns, redraw."""
        self._recorded = None
        self._reads_started_for = None
        self.sub_title = job_id
        self._refresh()

    @work(thread=True, exclusive=True, group="job-store", exit_on_error=False, name="job history")
    def read_recorded(self, job_id: str, until: float) -> None:
        """Read the job's recorded hour from monitor.db (only posts a message)."""
        self.post_message(self.RecordedJobRead(read_recorded_job(self.options.home, job_id, until)))

    @work(thread=True, exclusive=True, group="job-patterns", exit_on_error=False, name="patterns")
    def read_patterns(self) -> None:
        """Read the learned patterns (only posts a message)."""
        self.post_message(self.PatternsRead(read_learned_patterns(self.options.home)))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker messages do not bubble: pass them to the app, which reports failures."""
        self.app.post_message(Worker.StateChanged(event.worker, event.state))

    def on_job_screen_recorded_job_read(self, message: RecordedJobRead) -> None:
        """Merge the recorded points into the series, and show the recorded figures."""
        recorded = message.recorded
        if recorded.job_id != self.job_id:
            return
        self._recorded = recorded
        self.options.series.backfill(recorded.job_id, recorded.snapshots, recorded.anomalies)
        if recorded.repairs is not None and recorded.repairs not in self._repairs_told:
            self._repairs_told.add(recorded.repairs)
            self.notify(recorded.repairs, title="recorded history", severity="warning", timeout=10)
        self._refresh()

    def on_job_screen_patterns_read(self, message: PatternsRead) -> None:
        """Keep the patterns; the table shows those that apply."""
        self._patterns = message.patterns
        self._refresh()

    def _tick_published(self, result: TickResult | None) -> None:
        if result is None:
            return
        if self.is_current:
            self._shown = result
            self._refresh()
        else:
            self._pending = result

    def on_screen_resume(self) -> None:
        """Catch up with the tick published while hidden (charts redraw only when seen)."""
        if self._pending is not None:
            self._shown, self._pending = self._pending, None
        with self.app.batch_update():
            self._refresh()

    @property
    def job(self) -> JobRecord | None:
        """The registry's record of the job, as of the tick shown."""
        if self._shown is None:
            return None
        return next((job for job in self._shown.jobs if job.job_id == self.job_id), None)

    def chart(self, chart_id: str) -> JobChart:
        """One of the three charts (`chart-rss`, `chart-cpu`, `chart-gpu`)."""
        return self.query_one(f"#{chart_id}", JobChart)

    def _refresh(self) -> None:
        result = self._shown
        if result is None or not self.job_id or not self.is_mounted:
            return
        now = result.snapshot.timestamp
        if self._reads_started_for != self.job_id:
            self._reads_started_for = self.job_id
            self.read_recorded(self.job_id, now)
            self.read_patterns()
        view = self.options.series.view(self.job_id, until=now)
        for chart_id, spec in CHARTS:
            self.chart(chart_id).show(build_chart_data(spec, view, now))
        self._show_summary(
            result, len(view.points), view.points[0].timestamp if view.points else now
        )
        profile = self._recorded.profile if self._recorded is not None else None
        series = self.options.series.get(self.job_id)
        live_peaks: dict[int, SheetPeak] = series.sheet_peaks if series is not None else {}
        peaks = merged_peaks(live_peaks, profile, self.job)
        self.query_one("#sheet-peaks", KeyedTable).sync_rows(peak_rows(peaks, self.job))
        hotspots = live_hotspots(result.snapshot.processes, self.job_id)
        self.query_one("#hotspots", Static).update(hotspot_text(hotspots, profile))
        self.query_one("#job-events", KeyedTable).sync_rows(
            event_rows(self._entries(now), self.options.timezone)
        )
        tree = self.query_one("#job-process-tree", JobTree)
        tree.sync(
            [
                replace(row, expanded=True) if row.ref.kind == "job" else row
                for row in build_job_tree(result, score=self.job_id)
            ]
        )
        self.query_one("#job-tree-header", Static).update(tree.header_text())
        measured = {num: peak for num, peak in peaks.items() if peak.last_seen is not None}
        figures = JobFigures(
            job_id=self.job_id,
            peak_rss_mb={num: peak.peak_rss_mb for num, peak in measured.items()},
            cpu_seconds={num: peak.cpu_seconds for num, peak in measured.items()},
            gpu_memory_peak_mb={num: p.peak_gpu_memory_mb for num, p in measured.items()},
            anomaly_types=frozenset(mark.anomaly_type for mark in view.anomalies),
            top_syscall=_top_syscall(hotspots or (profile.syscall_hotspots if profile else {})),
        )
        applied = applied_patterns(self._patterns.patterns, figures)
        self.query_one("#job-patterns", KeyedTable).sync_rows(pattern_rows(applied))
        self.query_one("#patterns-note", Static).update(self._patterns_note(len(applied)))
        self._select_sheet()

    def _patterns_note(self, applied: int) -> str:
        if self._patterns.note is not None:
            return f"No learned patterns: {self._patterns.note}."
        total = len(self._patterns.patterns)
        if not total:
            return "No learned patterns yet (`mzt correlate` looks for them)."
        if not applied:
            return f"None of the {total} learned patterns applies to this job."
        return f"{applied} of {total} learned patterns apply to this job."

    def _entries(self, until: float) -> list[TimelineEntry]:
        entries: dict[str, TimelineEntry] = {}
        if self._recorded is not None:
            for event in self._recorded.events:
                entry = event_entry(event)
                entries[entry.key] = entry
            for anomaly in self._recorded.anomalies:
                entry = anomaly_entry(anomaly)
                entries[entry.key] = entry
        for entry in self.options.timeline_log.newest_first():
            if entry.job_id == self.job_id:
                entries[entry.key] = entry
        kept = [entry for entry in entries.values() if entry.timestamp <= until]
        kept.sort(key=lambda e: (e.timestamp, e.key), reverse=True)
        return kept[:MAX_EVENTS]

    def _show_summary(self, result: TickResult, points: int, since: float) -> None:
        job = self.job
        parts = [self.job_id]
        if job is not None:
            parts.append(job.status)
            if job.sheet_total:
                parts.append(f"{job.sheets_done}/{job.sheet_total} sheets")
            active = [str(num) for num, sheet in sorted(job.sheets.items()) if sheet.active]
            if active:
                parts.append(f"running sheet {', '.join(active)}")
        else:
            parts.append("not in the registry")
        processes = sum(1 for p in result.snapshot.processes if p.job_id == self.job_id)
        parts.append(_count(processes, "process", "processes"))
        now = result.snapshot.timestamp
        parts.append(f"{_count(points, 'sample', 'samples')} over {format_age(now - since)}")
        self.query_one("#job-summary", Static).update(" · ".join(parts))
        legend = (
            f"[{SHEET_START_COLOR}]│[/] sheet start  [{SHEET_END_COLOR}]│[/] sheet end  "
            f"[{ANOMALY_COLOR}]│[/] anomaly  · x: minutes before "
            f"{format_clock(now, self.options.timezone)}"
        )
        if self._recorded is not None and self._recorded.note is not None:
            legend += f" · {self._recorded.note}"
        self.query_one("#chart-legend", Static).update(legend)

    def _select_sheet(self) -> None:
        """Put the peaks table's cursor on the sheet asked for, once its row is there."""
        if not self._select_pending or self.sheet_num is None or not self.is_mounted:
            return
        table = self.query_one("#sheet-peaks", KeyedTable)
        key = sheet_row_key(self.sheet_num)
        if key not in table.row_keys:
            return
        self._select_pending = False
        table.move_cursor(row=table.get_row_index(RowKey(key)), animate=False)
        self.query_one(TabbedContent).active = "tab-sheets"
        table.focus()

    def on_resize(self, event: events.Resize) -> None:
        """Use the narrow layout under 100 cells."""
        self.narrow = event.size.width < NARROW_WIDTH

    def watch_narrow(self, narrow: bool) -> None:
        """Give the tree its narrow columns and the charts less height."""
        self.set_class(narrow, "-narrow")
        self.query_one(JobTree).narrow = narrow

    def action_back(self) -> None:
        """Go back to the screen below (the dashboard)."""
        self.dismiss()

    def action_previous_job(self) -> None:
        """Show the job above this one in the dashboard's order."""
        self._step(-1)

    def action_next_job(self) -> None:
        """Show the job below this one in the dashboard's order."""
        self._step(1)

    def _step(self, delta: int) -> None:
        if self._shown is None:
            return
        order = job_order(self._shown, self.options.score)
        if not order:
            return
        if self.job_id in order:
            index = (order.index(self.job_id) + delta) % len(order)
        else:
            index = 0 if delta > 0 else len(order) - 1
        self.open_job(order[index])

    def action_show_tab(self, tab: str) -> None:
        """Show one of the tabs."""
        self.query_one(TabbedContent).active = tab
