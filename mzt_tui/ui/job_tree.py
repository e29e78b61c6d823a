"""The job tree widget: job → sheet → process tree, with aligned resource columns.

`JobTree.sync` makes the tree show a list of `JobTreeRow` in place: nodes whose key is gone are
removed, labels that changed are replaced, new nodes are inserted where they belong, and the
cursor and each node's expanded state stay with their keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from mzt_tui.ui.formatting import fit
from mzt_tui.ui.job_tree_model import JobTreeRow, NodeRef
from mzt_tui.ui.render_caches import bound_tree_cache

_TOGGLE = Style.from_meta({"toggle": True})
_LEAF_PREFIX = "  "
_MIN_NAME_WIDTH = 14
_MIN_DEEP_NAME_WIDTH = 6
_SCROLLBAR_WIDTH = 1


@dataclass(frozen=True, slots=True)
class TreeColumn:
    """A resource column of the tree: the row cell id, its header, width and alignment."""

    id: str
    label: str
    width: int
    right: bool = True


WIDE_COLUMNS = (
    TreeColumn("state", "STATE", 12, right=False),
    TreeColumn("progress", "PROG", 7),
    TreeColumn("cpu", "CPU%", 6),
    TreeColumn("rss", "RSS", 7),
    TreeColumn("threads", "THR", 5),
    TreeColumn("fds", "FD", 5),
    TreeColumn("gpu", "GPU", 6),
    TreeColumn("age", "AGE", 7),
)
NARROW_COLUMNS = tuple(
    c for c in WIDE_COLUMNS if c.id in {"state", "progress", "cpu", "rss", "age"}
)


def columns_width(columns: Sequence[TreeColumn]) -> int:
    """Cells taken by the resource columns, one space before each."""
    return sum(column.width + 1 for column in columns)


class JobTree(Tree[NodeRef], inherit_bindings=False):
    """The jobs, their sheets and process trees, and the other processes, updated in place."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", id="tree.drill-down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="tree.cursor-up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="tree.cursor-down"),
        Binding("left,h", "collapse_or_parent", "Collapse", show=False, id="tree.collapse"),
        Binding("right", "expand", "Expand", show=False, id="tree.expand"),
        Binding("pageup", "page_up", "Page up", show=False, id="tree.page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="tree.page-down"),
        Binding("home", "scroll_home", "First", show=False, id="tree.first"),
        Binding("end", "scroll_end", "Last", show=False, id="tree.last"),
    ]

    class ColumnsChanged(Message):
        """The name column's width or the set of columns changed (realign the headings)."""

    narrow: reactive[bool] = reactive(False)
    """Show only the essential columns (for terminals under 100 columns)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("jobs", **kwargs)
        bound_tree_cache(self)
        self.show_root = False
        self.guide_depth = 3
        self._node_by_key: dict[str, TreeNode[NodeRef]] = {}
        self._parents: dict[str, str | None] = {}
        self._depths: dict[str, int] = {}
        self._label_keys: dict[str, tuple[JobTreeRow, int, int, bool]] = {}
        self._defaults: dict[str, bool] = {}
        self._applied: dict[str, bool] = {}
        self._user_expanded: dict[str, bool] = {}
        self._rows: list[JobTreeRow] = []
        self._name_width = 40

    @property
    def columns(self) -> tuple[TreeColumn, ...]:
        """The resource columns shown now."""
        return NARROW_COLUMNS if self.narrow else WIDE_COLUMNS

    @property
    def name_width(self) -> int:
        """Width of the name column for top-level nodes."""
        return self._name_width

    def node_for(self, key: str) -> TreeNode[NodeRef] | None:
        """The node shown for `key`, if any."""
        return self._node_by_key.get(key)

    @property
    def keys(self) -> list[str]:
        """The keys of every node, shown or collapsed."""
        return list(self._node_by_key)

    @property
    def cursor_key(self) -> str | None:
        """The key of the node under the cursor."""
        node = self.cursor_node
        if node is None or node.data is None:
            return None
        return node.data.key

    def header_text(self) -> Text:
        """The column headings, aligned with the labels."""
        text = Text(fit("  NAME", self._name_width + len(_LEAF_PREFIX)), style="bold")
        for column in self.columns:
            text.append(" ")
            text.append(fit(column.label, column.width, right=column.right), style="bold")
        return text

    def render_label(self, node: TreeNode[NodeRef], base_style: Style, style: Style) -> Text:
        """Every label gets a two-cell prefix (leaves too), so the columns line up."""
        label = node.label if isinstance(node.label, Text) else Text(str(node.label))
        text = label.copy()
        text.stylize(style)
        if node.allow_expand:
            icon = self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE
            return Text.assemble((icon, base_style + _TOGGLE), text)
        return Text.assemble((_LEAF_PREFIX, base_style), text)

    def on_resize(self, event: events.Resize) -> None:
        """Widen or narrow the name column to the new width."""
        self._update_name_width(event.size.width)

    def watch_narrow(self) -> None:
        """Relabel every node for the new set of columns."""
        self._update_name_width(self.size.width, force=True)

    def _update_name_width(self, width: int, *, force: bool = False) -> None:
        spare = width - _SCROLLBAR_WIDTH - len(_LEAF_PREFIX) - columns_width(self.columns)
        name_width = max(_MIN_NAME_WIDTH, spare)
        if name_width != self._name_width or force:
            self._name_width = name_width
            self.post_message(self.ColumnsChanged())
            if self._rows:
                self.sync(self._rows)

    def action_collapse_or_parent(self) -> None:
        """Collapse the node under the cursor, or go to its parent when it is collapsed."""
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None and not node.parent.is_root:
            self.move_cursor(node.parent)

    def action_expand(self) -> None:
        """Expand the node under the cursor."""
        node = self.cursor_node
        if node is not None and node.allow_expand:
            node.expand()

    def _label(self, row: JobTreeRow, depth: int) -> Text:
        indent = (depth - 1) * self.guide_depth
        name_width = max(_MIN_DEEP_NAME_WIDTH, self._name_width - indent)
        text = Text(fit(row.name, name_width), style=row.name_style, no_wrap=True, end="")
        cells = {cell_id: (value, style) for cell_id, value, style in row.cells}
        for column in self.columns:
            value, style = cells.get(column.id, ("", ""))
            text.append(" ")
            text.append(fit(value, column.width, right=column.right), style=style)
        return text

    def sync(self, rows: Sequence[JobTreeRow]) -> None:
        """Show exactly `rows` (parents before children), changing only what differs."""
        self._rows = list(rows)
        cursor_key = self.cursor_key
        self._remember_user_choices()
        wanted = {row.key: row for row in rows}
        order: dict[str | None, list[str]] = {}
        for row in rows:
            order.setdefault(row.parent, []).append(row.key)
        self._reuse_leaf_slots(order, wanted)
        self._remove_gone(wanted)
        self._remove_out_of_order(order)
        depths: dict[str, int] = {}
        for row in rows:
            depth = 1 if row.parent is None else depths.get(row.parent, 0) + 1
            depths[row.key] = depth
            self._show_row(row, depth, order)
        self._depths = depths
        self._defaults = {row.key: row.expanded and row.expandable for row in rows}
        self._user_expanded = {
            key: value for key, value in self._user_expanded.items() if key in wanted
        }
        self._applied = {key: node.is_expanded for key, node in self._node_by_key.items()}
        self._place_cursor(cursor_key)

    def _reuse_leaf_slots(
        self, order: dict[str | None, list[str]], wanted: dict[str, JobTreeRow]
    ) -> None:
        """Give a list of leaves (the busiest other processes) its new rows slot by slot.

        Such a list is re-sorted every tick; moving nodes would mean removing and adding
        them, and each of those lays the whole screen out again. Relabelling the nodes in
        place repaints only their lines; the cursor still follows its process by key.
        """
        for parent_key, wanted_children in order.items():
            parent = self.root if parent_key is None else self._node_by_key.get(parent_key)
            if parent is None or parent.is_root:
                continue
            nodes = list(parent.children)
            if (
                not nodes
                or any(node.data is None or node.allow_expand or node.children for node in nodes)
                or any(wanted[key].expandable for key in wanted_children)
            ):
                continue
            keys = [node.data.key for node in nodes if node.data is not None]
            if keys == wanted_children[: len(keys)]:
                continue
            for node, old_key, new_key in zip(nodes, keys, wanted_children, strict=False):
                if old_key == new_key:
                    continue
                if self._node_by_key.get(old_key) is node:
                    self._forget(old_key)
                elsewhere = self._node_by_key.get(new_key)
                if elsewhere is not None and elsewhere.parent is not parent:
                    self._remove_node(new_key)
                node.data = wanted[new_key].ref
                self._node_by_key[new_key] = node
                self._label_keys.pop(new_key, None)
                self._parents[new_key] = parent_key
            surplus = len(wanted_children)
            for node, old_key in zip(nodes[surplus:], keys[surplus:], strict=True):
                if self._node_by_key.get(old_key) is not node:
                    node.remove()  # its process took an earlier slot

    def _remove_gone(self, wanted: dict[str, JobTreeRow]) -> None:
        for key in list(self._node_by_key):
            if key not in self._node_by_key:
                continue
            row = wanted.get(key)
            if row is None or self._parents.get(key) != row.parent:
                self._remove_node(key)

    def _remove_out_of_order(self, order: dict[str | None, list[str]]) -> None:
        """Remove the children that no longer stand in the wanted order (re-added after)."""
        for parent_key, wanted_children in order.items():
            parent = self.root if parent_key is None else self._node_by_key.get(parent_key)
            if parent is None:
                continue
            current = [c.data.key for c in parent.children if c.data is not None]
            present = set(current)
            desired = [key for key in wanted_children if key in present]
            mismatch = next(
                (i for i, (a, b) in enumerate(zip(current, desired, strict=False)) if a != b),
                None,
            )
            if mismatch is not None:
                for key in current[mismatch:]:
                    self._remove_node(key)

    def _remove_node(self, key: str) -> None:
        node = self._node_by_key.get(key)
        if node is None:
            return
        stack = [node]
        while stack:
            current = stack.pop()
            stack.extend(current.children)
            if current.data is not None:
                self._forget(current.data.key)
        node.remove()

    def _forget(self, key: str) -> None:
        self._node_by_key.pop(key, None)
        self._label_keys.pop(key, None)

    def _show_row(self, row: JobTreeRow, depth: int, order: dict[str | None, list[str]]) -> None:
        label_key = (row, depth, self._name_width, self.narrow)
        node = self._node_by_key.get(row.key)
        if node is None:
            parent = self.root if row.parent is None else self._node_by_key.get(row.parent)
            if parent is None:
                return
            siblings = order[row.parent]
            later = siblings[siblings.index(row.key) + 1 :]
            before = next((self._node_by_key[k] for k in later if k in self._node_by_key), None)
            node = parent.add(
                self._label(row, depth),
                data=row.ref,
                before=before,
                expand=self._wanted_expanded(row),
                allow_expand=row.expandable,
            )
            self._node_by_key[row.key] = node
        else:
            if node.allow_expand != row.expandable:
                node.allow_expand = row.expandable
            if self._label_keys.get(row.key) != label_key:
                node.set_label(self._label(row, depth))
            expanded = self._wanted_expanded(row)
            if expanded and not node.is_expanded:
                node.expand()
            elif not expanded and node.is_expanded:
                node.collapse()
        self._parents[row.key] = row.parent
        self._label_keys[row.key] = label_key

    def _wanted_expanded(self, row: JobTreeRow) -> bool:
        """The user's choice for this node if they made one, else the row's default."""
        return row.expandable and self._user_expanded.get(row.key, row.expanded)

    def _remember_user_choices(self) -> None:
        """Nodes opened or closed since the last sync were the user's doing: remember them."""
        for key, node in self._node_by_key.items():
            applied = self._applied.get(key)
            if applied is None or node.is_expanded == applied:
                continue
            if node.is_expanded == self._defaults.get(key, False):
                self._user_expanded.pop(key, None)
            else:
                self._user_expanded[key] = node.is_expanded

    def _place_cursor(self, cursor_key: str | None) -> None:
        """Keep the cursor on its key, else on the nearest ancestor still shown, else on top."""
        target: TreeNode[NodeRef] | None = None
        key = cursor_key
        while key is not None and target is None:
            target = self._node_by_key.get(key)
            key = self._parents.get(key)
        if target is None and self.root.children:
            target = self.root.children[0]
        self._parents = {
            key: self._parents[key] for key in self._node_by_key if key in self._parents
        }
        if target is None or target is self.cursor_node:
            return
        self.get_node_at_line(0)  # lay the lines out so the target knows its line
        self.move_cursor(target)
