"""The timeline widget: lifecycle events and anomalies, newest first, coloured by kind."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from mzt_tui.ui.formatting import format_clock
from mzt_tui.ui.keyed_table import Cell, ColumnSpec, KeyedTable, RowCells, SortValue
from mzt_tui.ui.timeline_log import TimelineEntry, TimelineLog

TIMELINE_COLUMNS = (
    ColumnSpec("time", "TIME", 8),
    ColumnSpec("kind", "KIND", 15),
    ColumnSpec("job", "JOB", 22),
    ColumnSpec("pid", "PID", 7, justify="right"),
    ColumnSpec("what", "WHAT"),
)


def _newest_first(values: Sequence[SortValue]) -> SortValue:
    return values[0]


class Timeline(KeyedTable):
    """The newest events and anomalies from a `TimelineLog`, synced in place.

    A cursor on the top row stays there, so new entries come into view; moved down, it stays
    on its entry.

    Args:
        log: Where the entries come from.
        timezone: The zone the times are shown in (local time when None).
        kwargs: Passed on to `DataTable`.
    """

    def __init__(self, log: TimelineLog, *, timezone: tzinfo | None = None, **kwargs: Any) -> None:
        super().__init__(TIMELINE_COLUMNS, **kwargs)
        self.follow_top = True
        self.timeline_log = log
        self.timezone = timezone
        self.set_sort(_newest_first, reverse=True)

    def refresh_entries(self) -> None:
        """Show what the log holds now."""
        self.sync_rows(
            {entry.key: self._cells(entry) for entry in self.timeline_log.newest_first()}
        )
        self.border_subtitle = f"{len(self.timeline_log)} entries"

    def _cells(self, entry: TimelineEntry) -> RowCells:
        job = entry.job_id or ""
        if entry.sheet_num is not None:
            job = f"{job} #{entry.sheet_num}"
        return (
            Cell(format_clock(entry.timestamp, self.timezone), (entry.timestamp, entry.key)),
            Cell(entry.kind, style=entry.style),
            Cell(job, style=entry.style),
            Cell(str(entry.pid) if entry.pid else "", justify="right", style=entry.style),
            Cell(entry.text, style=entry.style),
        )
