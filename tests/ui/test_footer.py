"""Moving between screens does not keep the footer's old keys alive."""

from __future__ import annotations

import gc

from textual.widgets._footer import FooterKey

from tests.ui.conftest import inject, make_test_app
from tests.ui.factories import busy_tick

SWITCHES = 5


def _footer_keys_alive() -> int:
    gc.collect()
    return sum(isinstance(item, FooterKey) for item in gc.get_objects())


async def test_switching_screens_back_and_forth_keeps_a_bounded_number_of_footer_keys() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        for _ in range(2):
            await pilot.press("p", "escape")
        await pilot.pause()
        settled = _footer_keys_alive()
        for _ in range(SWITCHES):
            await pilot.press("p", "escape")
        await pilot.pause()
        alive = _footer_keys_alive()
        # Each switch composes about a dozen keys in each of the two footers: without the
        # pruning, every one of them would still be alive here.
        assert alive <= settled + 5, (settled, alive)
