"""GPU gauges: one group per GPU (utilisation, memory, temperature, power), or why there is none."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive, var

from mzt_tui.headless.engine import TickResult
from mzt_tui.models import GpuMetric
from mzt_tui.ui.formatting import bar, format_mb, level_style, shorten
from mzt_tui.ui.quiet import TextLine

_BAR_WIDTH = 12
_HOT_CELSIUS = 80.0
_WARM_CELSIUS = 70.0


def gpu_lines(gpu: GpuMetric) -> Text:
    """Two lines for one GPU: its name, temperature and power; then utilisation and memory."""
    text = Text(f"GPU{gpu.index} ", style="bold")
    text.append(shorten(gpu.name or "GPU", 28))
    temperature_style = (
        "red"
        if gpu.temperature_c >= _HOT_CELSIUS
        else "yellow"
        if gpu.temperature_c >= _WARM_CELSIUS
        else "green"
    )
    text.append(f"  {gpu.temperature_c:.0f}°C", style=temperature_style)
    if gpu.power_w is not None:
        text.append(f"  {gpu.power_w:.0f}W")
    if gpu.processes:
        text.append(f"  {len(gpu.processes)} proc", style="bright_black")
    text.append("\n  util ")
    text.append_text(bar(gpu.utilization_pct, _BAR_WIDTH))
    text.append(f" {gpu.utilization_pct:3.0f}%", style=level_style(gpu.utilization_pct))
    memory_pct = (
        gpu.memory_used_mb / gpu.memory_total_mb * 100.0 if gpu.memory_total_mb > 0 else 0.0
    )
    text.append("  mem ")
    text.append_text(bar(memory_pct, _BAR_WIDTH, style="magenta"))
    text.append(f" {format_mb(gpu.memory_used_mb)}/{format_mb(gpu.memory_total_mb)}")
    return text


class GpuGauges(TextLine):
    """The GPUs of the latest snapshot, or a plain line saying why there are none."""

    result: var[TickResult | None] = var(None, always_update=True)
    """The latest tick: its snapshot's GPUs, and the collector's reason when there are none."""
    narrow: reactive[bool] = reactive(False)
    """One line per GPU instead of two."""

    def watch_result(self) -> None:
        """Redraw the gauges."""
        self._redraw()

    def watch_narrow(self) -> None:
        """Redraw the gauges."""
        self._redraw()

    def _redraw(self) -> None:
        if self.result is not None:
            snapshot = self.result.snapshot
            self.show(gpu_text(snapshot.gpus, self.result.gpu_reason, compact=self.narrow))


def gpu_line(gpu: GpuMetric) -> Text:
    """One compact line for one GPU: `GPU0  87%  40.0G/79.6G  71°C  512W`."""
    text = Text(f"GPU{gpu.index} ", style="bold")
    text.append(f"{gpu.utilization_pct:3.0f}%", style=level_style(gpu.utilization_pct))
    text.append(f"  {format_mb(gpu.memory_used_mb)}/{format_mb(gpu.memory_total_mb)}")
    text.append(f"  {gpu.temperature_c:.0f}°C")
    if gpu.power_w is not None:
        text.append(f"  {gpu.power_w:.0f}W")
    return text


def gpu_text(gpus: tuple[GpuMetric, ...], reason: str | None, *, compact: bool = False) -> Text:
    """Every GPU's gauges, or one line saying why there is no GPU."""
    if not gpus:
        return Text(f"No GPU: {reason or 'none found'}", style="bright_black")
    text = Text()
    for index, gpu in enumerate(gpus):
        if index:
            text.append("   " if compact else "\n")
        text.append_text(gpu_line(gpu) if compact else gpu_lines(gpu))
    return text
