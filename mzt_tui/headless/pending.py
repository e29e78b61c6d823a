"""One tick's writes to monitor.db, in order, each kept until it has been written.

A tick writes its snapshot, then its process events, then each anomaly that opened, each
that closed, then the sheet runs that ended. Every step is one transaction: the recorder
takes a step off the front only once it succeeded, so a retry after a failure (a full disk)
goes on where it stopped and never writes a row twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from mzt_tui.models import Anomaly, ProcessEvent, SystemSnapshot
from mzt_tui.models.sheet_runs import SheetRunSummary


@dataclass(frozen=True)
class WriteSnapshot:
    """Write the tick's snapshot (with its processes)."""

    snapshot: SystemSnapshot


@dataclass(frozen=True)
class WriteEvents:
    """Write the tick's process events in one transaction."""

    events: tuple[ProcessEvent, ...]


@dataclass(frozen=True)
class OpenAnomaly:
    """Write an anomaly that opened; its row id is remembered for its close."""

    anomaly: Anomaly


@dataclass(frozen=True)
class CloseAnomaly:
    """Set the end time of an anomaly written by an earlier `OpenAnomaly`."""

    anomaly: Anomaly
    ended_at: float


@dataclass(frozen=True)
class WriteSheetRuns:
    """Write the summaries of the sheet runs that ended, in one transaction."""

    runs: tuple[SheetRunSummary, ...]


WriteStep = WriteSnapshot | WriteEvents | OpenAnomaly | CloseAnomaly | WriteSheetRuns


@dataclass(frozen=True)
class RowCounts:
    """How many rows of each kind some writes hold."""

    ticks: int = 0
    events: int = 0
    openings: int = 0
    closings: int = 0
    sheet_runs: int = 0

    def __add__(self, other: RowCounts) -> RowCounts:
        return RowCounts(
            ticks=self.ticks + other.ticks,
            events=self.events + other.events,
            openings=self.openings + other.openings,
            closings=self.closings + other.closings,
            sheet_runs=self.sheet_runs + other.sheet_runs,
        )

    def in_words(self) -> str:
        """The non-zero counts in words, e.g. `2 ticks, 3 events and 1 anomaly opening`."""
        parts = [
            _count(number, noun)
            for number, noun in (
                (self.ticks, "tick"),
                (self.events, "event"),
                (self.openings, "anomaly opening"),
                (self.closings, "anomaly closing"),
                (self.sheet_runs, "sheet run"),
            )
            if number
        ]
        if len(parts) < 2:
            return "".join(parts)
        return ", ".join(parts[:-1]) + " and " + parts[-1]


@dataclass
class PendingWrites:
    """The steps of one tick (or of the shutdown) not written yet, oldest first."""

    steps: deque[WriteStep] = field(default_factory=deque)

    @classmethod
    def of_tick(
        cls,
        snapshot: SystemSnapshot,
        events: Iterable[ProcessEvent],
        opened: Iterable[Anomaly],
        closed: Iterable[CloseAnomaly],
        ended_runs: Iterable[SheetRunSummary],
    ) -> PendingWrites:
        """A tick's writes in the order they are made."""
        pending = cls(deque[WriteStep]([WriteSnapshot(snapshot)]))
        batch = tuple(events)
        if batch:
            pending.steps.append(WriteEvents(batch))
        pending.steps.extend(OpenAnomaly(anomaly) for anomaly in opened)
        pending.steps.extend(closed)
        runs = tuple(ended_runs)
        if runs:
            pending.steps.append(WriteSheetRuns(runs))
        return pending

    def counts(self) -> RowCounts:
        """The rows still to write."""
        ticks = events = openings = closings = sheet_runs = 0
        for step in self.steps:
            match step:
                case WriteSnapshot():
                    ticks += 1
                case WriteEvents(events=batch):
                    events += len(batch)
                case OpenAnomaly():
                    openings += 1
                case CloseAnomaly():
                    closings += 1
                case WriteSheetRuns(runs=runs):
                    sheet_runs += len(runs)
        return RowCounts(ticks, events, openings, closings, sheet_runs)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
