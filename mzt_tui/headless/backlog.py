"""A bounded in-memory backlog of writes that failed (a full disk), retried tick after tick.

While the disk is full the recorder keeps sampling: each tick's writes wait here, newest
kept, oldest dropped (and counted) beyond the bound, and are written in order as soon as a
write succeeds again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_BACKLOG_TICKS = 360
"""Ticks kept in memory while writes fail: 30 minutes at the default 5 s interval."""


@dataclass
class Backlog(Generic[T]):
    """Items waiting to be written, oldest first, at most `limit` of them.

    Args:
        limit: How many items are kept; adding beyond it drops the oldest.
    """

    limit: int = DEFAULT_BACKLOG_TICKS
    dropped: int = 0
    """Items dropped, oldest first, because the backlog was full (since it last emptied)."""
    _items: deque[T] = field(default_factory=deque)

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError("a backlog holds at least one item")

    def __len__(self) -> int:
        """How many items wait."""
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        """The items waiting, oldest first."""
        return iter(self._items)

    @property
    def newest(self) -> T | None:
        """The item added last, if any waits."""
        return self._items[-1] if self._items else None

    def add(self, item: T) -> list[T]:
        """Queue `item` after the others; drop the oldest beyond the limit and return them."""
        self._items.append(item)
        lost: list[T] = []
        while len(self._items) > self.limit:
            lost.append(self._items.popleft())
            self.dropped += 1
        return lost

    def flush(self, write: Callable[[T], None]) -> int:
        """Write the items oldest first until one fails; return how many were written.

        The item whose write raised stays first in the queue, and the exception propagates.
        """
        written = 0
        while self._items:
            write(self._items[0])
            self._items.popleft()
            written += 1
        return written
