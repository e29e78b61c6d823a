"""A time chart of one job figure (textual-plotext), with sheet and anomaly marks.

`chart_data` turns a `SeriesView` into what one chart plots (plain data, comparable), and
`JobChart.show` replots only when that changed. The x axis is minutes before the tick shown,
so a frozen tick draws the same chart every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from mzt_tui.ui.formatting import format_mb
from mzt_tui.ui.job_series import SeriesPoint, SeriesView

SHEET_START_COLOR = "green"
SHEET_END_COLOR = "blue"
ANOMALY_COLOR = "red"
_LINE_COLOR = "cyan"
_MIN_SPAN_MINUTES = 1.0


@dataclass(frozen=True, slots=True)
class ChartData:
    """What one chart plots.

    Attributes:
        title: The chart's title, with the latest value.
        xs: Minutes before the tick shown (≤ 0), oldest first.
        ys: The figure at each x.
        sheet_starts: Where sheets started (x).
        sheet_ends: Where sheets ended (x).
        anomalies: Where anomalies started (x).
        empty_text: A line shown instead of a chart (no data), or None.
    """

    title: str
    xs: tuple[float, ...] = ()
    ys: tuple[float, ...] = ()
    sheet_starts: tuple[float, ...] = ()
    sheet_ends: tuple[float, ...] = ()
    anomalies: tuple[float, ...] = ()
    empty_text: str | None = None


@dataclass(frozen=True, slots=True)
class ChartSpec:
    """Which figure a chart shows and how it is named."""

    name: str
    value: Callable[[SeriesPoint], float]
    format_value: Callable[[float], str]
    empty_text: str


RSS_CHART = ChartSpec("RSS", lambda p: p.rss_mb, format_mb, "no samples of this job yet")
CPU_CHART = ChartSpec(
    "CPU %", lambda p: p.cpu_percent, lambda v: f"{v:.0f}%", "no samples of this job yet"
)
GPU_CHART = ChartSpec(
    "GPU memory", lambda p: p.gpu_memory_mb, format_mb, "no GPU memory used by this job"
)


def chart_data(spec: ChartSpec, view: SeriesView, now: float) -> ChartData:
    """What `spec`'s chart plots for `view`, with x in minutes before `now`.

    A figure that is zero at every point (a job without GPU memory) gives only `empty_text`.
    """
    values = tuple(spec.value(point) for point in view.points)
    if not values or not any(values):
        return ChartData(spec.name, empty_text=spec.empty_text)

    def minutes(timestamp: float) -> float:
        return round((timestamp - now) / 60.0, 4)

    first = view.points[0].timestamp
    starts = tuple(minutes(m.timestamp) for m in view.sheet_marks if m.edge == "start")
    ends = tuple(minutes(m.timestamp) for m in view.sheet_marks if m.edge == "end")
    anomalies = tuple(minutes(m.started_at) for m in view.anomalies if m.started_at >= first)
    title = f"{spec.name} {spec.format_value(values[-1])} · peak {spec.format_value(max(values))}"
    return ChartData(
        title,
        xs=tuple(minutes(point.timestamp) for point in view.points),
        ys=tuple(round(value, 3) for value in values),
        sheet_starts=tuple(x for x in starts if x >= minutes(first)),
        sheet_ends=tuple(x for x in ends if x >= minutes(first)),
        anomalies=anomalies,
    )


class JobChart(PlotextPlot):
    """One figure of a job over time; replotted only when its data changes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._data = ChartData("")

    @property
    def data(self) -> ChartData:
        """What the chart was last told to plot."""
        return self._data

    def show(self, data: ChartData) -> None:
        """Plot `data` (nothing happens when it is what is plotted already)."""
        if data == self._data:
            return
        self._data = data
        self.set_class(data.empty_text is not None, "-empty")
        self._replot()
        self.refresh()

    def _replot(self) -> None:
        data = self._data
        plt = self.plt
        plt.clear_figure()
        if data.empty_text is not None or not data.xs:
            return
        plt.title(data.title)
        plt.plot(list(data.xs), list(data.ys), marker="braille", color=_LINE_COLOR)
        for x in data.sheet_starts:
            plt.vline(x, SHEET_START_COLOR)
        for x in data.sheet_ends:
            plt.vline(x, SHEET_END_COLOR)
        for x in data.anomalies:
            plt.vline(x, ANOMALY_COLOR)
        left = min(data.xs[0], -_MIN_SPAN_MINUTES)
        plt.xlim(left, 0.0)
        plt.ylim(0.0, max(max(data.ys) * 1.1, 1.0))

    def render(self) -> RenderResult:
        """The chart, or the line saying why there is none."""
        if self._data.empty_text is not None:
            return Text(f"{self._data.title}\n{self._data.empty_text}", style="dim")
        if not self._data.xs:
            return Text("")
        return super().render()
