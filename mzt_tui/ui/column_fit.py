"""Fixed widths for a keyed table's content-sized columns, set before its rows change.

A `DataTable` measures content-sized columns later, when it is idle, and keeps the cells it
rendered in between at their old width: a row drawn before that (the cursor's, often) stays
cut short. Setting each width from the rows themselves, in the same step as the rows, leaves
nothing to measure later.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.cells import cell_len
from textual.widgets.data_table import ColumnKey

from mzt_tui.ui.keyed_table import KeyedTable, RowCells

SORT_MARKER_CELLS = 1
"""Room for the `▲`/`▼` a sorted column's header gets."""


def fit_content_columns(table: KeyedTable, rows: Mapping[str, RowCells]) -> None:
    """Give every column without a fixed width the width of its widest cell or header."""
    for index, spec in enumerate(table.column_specs):
        if spec.width is not None:
            continue
        widest = max((cell_len(cells[index].text) for cells in rows.values()), default=0)
        column = table.columns[ColumnKey(spec.key)]
        column.auto_width = False
        column.width = max(widest, cell_len(spec.label) + SORT_MARKER_CELLS)
