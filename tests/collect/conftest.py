"""Fixtures that start real processes and always clean them up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.collect.realproc import Reaper


@pytest.fixture
def reaper() -> Iterator[Reaper]:
    """A `Reaper` whose processes are all killed and waited for when the test ends."""
    keeper = Reaper()
    try:
        yield keeper
    finally:
        keeper.cleanup()
