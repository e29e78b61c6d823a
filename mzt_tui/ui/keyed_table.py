"""A DataTable whose rows are kept in step with a keyed mapping, in place.

Each sync removes rows whose key is gone, updates only the cells that changed, adds new rows and
sorts once; the cursor stays on the row it was on (by key, not by index). The table is never
cleared and refilled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from mzt_tui.ui.render_caches import bound_table_caches, drop_dead_renders

SortValue = float | str | tuple[float | str, ...]
Justify = Literal["left", "right"]


class SortableText(Text):
    """Rich text that remembers the raw value it shows, so the table can sort by it."""

    def __init__(self, text: str, sort_value: SortValue, style: str, justify: Justify) -> None:
        super().__init__(text, style=style, justify=justify, no_wrap=True, end="")
        self.sort_value = sort_value


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell as data: what it shows, how, and the value it sorts by."""

    text: str
    sort_value: SortValue = ""
    style: str = ""
    justify: Justify = "left"

    def render(self) -> SortableText:
        """The renderable the table stores."""
        return SortableText(self.text, self.sort_value, self.style, self.justify)


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """A column: its key, its header, and a fixed width (None sizes it to its content)."""

    key: str
    label: str
    width: int | None = None
    justify: Justify = "left"


RowCells = tuple[Cell, ...]
SortKey = Callable[[Sequence[SortValue]], Any]


class KeyedTable(DataTable[SortableText]):
    """A table of keyed rows, synced in place by `sync_rows`.

    Args:
        columns: The columns, left to right.
        kwargs: Passed on to `DataTable`.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="table.cursor-down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.cursor-up"),
    ]

    follow_top = False
    """Keep a cursor that sits on the first row there (a log shows its newest line)."""

    def __init__(self, columns: Sequence[ColumnSpec], **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", False)
        super().__init__(**kwargs)
        bound_table_caches(self)
        self.column_specs = tuple(columns)
        self._row_cells: dict[str, RowCells] = {}
        self._sort_key: SortKey | None = None
        self._sort_reverse = False
        for spec in self.column_specs:
            self.add_column(self._header(spec, ""), width=spec.width, key=spec.key)

    @staticmethod
    def _header(spec: ColumnSpec, marker: str) -> Text:
        return Text(f"{spec.label}{marker}", justify=spec.justify, no_wrap=True)

    @property
    def row_keys(self) -> list[str]:
        """The keys of the rows, in display order."""
        return [str(row.key.value) for row in self.ordered_rows]

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor, if any."""
        if not self.row_count or not self.is_valid_row_index(self.cursor_row):
            return None
        return str(self.ordered_rows[self.cursor_row].key.value)

    def row_cells(self, key: str) -> RowCells | None:
        """The cells last synced for `key`."""
        return self._row_cells.get(key)

    def mark_sorted_column(self, column_key: str | None, reverse: bool) -> None:
        """Show an arrow in the header of the column the rows are sorted by."""
        for spec in self.column_specs:
            marker = ("▼" if reverse else "▲") if spec.key == column_key else ""
            self.columns[ColumnKey(spec.key)].label = self._header(spec, marker)
        self.refresh()

    def set_sort(self, sort_key: SortKey | None, *, reverse: bool = False) -> None:
        """Sort by `sort_key` (over a row's sort values) from now on, and sort now."""
        self._sort_key = sort_key
        self._sort_reverse = reverse
        self._sort_keeping_cursor()

    def sync_rows(self, rows: Mapping[str, RowCells]) -> None:
        """Make the table show exactly `rows`, changing only what differs.

        Args:
            rows: Cells by row key; each row has one cell per column.
        """
        cursor_row = self.cursor_row
        cursor_key = None if self.follow_top and cursor_row == 0 else self.cursor_key
        changed = False
        for key in [key for key in self._row_cells if key not in rows]:
            self.remove_row(key)
            del self._row_cells[key]
            changed = True
        last_column = len(self.column_specs) - 1
        for key, cells in rows.items():
            previous = self._row_cells.get(key)
            if previous is None:
                self.add_row(*(cell.render() for cell in cells), key=key)
                changed = True
            elif previous != cells:
                changed = True
                for index, (old, new) in enumerate(zip(previous, cells, strict=True)):
                    if old != new:
                        self.update_cell(
                            key,
                            self.column_specs[index].key,
                            new.render(),
                            update_width=index == last_column,
                        )
            self._row_cells[key] = cells
        if not changed:
            return  # the same rows in the same order: what was drawn stays valid
        if self._sort_key is not None:
            self.sort(key=self._row_sort_key, reverse=self._sort_reverse)
        drop_dead_renders(self)
        self._restore_cursor(cursor_key, cursor_row)

    def _row_sort_key(self, values: Sequence[SortableText]) -> Any:
        assert self._sort_key is not None
        return self._sort_key([value.sort_value for value in values])

    def _sort_keeping_cursor(self) -> None:
        cursor_key = self.cursor_key
        if self._sort_key is not None and self.row_count:
            self.sort(key=self._row_sort_key, reverse=self._sort_reverse)
        self._restore_cursor(cursor_key, self.cursor_row)

    def _restore_cursor(self, cursor_key: str | None, fallback_row: int) -> None:
        if not self.row_count:
            return
        if cursor_key is not None and cursor_key in self._row_cells:
            row = self.get_row_index(RowKey(cursor_key))
        else:
            row = min(max(fallback_row, 0), self.row_count - 1)
        if row != self.cursor_row:
            self.move_cursor(row=row, animate=False)
