"""The learning screen: statistics, executions, the hour chart's marks, waits, clusters."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from mzt_tui.marianne.learning import LearningStore
from mzt_tui.ui.app import MztTopApp
from mzt_tui.ui.dashboard import DashboardScreen
from mzt_tui.ui.hour_chart import HourChart, HourChartData, legend_text
from mzt_tui.ui.learning_screen import LearningScreen
from mzt_tui.ui.learning_tables import ClusterTable, ExecutionTable, WaitTable
from mzt_tui.ui.patterns import PatternsScreen
from tests.ui.learning_data import (
    AVOID_HOUR,
    NEUTRAL_HOUR,
    OPTIMAL_HOUR,
    WORKSPACE_A,
    fill_all,
    fill_learning,
)
from tests.ui.test_patterns_screen import app_over, settle


def _screen(app: MztTopApp) -> LearningScreen:
    screen = app.screen
    assert isinstance(screen, LearningScreen)
    return screen


def _column(table: ExecutionTable | WaitTable | ClusterTable, index: int) -> list[str]:
    texts = []
    for key in table.row_keys:
        cells = table.row_cells(key)
        assert cells is not None
        texts.append(cells[index].text)
    return texts


@pytest.fixture
def home(tmp_path: Path) -> Path:
    root = tmp_path / "home"
    root.mkdir()
    fill_all(root / "global-learning.db")
    return root


async def test_l_opens_the_learning_screen_with_its_statistics_and_escape_goes_back(
    home: Path,
) -> None:
    app = app_over(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")
        await settle(pilot)
        screen = _screen(app)
        report = screen.report
        assert report is not None
        assert report.stats.total_executions == 3
        assert report.stats.total_error_recoveries == 10
        assert report.stats.total_patterns == 4
        assert not screen.query_one("#learning-notice", Static).display
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_the_executions_are_listed_newest_first_with_status_retries_and_errors(
    home: Path,
) -> None:
    app = app_over(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")
        await settle(pilot)
        table = app.screen.query_one(ExecutionTable)
        assert _column(table, 2) == ["3", "2", "1"]  # sheets, newest completion first
        assert _column(table, 3) == ["failed", "completed", "completed"]
        assert _column(table, 4) == ["3", "1", "0"]
        assert _column(table, 5) == ["10m00s", "1m28s", "42.5s"]
        assert _column(table, 7) == ["claude-opus", "claude-sonnet", "claude-sonnet"]
        assert _column(table, 8) == ["E006, E101", "E101", "-"]
        assert _column(table, 0)[0] == "11-20 09:33"


async def test_the_waits_and_clusters_are_shown(home: Path) -> None:
    app = app_over(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")
        await settle(pilot)
        waits = app.screen.query_one(WaitTable)
        assert waits.row_keys == ["E006", "E101"]
        e101 = waits.row_cells("E101")
        assert e101 is not None
        assert [cell.text for cell in e101[1:3]] == ["4", "30.8s"]
        e006 = waits.row_cells("E006")
        assert e006 is not None
        assert e006[2].text == "-" and e006[5].text == "static_fallback"
        clusters = app.screen.query_one(ClusterTable)
        assert clusters.row_keys == ["cluster-build", "cluster-review"]
        review = clusters.row_cells("cluster-review")
        assert review is not None
        assert review[2].text == LearningStore.hash_workspace(WORKSPACE_A)[:12]


async def test_the_chart_marks_the_optimal_and_avoid_hours(home: Path) -> None:
    app = app_over(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")
        await settle(pilot)
        data = app.screen.query_one(HourChart).data
        assert isinstance(data, HourChartData)
        assert data.optimal == (OPTIMAL_HOUR,)
        assert data.avoid == (AVOID_HOUR,)
        assert data.rates[OPTIMAL_HOUR] == 100.0
        assert data.rates[AVOID_HOUR] == 0.0
        assert data.rates[NEUTRAL_HOUR] == 50.0
        assert data.rates[0] is None
        assert data.bars("optimal") == ([OPTIMAL_HOUR], [100.0])
        assert data.bars("avoid") == ([AVOID_HOUR], [0.0])
        assert data.bars("other") == ([NEUTRAL_HOUR], [50.0])
        assert data.sample_count == 10
        legend = str(app.screen.query_one("#hour-legend", Static).render())
        assert f"optimal {OPTIMAL_HOUR:02d}h" in legend and f"avoid {AVOID_HOUR:02d}h" in legend


async def test_the_chart_is_redrawn_only_when_its_data_changes_and_only_while_shown(
    home: Path,
) -> None:
    app = app_over(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")
        await settle(pilot)
        screen = _screen(app)
        chart = screen.query_one(HourChart)
        drawn = chart.data
        assert drawn is not None
        assert not chart.show(drawn)  # the same data: nothing redrawn
        # GIVEN a new recovery recorded while the screen is hidden
        await pilot.press("t")
        await settle(pilot)
        store = LearningStore(home / "global-learning.db")
        store.record_error_recovery("E777", 5.0, 5.0, True)
        screen.load_report()
        await settle(pilot)
        # THEN the chart keeps what it drew until the screen is shown again
        assert chart.data is drawn
        await pilot.press("l")
        await settle(pilot)
        assert chart.data is not drawn
        assert chart.data is not None and chart.data.sample_count == 11


async def test_r_reloads_and_the_tables_update_in_place(home: Path) -> None:
    app = app_over(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")
        await settle(pilot)
        waits = app.screen.query_one(WaitTable)
        LearningStore(home / "global-learning.db").record_error_recovery("E999", 5.0, 5.0, True)
        await pilot.press("r")
        await settle(pilot)
        assert app.screen.query_one(WaitTable) is waits
        assert waits.row_keys == ["E006", "E101", "E999"]


async def test_without_a_learning_store_a_calm_line_says_how_to_get_data(tmp_path: Path) -> None:
    app = app_over(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")
        await settle(pilot)
        notice = app.screen.query_one("#learning-notice", Static)
        assert notice.display and not notice.has_class("-error")
        text = str(notice.render())
        assert "No learning store" in text and "--record-outcomes" in text and "mzt demo" in text
        assert not app.screen.query_one("#learning-body").display
        assert not (tmp_path / "global-learning.db").exists()


async def test_an_empty_learning_store_says_nothing_is_recorded(tmp_path: Path) -> None:
    LearningStore(tmp_path / "global-learning.db").ensure_schema()
    app = app_over(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")
        await settle(pilot)
        text = str(app.screen.query_one("#learning-notice", Static).render())
        assert "Nothing recorded" in text
        assert app.screen.query_one(ExecutionTable).row_count == 0


async def test_a_corrupt_learning_store_is_one_line_of_error(tmp_path: Path) -> None:
    (tmp_path / "global-learning.db").write_bytes(b"not a database at all" * 100)
    app = app_over(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")
        await settle(pilot)
        notice = app.screen.query_one("#learning-notice", Static)
        assert notice.has_class("-error")
        assert "cannot read learning store" in str(notice.render())
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, PatternsScreen)


async def test_the_narrow_layout_stacks_the_panels(tmp_path: Path) -> None:
    fill_learning(tmp_path / "global-learning.db")
    app = app_over(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("l")
        await settle(pilot)
        screen = _screen(app)
        assert screen.has_class("-narrow")
        assert (
            screen.query_one("#learning-hours").region.y
            > screen.query_one("#learning-stats").region.y
        )
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert not screen.has_class("-narrow")


def test_the_legend_without_recoveries_says_so() -> None:
    assert "no error recoveries" in str(legend_text(None))
