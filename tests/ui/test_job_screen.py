"""The job screen driven by injected ticks: opening it, moving between jobs, charts, history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Static

from mzt_tui.marianne.learning import LearningStore
from mzt_tui.models import ProcessMetric
from mzt_tui.store.monitor import MonitorStore
from mzt_tui.ui.app import MztTopApp, make_app
from mzt_tui.ui.dashboard import DashboardScreen
from mzt_tui.ui.job_screen import JobScreen
from mzt_tui.ui.job_tree import JobTree
from mzt_tui.ui.keyed_table import KeyedTable
from mzt_tui.ui.processes import ProcessesScreen
from tests.ui.conftest import inject, make_test_app
from tests.ui.factories import NOW, busy_processes, busy_tick, process, snapshot

TRAIN_RSS = 820.0 + 400.0 + 1_536.0


async def _open(pilot: Pilot[None], key: str) -> JobScreen:
    """Put the dashboard's cursor on `key` and press Enter."""
    app = pilot.app
    assert isinstance(app.screen, DashboardScreen)
    tree = app.screen.query_one(JobTree)
    node = tree.node_for(key)
    assert node is not None
    tree.move_cursor(node)
    await pilot.press("enter")
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, JobScreen)
    return screen


def _table(screen: JobScreen, table_id: str) -> KeyedTable:
    return screen.query_one(f"#{table_id}", KeyedTable)


def _text(screen: JobScreen, static_id: str) -> str:
    return str(screen.query_one(f"#{static_id}", Static).render())


async def test_enter_on_a_job_opens_its_screen_and_escape_goes_back() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        screen = await _open(pilot, "job:train-model")
        assert screen.job_id == "train-model"
        assert _text(screen, "job-summary") == (
            "train-model · running · 2/4 sheets · running sheet 3 · 3 processes · 1 sample over 0s"
        )
        assert _table(screen, "sheet-peaks").row_keys == ["sheet:1", "sheet:2", "sheet:3"]
        tree = screen.query_one(JobTree)
        assert "proc:1102:1699999970.00" in tree.keys
        assert not any(key.startswith("job:lint-repo") for key in tree.keys)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_enter_on_a_sheet_selects_that_sheet_in_the_peaks_table() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        screen = await _open(pilot, "sheet:train-model:2")
        table = _table(screen, "sheet-peaks")
        assert table.cursor_key == "sheet:2"
        assert table.has_focus


async def test_enter_on_a_jobs_process_opens_its_job() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        screen = await _open(pilot, "proc:1200:1699999935.00")
        assert screen.job_id == "lint-repo"
        assert _table(screen, "sheet-peaks").cursor_key == "sheet:1"


async def test_brackets_move_to_the_next_and_previous_job_in_the_dashboards_order() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        screen = await _open(pilot, "job:lint-repo")
        await pilot.press("right_square_bracket")
        assert screen.job_id == "train-model"
        await pilot.press("right_square_bracket")
        assert screen.job_id == "docs-site"
        await pilot.press("right_square_bracket")
        assert screen.job_id == "lint-repo"
        await pilot.press("left_square_bracket")
        assert screen.job_id == "docs-site"
        assert app.screen is screen
        assert _text(screen, "job-summary").startswith("docs-site · completed · 3/3 sheets")


async def test_charts_follow_the_injected_ticks() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for offset in (-60.0, -30.0, 0.0):
            await inject(pilot, busy_tick(timestamp=NOW + offset))
        screen = await _open(pilot, "job:train-model")
        series = app.job_series.view("train-model")
        assert [p.rss_mb for p in series.points] == [TRAIN_RSS] * 3
        rss = screen.chart("chart-rss").data
        assert rss.xs == (-1.0, -0.5, 0.0)
        assert rss.ys == (TRAIN_RSS,) * 3
        assert rss.title == "RSS 2.7G · peak 2.7G"
        # the memory spike opened at NOW - 15 s on every tick: one anomaly mark in range
        assert rss.anomalies == (-0.25,)
        assert screen.chart("chart-gpu").data.ys == (2_048.0,) * 3
        # GIVEN a later tick with less memory, THEN the charts grow by one point
        lighter = [
            p.model_copy(update={"rss_mb": 10.0}) if p.pid == 1102 else p for p in busy_processes()
        ]
        later = busy_tick(timestamp=NOW + 30.0)
        await inject(pilot, replace(later, snapshot=snapshot(lighter, timestamp=NOW + 30.0)))
        rss = screen.chart("chart-rss").data
        assert rss.ys[-1] == 820.0 + 400.0 + 10.0
        assert rss.xs[-1] == 0.0


async def test_a_job_without_gpu_memory_gets_a_plain_line_instead_of_a_chart() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        screen = await _open(pilot, "job:lint-repo")
        gpu = screen.chart("chart-gpu").data
        assert gpu.empty_text == "no GPU memory used by this job"
        assert gpu.xs == ()
        assert "no GPU memory used by this job" in str(screen.chart("chart-gpu").render())


async def test_an_older_tick_shown_draws_the_series_up_to_its_time() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for offset in (0.0, 30.0, 60.0):
            await inject(pilot, busy_tick(timestamp=NOW + offset))
        screen = await _open(pilot, "job:train-model")
        assert len(screen.chart("chart-rss").data.xs) == 3
        # WHEN the app shows an older tick (history mode publishes recorded ticks)
        app.tick_result = busy_tick(timestamp=NOW + 30.0)
        await pilot.pause()
        assert screen.chart("chart-rss").data.xs == (-0.5, 0.0)


async def test_hidden_charts_are_not_replotted_until_the_screen_comes_back() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        screen = await _open(pilot, "job:train-model")
        await pilot.press("escape")
        await inject(pilot, busy_tick(timestamp=NOW + 30.0))
        assert len(screen.chart("chart-rss").data.xs) == 1
        app.action_show_job("train-model")
        await pilot.pause()
        assert len(screen.chart("chart-rss").data.xs) == 2


def _write_history(home: Path, processes: list[ProcessMetric]) -> None:
    with MonitorStore(home / "monitor.db") as store:
        for seconds_ago in (600.0, 300.0):
            store.write_snapshot(snapshot(processes, timestamp=NOW - seconds_ago))


def _home_app(home: Path) -> MztTopApp:
    return make_app(home, collect=False, timezone=UTC, cursor_blink=False)


async def test_recorded_points_and_the_profile_are_read_from_monitor_db(tmp_path: Path) -> None:
    traced = process(
        1102, "python -m pytest", ppid=1100, job="train-model", sheet=3, rss=1_536.0
    ).model_copy(update={"syscall_time_pct": {"futex": 75.0, "read": 25.0}})
    _write_history(tmp_path, [traced])
    app = _home_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        screen = await _open(pilot, "job:train-model")
        times = [p.timestamp for p in app.job_series.view("train-model").points]
        assert times == [NOW - 600.0, NOW - 300.0, NOW]
        assert screen.chart("chart-rss").data.xs == (-10.0, -5.0, 0.0)
        assert _text(screen, "hotspots") == (
            "Syscall hotspots (share of syscall time): futex 75% · read 25%"
        )
        assert "nothing recorded" not in _text(screen, "chart-legend")


async def test_without_monitor_db_the_hotspots_line_says_how_to_record_them(
    tmp_path: Path,
) -> None:
    app = _home_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        screen = await _open(pilot, "job:train-model")
        assert _text(screen, "hotspots") == (
            "Syscall hotspots: none recorded for this job; "
            "record them with `mzt top --headless --strace`."
        )
        assert "no monitor.db: nothing recorded" in _text(screen, "chart-legend")
        assert _text(screen, "patterns-note").startswith("No learned patterns: no learning store")


async def test_the_patterns_that_apply_to_the_job_are_listed(tmp_path: Path) -> None:
    learning = LearningStore(tmp_path / "global-learning.db")
    learning.record_pattern(
        "resource_correlation",
        "[memory_vs_failure] Sheets with peak RSS >2GB fail more often",
        "Sheets with peak RSS >2GB failed 60% of the time vs 15% otherwise",
        context_tags=("feature:peak_rss_mb", "bin:>2GB", "confidence:0.990"),
    )
    learning.record_pattern(
        "resource_correlation",
        "[memory_vs_failure] Sheets with peak RSS <256MB fail less often",
        "Sheets with peak RSS <256MB failed 5% of the time vs 40% otherwise",
        context_tags=("feature:peak_rss_mb", "bin:<256MB", "confidence:0.970"),
    )
    app = _home_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        screen = await _open(pilot, "job:train-model")
        table = _table(screen, "job-patterns")
        assert table.row_count == 1
        cells = table.row_cells(table.row_keys[0])
        assert cells is not None
        assert [cell.text for cell in cells[:3]] == [
            "resource_correlation",
            "0.99",
            "sheet 3 peaked at >2GB",
        ]
        assert _text(screen, "patterns-note") == "1 of 2 learned patterns apply to this job."


async def test_the_jobs_events_and_anomalies_are_listed_newest_first() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        screen = await _open(pilot, "job:train-model")
        table = _table(screen, "job-events")
        kinds = [table.row_cells(key)[1].text for key in table.row_keys]  # type: ignore[index]
        assert kinds == ["memory_spike", "kill", "spawn", "exit", "exit"]


async def test_the_footer_offers_back_and_the_job_keys_and_help_lists_them() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        screen = await _open(pilot, "job:train-model")
        shown = {
            active.binding.id
            for active in screen.active_bindings.values()
            if active.binding.show and active.enabled
        }
        assert {"job.back", "job.previous", "job.next", "app.dashboard"} <= shown
        await pilot.press("d")
        assert isinstance(app.screen, DashboardScreen)


async def test_a_narrow_terminal_still_shows_the_charts_and_the_tabs() -> None:
    app = make_test_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await inject(pilot, busy_tick())
        screen = await _open(pilot, "job:train-model")
        assert screen.narrow
        assert screen.has_class("-narrow")
        assert screen.chart("chart-rss").size.height == 8
        assert screen.query_one(JobTree).narrow


async def test_enter_on_a_jobs_process_in_the_processes_screen_opens_its_job() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        await pilot.press("p")
        table = app.screen.query_one("#process-table", KeyedTable)
        table.move_cursor(row=table.row_keys.index("proc:1102:1699999970.00"), animate=False)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, JobScreen)
        assert screen.job_id == "train-model"
        assert _table(screen, "sheet-peaks").cursor_key == "sheet:3"
        await pilot.press("escape")
        assert isinstance(app.screen, ProcessesScreen)


async def test_the_palettes_job_command_opens_the_job_under_the_cursor() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        tree = app.screen.query_one(JobTree)
        node = tree.node_for("sheet:lint-repo:1")
        assert node is not None
        tree.move_cursor(node)
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        commands["Job"].callback()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, JobScreen)
        assert screen.job_id == "lint-repo"
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert titles[:2] == ["Dashboard", "Processes"]
