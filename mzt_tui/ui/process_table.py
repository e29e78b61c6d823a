"""The htop-style table of every process: keyed rows, sortable by any column, filterable."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mzt_tui.models import ProcessMetric
from mzt_tui.ui.formatting import command_name, format_age, format_mb
from mzt_tui.ui.job_tree_model import PROCESS_STATE_STYLES, process_key
from mzt_tui.ui.keyed_table import Cell, ColumnSpec, KeyedTable, RowCells, SortValue

PROCESS_COLUMNS = (
    ColumnSpec("pid", "PID", 7, justify="right"),
    ColumnSpec("ppid", "PPID", 7, justify="right"),
    ColumnSpec("state", "S", 2),
    ColumnSpec("cpu", "CPU%", 6, justify="right"),
    ColumnSpec("rss", "RSS", 7, justify="right"),
    ColumnSpec("threads", "THR", 4, justify="right"),
    ColumnSpec("fds", "FD", 5, justify="right"),
    ColumnSpec("age", "AGE", 7, justify="right"),
    ColumnSpec("job", "JOB", 18),
    ColumnSpec("sheet", "SHEET", 5, justify="right"),
    ColumnSpec("command", "COMMAND"),
)
NARROW_COLUMN_KEYS = frozenset({"pid", "state", "cpu", "rss", "age", "job", "command"})
NARROW_PROCESS_COLUMNS = tuple(c for c in PROCESS_COLUMNS if c.key in NARROW_COLUMN_KEYS)
COLUMN_LABELS = {column.key: column.label for column in PROCESS_COLUMNS}
DESCENDING_BY_DEFAULT = frozenset({"cpu", "rss", "threads", "fds"})
SORT_CYCLE = ("cpu", "rss", "pid", "age", "threads", "fds", "job", "command")


@dataclass(frozen=True, slots=True)
class SortOrder:
    """Which column the rows are sorted by, and which way."""

    column: str = "cpu"
    descending: bool = True

    @staticmethod
    def default_for(column: str) -> SortOrder:
        """Sort by `column` in its natural direction (the biggest first for resources)."""
        return SortOrder(column, column in DESCENDING_BY_DEFAULT)

    def next_in_cycle(self) -> SortOrder:
        """The next column of `s`'s cycle."""
        index = SORT_CYCLE.index(self.column) if self.column in SORT_CYCLE else -1
        return SortOrder.default_for(SORT_CYCLE[(index + 1) % len(SORT_CYCLE)])

    def reversed(self) -> SortOrder:
        """The same column, the other way."""
        return SortOrder(self.column, not self.descending)

    @property
    def label(self) -> str:
        """`CPU% ▼`."""
        return f"{COLUMN_LABELS.get(self.column, self.column)} {'▼' if self.descending else '▲'}"


def process_matches(process: ProcessMetric, needle: str) -> bool:
    """Whether the command, the PID or the job contains `needle` (lower case)."""
    return (
        not needle
        or needle in process.command.lower()
        or needle in str(process.pid)
        or (process.job_id is not None and needle in process.job_id.lower())
    )


def process_cells(process: ProcessMetric, columns: Sequence[ColumnSpec]) -> RowCells:
    """The row of one process, for the given columns."""
    job_style = "italic" if process.attribution_guessed else "cyan"
    every: dict[str, Cell] = {
        "pid": Cell(str(process.pid), process.pid, justify="right"),
        "ppid": Cell(str(process.ppid), process.ppid, "bright_black", "right"),
        "state": Cell(process.state, process.state, PROCESS_STATE_STYLES.get(process.state, "")),
        "cpu": Cell(f"{process.cpu_percent:.1f}", process.cpu_percent, justify="right"),
        "rss": Cell(format_mb(process.rss_mb), process.rss_mb, justify="right"),
        "threads": Cell(str(process.threads), process.threads, justify="right"),
        "fds": Cell(str(process.open_fds), process.open_fds, justify="right"),
        "age": Cell(format_age(process.age_seconds), process.age_seconds, "bright_black", "right"),
        "job": Cell(process.job_id or "", process.job_id or "", job_style),
        "sheet": Cell(
            "" if process.sheet_num is None else str(process.sheet_num),
            -1 if process.sheet_num is None else process.sheet_num,
            justify="right",
        ),
        "command": Cell(command_name(process.command), process.command.lower()),
    }
    return tuple(every[column.key] for column in columns)


class ProcessTable(KeyedTable):
    """Every process, one keyed row each, synced in place and sorted by `order`.

    Args:
        narrow: Show only the essential columns.
        order: The sort order to start with.
        kwargs: Passed on to `DataTable`.
    """

    def __init__(
        self, *, narrow: bool = False, order: SortOrder | None = None, **kwargs: Any
    ) -> None:
        super().__init__(NARROW_PROCESS_COLUMNS if narrow else PROCESS_COLUMNS, **kwargs)
        self.narrow = narrow
        self.order = order or SortOrder()
        self._column_index = {spec.key: i for i, spec in enumerate(self.column_specs)}
        self.sort_by(self.order)

    def sort_by(self, order: SortOrder) -> None:
        """Sort the rows by `order` (the PID breaks ties), keeping the cursor on its row."""
        self.order = order
        column = self._column_index.get(order.column, self._column_index["pid"])
        pid = self._column_index["pid"]

        def sort_key(values: Sequence[SortValue]) -> tuple[SortValue, SortValue]:
            return (values[column], values[pid])

        self.set_sort(sort_key, reverse=order.descending)
        self.mark_sorted_column(order.column, order.descending)

    def show(self, processes: Iterable[ProcessMetric], needle: str) -> int:
        """Show the processes that match `needle`; return how many that is."""
        rows = {
            process_key(process): process_cells(process, self.column_specs)
            for process in processes
            if process_matches(process, needle)
        }
        self.sync_rows(rows)
        return len(rows)
