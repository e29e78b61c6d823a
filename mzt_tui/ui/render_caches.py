"""Render caches sized for live tables and trees.

Textual's `DataTable` keeps 1,000 rendered rows, 1,000 lines and 10,000 rendered cells, and
`Tree` 1,024 lines. Those sizes suit content that stays put. Ours is redrawn every tick, and
each cache key holds the widget's update count, so after an update every older entry is dead:
it only waits to be evicted. Filling the caches up takes minutes at one tick a second (many
megabytes of segments and strips, which is the slow growth a long run showed), and nothing
in them is ever read again.

A few screens' worth is plenty: a redraw reads only what is visible, and scrolling back
within one tick finds it. A table whose cells changed drops its rendered rows, cells and
lines at once (none of them can be read again); a tree keeps its lines, since a changed
label makes only that node's lines new.
"""

from __future__ import annotations

from typing import Any

from textual.cache import LRUCache
from textual.widgets import DataTable, Tree

LINES = 256
"""Rendered lines (and rows) kept: several screens of even a tall terminal."""
CELLS = 4096
"""Rendered cells kept: those lines at 16 columns."""


def bound_table_caches(table: DataTable[Any]) -> None:
    """Give `table` caches of `LINES` rows (rendered and renderable) and lines, `CELLS` cells."""
    table._row_render_cache = LRUCache(LINES)
    table._row_renderable_cache = LRUCache(LINES)
    table._line_cache = LRUCache(LINES)
    table._cell_render_cache = LRUCache(CELLS)


def drop_dead_renders(table: DataTable[Any]) -> None:
    """Forget `table`'s rendered rows, cells and lines after its cells changed."""
    table._clear_caches()


def bound_tree_cache(tree: Tree[Any]) -> None:
    """Give `tree` a cache of `LINES` lines."""
    tree._line_cache = LRUCache(LINES)
