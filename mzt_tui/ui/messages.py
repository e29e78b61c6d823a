"""Messages the collector thread posts to the dashboard.

Posted from a thread with `post_message` (thread-safe); they carry frozen models only. They
bubble from the screen that collects to the app, which decides what to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from mzt_tui.headless.engine import TickResult


@dataclass
class TickCollected(Message):
    """One collection tick finished.

    Attributes:
        result: Everything the tick learned.
    """

    result: TickResult

    def can_replace(self, message: Message) -> bool:
        """A newer tick supersedes this one unless this one carries events or anomalies.

        A slow UI then skips stale samples but never loses a spawn, an exit or an anomaly.
        """
        if not isinstance(message, TickCollected):
            return False
        changes = self.result.anomalies
        return not (self.result.events or changes.opened or changes.closed)


@dataclass
class CollectorFailed(Message):
    """A tick could not be collected (the collector keeps going).

    Attributes:
        reason: One line saying what went wrong.
    """

    reason: str
