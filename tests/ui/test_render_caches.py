"""Live tables and the job tree keep render caches a few screens deep, not Textual's 1,000s.

Every tick redraws them and every older cache entry is dead; a long run must not keep
filling caches with them (the slow RSS growth of a long soak).
"""

from __future__ import annotations

from mzt_tui.models import ProcessMetric
from mzt_tui.ui.job_tree import JobTree
from mzt_tui.ui.process_table import ProcessTable
from mzt_tui.ui.render_caches import CELLS, LINES
from tests.ui.conftest import inject, make_test_app
from tests.ui.factories import process, quiet_tick

TICKS = 10
PROCESSES = 60


def _tick(index: int) -> list[ProcessMetric]:
    """Processes whose CPU changes every tick, so every visible row is drawn again."""
    return [
        process(5000 + n, f"worker {n}", cpu=float((n * 7 + index) % 100), rss=10.0 + index)
        for n in range(PROCESSES)
    ]


async def test_the_processes_table_and_job_tree_caches_stay_bounded_over_many_ticks() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 60)) as pilot:
        await inject(pilot, quiet_tick(_tick(0)))
        tree = app.screen.query_one(JobTree)
        await pilot.press("p")
        table = app.screen.query_one(ProcessTable)
        for index in range(1, TICKS):
            await inject(pilot, quiet_tick(_tick(index), timestamp=1_795_000_000.0 + index))
        await pilot.pause()
        # Ten redraws of ~50 visible rows: Textual's own caches would hold them all.
        assert TICKS * 50 > LINES
        assert 0 < len(table._row_render_cache) <= LINES
        assert 0 < len(table._row_renderable_cache) <= LINES
        assert 0 < len(table._line_cache) <= LINES
        assert 0 < len(table._cell_render_cache) <= CELLS
        assert len(tree._line_cache) <= LINES
        # Each changed tick drops the table's older renders: only the last redraw's are left.
        assert len(table._row_render_cache) <= table.size.height
        assert len(table._row_renderable_cache) <= table.size.height
        assert len(table._cell_render_cache) <= table.size.height * len(table.columns)


async def test_a_tick_that_changes_nothing_keeps_what_was_drawn() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.press("p")
        table = app.screen.query_one(ProcessTable)
        await inject(pilot, quiet_tick(_tick(0)))
        await pilot.pause()
        drawn = len(table._row_render_cache)
        update_count = table._update_count
        await inject(pilot, quiet_tick(_tick(0)))
        await pilot.pause()
        assert drawn > 0
        assert table._update_count == update_count  # not even re-sorted
        assert len(table._row_render_cache) == drawn
