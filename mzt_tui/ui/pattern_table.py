"""The table of learned patterns: keyed by pattern ID, sortable by any column, filterable."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mzt_tui.analysis.job_patterns import pattern_confidence
from mzt_tui.headless.learning_view import pattern_sample_size
from mzt_tui.models.learning import LearnedPattern
from mzt_tui.ui.column_fit import fit_content_columns
from mzt_tui.ui.keyed_table import Cell, ColumnSpec, KeyedTable, RowCells, SortValue

PATTERN_COLUMNS = (
    ColumnSpec("type", "TYPE", 22),
    ColumnSpec("confidence", "CONF", 6, justify="right"),
    ColumnSpec("sample", "N", 5, justify="right"),
    ColumnSpec("seen", "SEEN", 5, justify="right"),
    ColumnSpec("last_seen", "LAST SEEN", 16),
    ColumnSpec("finding", "FINDING"),
)
NARROW_COLUMN_KEYS = frozenset({"type", "confidence", "sample", "finding"})
NARROW_PATTERN_COLUMNS = tuple(c for c in PATTERN_COLUMNS if c.key in NARROW_COLUMN_KEYS)
COLUMN_LABELS = {column.key: column.label for column in PATTERN_COLUMNS}
DESCENDING_BY_DEFAULT = frozenset({"confidence", "sample", "seen", "last_seen"})
SORT_CYCLE = ("confidence", "last_seen", "sample", "seen", "type", "finding")


@dataclass(frozen=True, slots=True)
class PatternSortOrder:
    """Which column the patterns are sorted by, and which way."""

    column: str = "confidence"
    descending: bool = True

    @staticmethod
    def default_for(column: str) -> PatternSortOrder:
        """Sort by `column` in its natural direction (the highest and newest first)."""
        return PatternSortOrder(column, column in DESCENDING_BY_DEFAULT)

    def next_in_cycle(self) -> PatternSortOrder:
        """The next column of `s`'s cycle."""
        index = SORT_CYCLE.index(self.column) if self.column in SORT_CYCLE else -1
        return PatternSortOrder.default_for(SORT_CYCLE[(index + 1) % len(SORT_CYCLE)])

    def reversed(self) -> PatternSortOrder:
        """The same column, the other way."""
        return PatternSortOrder(self.column, not self.descending)

    @property
    def label(self) -> str:
        """`CONF ▼`."""
        return f"{COLUMN_LABELS.get(self.column, self.column)} {'▼' if self.descending else '▲'}"


def format_seen(moment: datetime | None) -> str:
    """A stored time as `YYYY-MM-DD HH:MM` in the zone it was stored in; empty for none."""
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def pattern_matches(pattern: LearnedPattern, needle: str) -> bool:
    """Whether the type, name, description or a tag contains `needle` (lower case)."""
    if not needle:
        return True
    haystack = (
        pattern.pattern_type,
        pattern.pattern_name,
        pattern.description or "",
        *pattern.context_tags,
    )
    return any(needle in text.lower() for text in haystack)


def pattern_cells(pattern: LearnedPattern, columns: Sequence[ColumnSpec]) -> RowCells:
    """The row of one pattern, for the given columns (inactive patterns dimmed)."""
    confidence, from_tag = pattern_confidence(pattern)
    sample_size = pattern_sample_size(pattern)
    dim = "" if pattern.active else "bright_black"
    last_seen = pattern.last_seen.timestamp() if pattern.last_seen else 0.0
    every: dict[str, Cell] = {
        "type": Cell(pattern.pattern_type, pattern.pattern_type, dim or "cyan"),
        "confidence": Cell(
            f"{confidence:.3f}" if from_tag else f"{confidence:.2f}*",
            confidence,
            dim,
            "right",
        ),
        "sample": Cell(
            "" if sample_size is None else str(sample_size),
            -1 if sample_size is None else sample_size,
            dim,
            "right",
        ),
        "seen": Cell(str(pattern.occurrence_count), pattern.occurrence_count, dim, "right"),
        "last_seen": Cell(format_seen(pattern.last_seen), last_seen, dim or "bright_black"),
        "finding": Cell(pattern.pattern_name, pattern.pattern_name.lower(), dim),
    }
    return tuple(every[column.key] for column in columns)


class PatternTable(KeyedTable):
    """Learned patterns, one keyed row each (the pattern ID), synced in place and sorted.

    Args:
        narrow: Show only the essential columns.
        order: The sort order to start with.
        kwargs: Passed on to `DataTable`.
    """

    def __init__(
        self, *, narrow: bool = False, order: PatternSortOrder | None = None, **kwargs: Any
    ) -> None:
        super().__init__(NARROW_PATTERN_COLUMNS if narrow else PATTERN_COLUMNS, **kwargs)
        self.narrow = narrow
        self.order = order or PatternSortOrder()
        self._column_index = {spec.key: i for i, spec in enumerate(self.column_specs)}
        self.sort_by(self.order)

    def sort_by(self, order: PatternSortOrder) -> None:
        """Sort the rows by `order` (the finding breaks ties), keeping the cursor on its row."""
        self.order = order
        column = self._column_index.get(order.column, self._column_index["confidence"])
        finding = self._column_index["finding"]

        def sort_key(values: Sequence[SortValue]) -> tuple[SortValue, SortValue]:
            return (values[column], values[finding])

        self.set_sort(sort_key, reverse=order.descending)
        self.mark_sorted_column(
            order.column if order.column in self._column_index else "confidence",
            order.descending,
        )

    def show(self, patterns: Iterable[LearnedPattern], needle: str) -> int:
        """Show the patterns that match `needle`; return how many that is."""
        rows = {
            pattern.id: pattern_cells(pattern, self.column_specs)
            for pattern in patterns
            if pattern_matches(pattern, needle)
        }
        fit_content_columns(self, rows)
        self.sync_rows(rows)
        return len(rows)
