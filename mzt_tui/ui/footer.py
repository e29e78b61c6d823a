"""Textual's footer, without the memory it keeps for every key it ever showed.

Each key the footer composes binds the footer's `compact` to itself, and the footer keeps a
watcher for it. Textual drops the watchers of removed keys only when `compact` changes,
which it never does here, while the footer composes its keys again whenever the bindings
change (a screen switch, a focus move). So every switch kept a dozen dead keys alive, each
with its styles and render caches: a session that moves between screens grew without end.
"""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    """The footer of every screen: Textual's, dropping the watchers of removed keys."""

    async def recompose(self) -> None:
        """Compose the keys again, then let go of the removed ones."""
        await super().recompose()
        # Setting `compact` to itself runs its watchers, which first drops those of closed
        # widgets; the live keys are told the value they already have.
        self.mutate_reactive(Footer.compact)
