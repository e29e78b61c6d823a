"""Pause Python's cyclic garbage collector while a read builds thousands of models.

A read of 100 snapshots builds 10,000 process models, each a tracked object with a tracked
`__dict__`. Every 700 of them start a young-generation collection, and the older
generations are walked again and again, over objects that are all alive: none of that
work can free anything. Reference counting still frees everything as usual meanwhile;
only cycle detection waits until the read ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pause:
    """How many blocks pause the collector now, and whether to enable it when they end."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.was_enabled = False


_pause = _Pause()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block; nested and concurrent blocks share one pause.

    The collector is enabled again when the last block ends, and only if it was enabled
    when the first began.
    """
    with _pause.lock:
        if _pause.depth == 0:
            _pause.was_enabled = gc.isenabled()
            gc.disable()
        _pause.depth += 1
    try:
        yield
    finally:
        with _pause.lock:
            _pause.depth -= 1
            if _pause.depth == 0 and _pause.was_enabled:
                gc.enable()
