"""System gauges: CPU (total and per core), memory and pressure, load, and the monitor's cost."""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import var

from mzt_tui.headless.engine import TickResult
from mzt_tui.models import SystemSnapshot
from mzt_tui.ui.formatting import bar, format_clock, format_mb, level_style, spark
from mzt_tui.ui.quiet import TextLine

_LABEL_WIDTH = 6
_BAR_WIDTH = 20
_PRESSURE_STYLES = {
    "none": "green",
    "low": "green",
    "medium": "yellow",
    "high": "red",
    "critical": "bold red",
}


def cpu_line(snapshot: SystemSnapshot) -> Text:
    """`CPU  ████░░  45.2%  load 1.20 0.90 0.80`."""
    text = Text("CPU".ljust(_LABEL_WIDTH), style="bold")
    text.append_text(bar(snapshot.cpu_percent, _BAR_WIDTH))
    text.append(f" {snapshot.cpu_percent:5.1f}%", style=level_style(snapshot.cpu_percent))
    text.append(
        f"  load {snapshot.load_avg_1:.2f} {snapshot.load_avg_5:.2f} {snapshot.load_avg_15:.2f}"
    )
    return text


def core_lines(per_core: tuple[float, ...], width: int) -> Text:
    """One cell per core, its height the core's load, wrapped to `width` cells."""
    per_line = max(8, width - _LABEL_WIDTH)
    text = Text()
    for start in range(0, max(len(per_core), 1), per_line):
        if start:
            text.append("\n")
        label = f"{len(per_core)}c" if start == 0 else ""
        text.append(label.ljust(_LABEL_WIDTH), style="bright_black")
        for value in per_core[start : start + per_line]:
            text.append(spark(value), style=level_style(value))
    return text


def memory_line(snapshot: SystemSnapshot) -> Text:
    """`MEM  ████░░  12.3G/31.2G 39%  pressure none`."""
    total = snapshot.system_memory_total_mb
    used = snapshot.system_memory_used_mb
    percent = used / total * 100.0 if total > 0 else 0.0
    text = Text("MEM".ljust(_LABEL_WIDTH), style="bold")
    text.append_text(bar(percent, _BAR_WIDTH))
    text.append(f" {format_mb(used)}/{format_mb(total)} {percent:.0f}%")
    level = snapshot.pressure_level
    text.append("  pressure ")
    text.append(level, style=_PRESSURE_STYLES.get(level, ""))
    return text


def monitor_line(snapshot: SystemSnapshot, timezone: tzinfo | None = None) -> Text:
    """What mzt costs, and when the sample was taken.

    `mzt   0.8% CPU  45M RSS  tick 12ms  late 0  at 14:05:09`
    """
    monitor = snapshot.monitor
    text = Text("mzt".ljust(_LABEL_WIDTH), style="bold")
    text.append(
        f"{monitor.cpu_percent:.1f}% CPU  {format_mb(monitor.rss_mb)} RSS"
        f"  tick {monitor.tick_seconds * 1000:.0f}ms  late {monitor.late_ticks}",
        style="bright_black",
    )
    text.append(f"  at {format_clock(snapshot.timestamp, timezone)}")
    return text


class SystemGauges(Vertical):
    """The machine's gauges, redrawn from each snapshot."""

    result: var[TickResult | None] = var(None, always_update=True)
    """The latest tick (None until the first one); the lines repaint themselves."""

    def __init__(self, *, timezone: tzinfo | None = None, id: str | None = None) -> None:
        """Gauges whose sample time is shown in `timezone` (local time when None)."""
        super().__init__(id=id)
        self._timezone = timezone

    def compose(self) -> ComposeResult:
        """One line per gauge; the per-core bars can be hidden on narrow terminals."""
        yield TextLine("CPU   waiting for the first sample…", id="cpu-line")
        yield TextLine(id="core-bars", classes="per-core")
        yield TextLine(id="memory-line")
        yield TextLine(id="monitor-line")

    def watch_result(self, result: TickResult | None) -> None:
        """Move the snapshot's figures into the gauge lines."""
        if result is None:
            return
        snapshot = result.snapshot
        self.query_one("#cpu-line", TextLine).show(cpu_line(snapshot))
        self.query_one("#core-bars", TextLine).show(
            core_lines(snapshot.per_core_cpu_percent, self.size.width or 60)
        )
        self.query_one("#memory-line", TextLine).show(memory_line(snapshot))
        self.query_one("#monitor-line", TextLine).show(monitor_line(snapshot, self._timezone))
