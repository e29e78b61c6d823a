"""Helpers for the UI tests: an app with the collector off, and a way to inject ticks."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from mzt_tui.headless.engine import TickResult
from mzt_tui.ui.app import MztTopApp, make_app
from mzt_tui.ui.messages import TickCollected

TEST_HOME = Path("/tmp/mzt-tui-test-home")
"""A fixed home path (never created): it shows in the header, so snapshots must not vary."""


def make_test_app(**kwargs: Any) -> MztTopApp:
    """The app with the live collector off, times in UTC and no blinking cursor."""
    return make_app(TEST_HOME, collect=False, timezone=UTC, cursor_blink=False, **kwargs)


async def inject(pilot: Pilot[None], result: TickResult) -> None:
    """Post a tick as the collector would, and let the app handle it."""
    pilot.app.post_message(TickCollected(result))
    await pilot.pause()
