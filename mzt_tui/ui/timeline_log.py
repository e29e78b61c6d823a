"""The event and anomaly history behind the timeline: plain data, kept by the app.

Every tick's lifecycle events and anomaly changes are recorded here (also while the display is
paused or another screen is shown); the `Timeline` widget then shows the newest entries.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.models import Anomaly, EventType, ProcessEvent
from mzt_tui.ui.formatting import command_name, shorten

MAX_TIMELINE_ENTRIES = 300
MAX_TEXT_CHARS = 160
_SIGNAL_NAMES = {1: "HUP", 2: "INT", 6: "ABRT", 9: "KILL", 11: "SEGV", 13: "PIPE", 15: "TERM"}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of the timeline.

    Attributes:
        key: Identity across ticks (an anomaly keeps its key when it closes).
        timestamp: When it happened (an anomaly: when it started).
        kind: `spawn`, `exit`, `signal`, `kill`, `oom` or the anomaly type.
        style: Colour of the line: dim spawns, green or red exits, red kills, yellow or red
            anomalies by severity.
        job_id: The job it belongs to, if any.
        sheet_num: The sheet it belongs to, if any.
        pid: The process, if any.
        text: What happened, in words.
    """

    key: str
    timestamp: float
    kind: str
    style: str
    job_id: str | None
    sheet_num: int | None
    pid: int | None
    text: str


def event_entry(event: ProcessEvent) -> TimelineEntry:
    """The timeline line of a lifecycle event."""
    kind = event.event_type
    if kind is EventType.SPAWN:
        style, text = "bright_black", "started"
    elif kind is EventType.EXIT:
        code = event.exit_code
        style = "green" if code in (0, None) else "red"
        text = "exited" if code is None else f"exited with code {code}"
    elif kind is EventType.OOM:
        style, text = "bold red", "killed by the OOM killer"
    else:
        signal = event.signal_num
        name = _SIGNAL_NAMES.get(signal or 0, str(signal) if signal else "?")
        style, text = "red", f"killed by SIG{name}" if signal else "killed"
    if event.details and event.details.lower() not in text:
        details = command_name(event.details) if kind is EventType.SPAWN else event.details
        text = shorten(f"{text}: {details}", MAX_TEXT_CHARS)
    key = f"event:{event.timestamp:.3f}:{event.pid}:{kind.value}"
    return TimelineEntry(
        key,
        event.timestamp,
        kind.value,
        style,
        event.job_id,
        event.sheet_num,
        event.pid or None,
        text,
    )


def anomaly_key(anomaly: Anomaly) -> str:
    """The identity of an anomaly: what, where, and since when."""
    return (
        f"anomaly:{anomaly.anomaly_type.value}:{anomaly.pid}:{anomaly.job_id}:"
        f"{anomaly.sheet_num}:{anomaly.started_at:.3f}"
    )


def anomaly_entry(anomaly: Anomaly) -> TimelineEntry:
    """The timeline line of an anomaly, open or closed."""
    severe = anomaly.severity in ("high", "critical")
    style = ("bold red" if severe else "yellow") if anomaly.active else "bright_black"
    state = "" if anomaly.active else " (ended)"
    description = shorten(anomaly.description or anomaly.anomaly_type.value, MAX_TEXT_CHARS)
    text = f"{anomaly.severity}: {description}{state}"
    return TimelineEntry(
        anomaly_key(anomaly),
        anomaly.started_at,
        anomaly.anomaly_type.value,
        style,
        anomaly.job_id,
        anomaly.sheet_num,
        anomaly.pid,
        text,
    )


class TimelineLog:
    """The newest `max_entries` events and anomalies, by key.

    Args:
        max_entries: How many entries to keep; the oldest go first.
        score: Keep only this job's entries (and system-wide anomalies), when given.
    """

    def __init__(self, max_entries: int = MAX_TIMELINE_ENTRIES, score: str | None = None) -> None:
        self.max_entries = max_entries
        self.score = score
        self._entries: OrderedDict[str, TimelineEntry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def record(self, events: tuple[ProcessEvent, ...], anomalies: AnomalyChanges) -> None:
        """Add one tick's events and anomaly changes."""
        for event in events:
            self._add(event_entry(event))
        for anomaly in anomalies.opened:
            self._add(anomaly_entry(anomaly))
        for anomaly in anomalies.closed:
            entry = anomaly_entry(anomaly)
            previous = self._entries.get(entry.key)
            self._add(replace(entry, timestamp=previous.timestamp) if previous else entry)

    def copy(self) -> TimelineLog:
        """A log holding the same entries, recorded into separately from now on."""
        twin = TimelineLog(self.max_entries, self.score)
        twin._entries = OrderedDict(self._entries)
        return twin

    def replace_with(self, other: TimelineLog) -> None:
        """Hold exactly `other`'s entries (history shows the past, then gives the log back)."""
        self._entries = OrderedDict(other._entries)

    def reset(self, events: tuple[ProcessEvent, ...], anomalies: tuple[Anomaly, ...]) -> None:
        """Hold only these events and anomalies (each anomaly as it stood: open or ended)."""
        self._entries.clear()
        self.record(events, AnomalyChanges(opened=anomalies))

    def _add(self, entry: TimelineEntry) -> None:
        if self.score is not None and entry.job_id not in (None, self.score):
            return
        self._entries[entry.key] = entry
        while len(self._entries) > self.max_entries:
            oldest = min(self._entries.values(), key=lambda e: e.timestamp)
            del self._entries[oldest.key]

    def newest_first(self) -> list[TimelineEntry]:
        """Every entry kept, the newest first."""
        return sorted(self._entries.values(), key=lambda e: (e.timestamp, e.key), reverse=True)
