"""One line about the conductor: where it runs and what it is doing, or that none was found."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import var

from mzt_tui.headless.engine import TickResult
from mzt_tui.ui.formatting import format_age
from mzt_tui.ui.quiet import TextLine

NO_CONDUCTOR_HINT = "showing this machine's processes; start the demo with: mzt top --demo"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def conductor_text(result: TickResult) -> Text:
    """The conductor's PID, uptime, running jobs, active sheets and zombies; or why none."""
    conductor = result.conductor
    snapshot = result.snapshot
    if conductor.pid is None:
        reason = conductor.reasons[0] if conductor.reasons else "no PID file and no running job"
        text = Text("No conductor found", style="bold yellow")
        text.append(f" ({reason}); ", style="yellow")
        text.append(NO_CONDUCTOR_HINT, style="yellow")
        return text
    text = Text(f"conductor {conductor.pid}", style="bold cyan")
    text.append(f"  up {format_age(snapshot.conductor_uptime_seconds)}")
    text.append(f"  {_count(snapshot.running_jobs, 'job')} running")
    text.append(f"  {_count(snapshot.active_sheets, 'sheet')} active")
    zombies = snapshot.zombie_count
    text.append(f"  {_count(zombies, 'zombie')}", style="bold red" if zombies else "")
    for note in result.notes[:1]:
        text.append(f"  {note}", style="yellow")
    return text


class ConductorLine(TextLine):
    """The conductor's status line."""

    result: var[TickResult | None] = var(None, always_update=True)
    """The latest tick."""

    def watch_result(self, result: TickResult | None) -> None:
        """Redraw the line."""
        if result is not None:
            self.show(conductor_text(result))
