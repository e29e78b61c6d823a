"""A screen with a table and a filter field: `/` opens it, typing filters, Esc clears it.

The processes and patterns screens share this flow; each names its filter field and its
table, and watches `text_filter` to show the rows that match.
"""

from __future__ import annotations

from typing import ClassVar

from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input


class FilteredScreen(Screen[None]):
    """`/` shows the filter field, Enter keeps the filter, Esc clears it, else goes back."""

    FILTER_ID: ClassVar[str]
    """The id of the screen's filter `Input`."""

    text_filter: reactive[str] = reactive("", init=False)
    """Keep only the rows containing this text."""

    @property
    def table(self) -> Widget:
        """The widget that gets the focus back when the filter is kept or cleared."""
        raise NotImplementedError

    def _filter_field(self) -> Input:
        return self.query_one(f"#{self.FILTER_ID}", Input)

    def action_filter(self) -> None:
        """Show the filter and type into it."""
        field = self._filter_field()
        field.display = True
        self.set_focus(field)  # at once, so keys typed right after `/` reach the filter

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the user types."""
        if event.input.id == self.FILTER_ID:
            self.text_filter = event.value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter keeps the filter and goes back to the table."""
        if event.input.id == self.FILTER_ID:
            self.table.focus()

    def action_back(self) -> None:
        """Clear the filter if there is one, else go back."""
        field = self._filter_field()
        if field.display:
            field.value = ""
            field.display = False
            self.text_filter = ""
            self.table.focus()
            return
        self.dismiss()
