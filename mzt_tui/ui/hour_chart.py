"""Recovery success by hour of day: a bar chart with the optimal and avoid hours marked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual_plotext import PlotextPlot

from mzt_tui.analysis.learning_rules import day_profile
from mzt_tui.models.outcomes import HourSuccess, OptimalWindow

OPTIMAL_COLOUR = "green"
AVOID_COLOUR = "red"
OTHER_COLOUR = "blue"
LEGEND_STYLES = {"optimal": "green", "avoid": "red", "other": "blue"}
"""The Rich styles of the legend, matching the bar colours."""
TICK_HOURS = tuple(range(0, 24, 3))
STUB_PERCENT = 4.0
"""The height drawn for an hour with recoveries but (almost) no success, so it stays visible."""


@dataclass(frozen=True, slots=True)
class HourChartData:
    """What the chart draws: one success rate per hour of day, and which hours are marked.

    Attributes:
        rates: Success rate in percent for hours 0–23; None where nothing was recorded.
        samples: Recoveries recorded in each hour 0–23.
        optimal: The window's optimal hours.
        avoid: The window's hours to avoid.
        confidence: The window's confidence (0–1).
        sample_count: Recoveries the window was computed from.
    """

    rates: tuple[float | None, ...]
    samples: tuple[int, ...]
    optimal: tuple[int, ...]
    avoid: tuple[int, ...]
    confidence: float
    sample_count: int

    @property
    def has_samples(self) -> bool:
        """Whether any hour has a recovery."""
        return any(self.samples)

    def kind_of(self, hour: int) -> str:
        """Which series an hour belongs to: `optimal`, `avoid` or `other`."""
        if hour in self.optimal:
            return "optimal"
        if hour in self.avoid:
            return "avoid"
        return "other"

    def bars(self, kind: str) -> tuple[list[int], list[float]]:
        """The hours that have samples in one series, and their rates."""
        hours = [
            hour
            for hour, rate in enumerate(self.rates)
            if rate is not None and self.kind_of(hour) == kind
        ]
        return hours, [rate for hour in hours if (rate := self.rates[hour]) is not None]


def hour_chart_data(hours: Iterable[HourSuccess], window: OptimalWindow) -> HourChartData:
    """The chart's data from the recoveries by hour and the window computed from them."""
    profile = day_profile(hours)
    return HourChartData(
        rates=tuple(
            None if hour.success_rate is None else hour.success_rate * 100 for hour in profile
        ),
        samples=tuple(hour.total for hour in profile),
        optimal=tuple(sorted(window.optimal_hours)),
        avoid=tuple(sorted(window.avoid_hours)),
        confidence=window.confidence,
        sample_count=window.sample_count,
    )


def _hours_text(hours: tuple[int, ...]) -> str:
    return ", ".join(f"{hour:02d}h" for hour in hours) if hours else "none"


def legend_text(data: HourChartData | None) -> Text:
    """The legend line under the chart: what each colour means, and the window's confidence."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if data is None or not data.has_samples:
        text.append("no error recoveries recorded yet", style="italic")
        return text
    for kind, hours in (("optimal", data.optimal), ("avoid", data.avoid)):
        text.append("■ ", style=LEGEND_STYLES[kind])
        text.append(f"{kind} {_hours_text(hours)}  ")
    text.append("■ ", style=LEGEND_STYLES["other"])
    text.append("other  ")
    text.append(
        f"confidence {data.confidence:.2f} from {data.sample_count} recoveries",
        style="bright_black",
    )
    return text


class HourChart(PlotextPlot):
    """Bars of success rate per hour of day (0–23), coloured optimal, avoid or other.

    `show` keeps the data and redraws only when it changed; the owning screen calls it only
    while it is visible.

    Args:
        kwargs: Passed on to `PlotextPlot`.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data: HourChartData | None = None

    def show(self, data: HourChartData) -> bool:
        """Draw `data` unless it is already drawn; return whether it was redrawn."""
        if data == self.data:
            return False
        self.data = data
        self._plot_data(data)
        self.refresh()
        return True

    def _plot_data(self, data: HourChartData) -> None:
        plt = self.plt
        plt.clear_figure()
        plt.xlim(-1, 24)
        plt.ylim(0, 100)
        plt.xticks(list(TICK_HOURS), [f"{hour:02d}h" for hour in TICK_HOURS])
        plt.yticks([0, 50, 100], ["0%", "50%", "100%"])
        for kind, colour in (
            ("other", OTHER_COLOUR),
            ("optimal", OPTIMAL_COLOUR),
            ("avoid", AVOID_COLOUR),
        ):
            hours, rates = data.bars(kind)
            if hours:
                heights = [max(rate, STUB_PERCENT) for rate in rates]
                plt.bar(hours, heights, color=colour, width=0.6, reset_ticks=False)
