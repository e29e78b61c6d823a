"""The dashboard driven by injected ticks: tree, gauges, timeline, filter, pause, narrow."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from textual.widget import Widget
from textual.widgets import Input, Static

from mzt_tui.headless.engine import TickResult
from mzt_tui.models import EventType, ProcessEvent
from mzt_tui.ui.conductor_line import ConductorLine
from mzt_tui.ui.dashboard import DashboardScreen
from mzt_tui.ui.gpu_gauges import GpuGauges
from mzt_tui.ui.job_tree import NARROW_COLUMNS, JobTree
from mzt_tui.ui.job_tree_model import OTHER_GROUP_KEY
from mzt_tui.ui.messages import TickCollected
from mzt_tui.ui.timeline import Timeline
from tests.ui.conftest import inject, make_test_app
from tests.ui.factories import (
    NOW,
    busy_processes,
    busy_tick,
    no_conductor_tick,
    process,
    quiet_tick,
)

PYTEST_KEY = "proc:1102:1699999970.00"


def _tree(app: Any) -> JobTree:
    return app.screen.query_one(JobTree)  # type: ignore[no-any-return]


def _static_text(widget: Static) -> str:
    return str(widget.render())


async def test_a_busy_tick_fills_the_gauges_the_tree_and_the_timeline() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        tree = _tree(app)
        assert {"job:train-model", "sheet:train-model:3", PYTEST_KEY} <= set(tree.keys)
        assert "conductor 1000" in _static_text(screen.query_one(ConductorLine))
        gpu_text = _static_text(screen.query_one(GpuGauges))
        assert "GPU0" in gpu_text
        assert "GPU1" in gpu_text
        timeline = screen.query_one(Timeline)
        assert timeline.row_count == 7
        assert timeline.row_keys[0].startswith("anomaly:zombie")
        assert app.sub_title == "/tmp/mzt-tui-test-home"
        monitor = _static_text(app.screen.query_one("#monitor-line", Static))
        assert monitor.endswith("at 22:13:20")


async def test_no_gpu_shows_the_reason() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick(gpus=False))
        text = _static_text(app.screen.query_one(GpuGauges))
        assert text.startswith("No GPU: NVML is not available")


async def test_arrows_and_j_k_move_and_right_expands_a_job() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        tree = _tree(app)
        assert tree.cursor_key == "conductor"
        await pilot.press("down")
        assert tree.cursor_key == "job:lint-repo"
        await pilot.press("j", "j")
        assert tree.cursor_key == "proc:1200:1699999935.00"
        await pilot.press("k")
        assert tree.cursor_key == "sheet:lint-repo:1"
        docs = tree.node_for("job:docs-site")
        assert docs is not None
        assert not docs.is_expanded
        tree.move_cursor(docs)
        await pilot.press("right")
        assert docs.is_expanded
        await pilot.press("down")
        assert tree.cursor_key == "sheet:docs-site:1"


async def test_a_job_the_user_closed_stays_closed_on_later_ticks() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        tree = _tree(app)
        train = tree.node_for("job:train-model")
        assert train is not None
        assert train.is_expanded
        tree.move_cursor(train)
        await pilot.press("left")
        assert not train.is_expanded
        await inject(pilot, busy_tick(timestamp=NOW + 2))
        assert tree.node_for("job:train-model") is train
        assert not train.is_expanded


async def test_an_update_keeps_the_cursor_on_the_same_process() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        tree = _tree(app)
        node = tree.node_for(PYTEST_KEY)
        assert node is not None
        tree.move_cursor(node)
        await pilot.pause()
        line_before = tree.cursor_line
        # GIVEN a new process that appears above the cursor's, and a changed figure
        newcomer = process(1203, "ruff format .", ppid=1200, job="lint-repo", sheet=1)
        changed = [
            p.model_copy(update={"cpu_percent": 12.0}) if p.pid == 1102 else p
            for p in busy_processes()
        ]
        # WHEN the next tick arrives
        await inject(pilot, quiet_tick([*changed, newcomer], timestamp=NOW + 2))
        # THEN the same node, updated in place, still holds the cursor, one line lower
        assert tree.node_for(PYTEST_KEY) is node
        assert tree.cursor_key == PYTEST_KEY
        assert tree.cursor_line == line_before + 1
        assert " 12.0 " in str(node.label)


async def test_a_process_that_exits_is_removed_and_the_cursor_goes_to_its_parent() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        tree = _tree(app)
        node = tree.node_for(PYTEST_KEY)
        assert node is not None
        tree.move_cursor(node)
        await pilot.pause()
        remaining = [p for p in busy_processes() if p.pid != 1102]
        await inject(pilot, quiet_tick(remaining, timestamp=NOW + 2))
        assert PYTEST_KEY not in tree.keys
        assert tree.cursor_key == "proc:1100:1699999580.00"


async def test_enter_on_a_process_of_no_job_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_test_app()
    notes: list[str] = []
    monkeypatch.setattr(app, "notify", lambda message, **_: notes.append(message))
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, no_conductor_tick())
        tree = _tree(app)
        node = tree.node_for("proc:610:1699996400.00")
        assert node is not None
        tree.move_cursor(node)
        await pilot.press("enter")
        assert isinstance(app.screen, DashboardScreen)
        assert notes == ["Process 610 belongs to no job (p lists every process)."]


async def test_enter_on_the_other_processes_group_toggles_it() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        tree = _tree(app)
        group = tree.node_for(OTHER_GROUP_KEY)
        assert group is not None
        assert not group.is_expanded
        tree.move_cursor(group)
        await pilot.press("enter")
        assert group.is_expanded
        assert isinstance(app.screen, DashboardScreen)


async def test_without_a_conductor_a_line_says_how_to_start_the_demo() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, no_conductor_tick())
        text = _static_text(app.screen.query_one(ConductorLine))
        assert text.startswith("No conductor found (no PID file at /tmp/marianne.pid)")
        assert "mzt top --demo" in text
        tree = _tree(app)
        group = tree.node_for(OTHER_GROUP_KEY)
        assert group is not None
        assert group.is_expanded
        assert len(group.children) == 5


async def test_slash_filters_the_tree_as_you_type_and_escape_clears_it() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        tree = _tree(app)
        await pilot.press("slash")
        field = app.screen.query_one("#tree-filter", Input)
        assert field.display
        assert field.has_focus
        await pilot.press("l", "i", "n", "t")
        assert "job:lint-repo" in tree.keys
        assert "job:train-model" not in tree.keys
        await pilot.press("enter")
        assert tree.has_focus
        assert field.display
        await pilot.press("escape")
        assert not field.display
        assert "job:train-model" in tree.keys


async def test_pause_holds_updates_back_until_resumed() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        tree = _tree(app)
        await pilot.press("space")
        assert app.paused
        assert app.sub_title.startswith("PAUSED at 22:13:20 · ")
        # A tick while paused: the tree does not change...
        await inject(pilot, no_conductor_tick())
        assert "job:train-model" in tree.keys
        assert app.screen.has_class("-paused") is False
        assert app.has_class("-paused")
        # ...until the user resumes: then the latest tick shows.
        await pilot.press("space")
        assert not app.paused
        assert "job:train-model" not in tree.keys


async def test_events_collected_while_paused_reach_the_timeline_on_resume() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, no_conductor_tick())
        timeline = app.screen.query_one(Timeline)
        await pilot.press("space")
        await inject(pilot, busy_tick())
        await inject(pilot, no_conductor_tick())
        assert timeline.row_count == 0
        await pilot.press("space")
        assert timeline.row_count == 7


async def test_ticks_without_events_coalesce_but_ticks_with_events_do_not() -> None:
    quiet = TickCollected(no_conductor_tick())
    eventful = TickCollected(busy_tick())
    assert quiet.can_replace(TickCollected(busy_tick()))
    assert not eventful.can_replace(quiet)


async def test_narrow_terminal_hides_per_core_bars_and_timeline() -> None:
    app = make_test_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await inject(pilot, busy_tick())
        screen = app.screen
        assert screen.has_class("-narrow")
        assert not screen.query_one(Timeline).display
        assert not screen.query_one("#core-bars").display
        tree = _tree(app)
        assert tree.narrow
        assert tree.columns == NARROW_COLUMNS
        assert "job:train-model" in tree.keys


async def test_growing_the_terminal_brings_the_wide_layout_back() -> None:
    app = make_test_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await inject(pilot, busy_tick())
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        screen = app.screen
        assert not screen.has_class("-narrow")
        assert screen.query_one(Timeline).display
        assert not _tree(app).narrow


def _with_events(result: TickResult, *events: ProcessEvent) -> TickResult:
    return dataclasses.replace(result, events=events)


async def test_the_timeline_follows_new_entries_unless_the_cursor_was_moved() -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, busy_tick())
        timeline = app.screen.query_one(Timeline)
        spawn = ProcessEvent(timestamp=NOW + 1, pid=1300, event_type=EventType.SPAWN)
        await inject(pilot, _with_events(quiet_tick(busy_processes(), timestamp=NOW + 1), spawn))
        assert timeline.cursor_row == 0
        assert timeline.cursor_key == timeline.row_keys[0]
        assert "1300" in timeline.row_keys[0]
        # GIVEN the user moved down to an entry
        timeline.focus()
        await pilot.press("down")
        chosen = timeline.cursor_key
        # WHEN a newer entry arrives, THEN the cursor stays on the chosen entry
        later = ProcessEvent(timestamp=NOW + 2, pid=1301, event_type=EventType.SPAWN)
        await inject(pilot, _with_events(quiet_tick(busy_processes(), timestamp=NOW + 2), later))
        assert timeline.cursor_key == chosen
        assert timeline.cursor_row == 2


async def test_a_resorted_process_list_reuses_its_rows_and_the_cursor_follows_its_process() -> None:
    """Busiest-first lists re-sort every tick: rows are relabelled in place, never re-added."""
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        first = no_conductor_tick()
        await inject(pilot, first)
        tree = _tree(app)
        group = tree.node_for(OTHER_GROUP_KEY)
        assert group is not None
        nodes_before = list(group.children)
        sshd_key = next(key for key in tree.keys if key.startswith("proc:420:"))
        sshd = tree.node_for(sshd_key)
        assert sshd is not None
        tree.move_cursor(sshd)
        await pilot.pause()
        # sshd turns busiest, http.server exits, a new process appears.
        changed = [
            p.model_copy(update={"cpu_percent": 50.0}) if p.pid == 420 else p
            for p in first.all_processes
            if p.pid != 610
        ] + [process(1500, "make -j4", cpu=9.0)]
        await inject(
            pilot,
            dataclasses.replace(
                first,
                snapshot=first.snapshot.model_copy(update={"processes": tuple(changed)}),
                all_processes=tuple(changed),
            ),
        )
        wanted = sorted(changed, key=lambda p: (-p.cpu_percent, -p.rss_mb, p.pid))
        shown = [node.data.key for node in group.children if node.data is not None]
        assert [key.split(":")[1] for key in shown] == [str(p.pid) for p in wanted]
        assert list(group.children) == nodes_before  # the same five nodes, relabelled
        for node in group.children:
            assert node.data is not None
            assert tree.node_for(node.data.key) is node
            assert f" {node.data.key.split(':')[1]} " in f" {node.label} "
        assert tree.cursor_key == sshd_key
        assert tree.cursor_node is group.children[0]
        assert not any(key.startswith("proc:610:") for key in tree.keys)


async def test_a_steady_tick_repaints_without_laying_the_screen_out_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Gauges, status lines, the header's time and a re-sorted list change in place.

    A layout pass re-renders the whole screen; only a change of size should ask for one.
    """
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        first = no_conductor_tick()
        await inject(pilot, first)
        await inject(
            pilot,
            dataclasses.replace(
                first, snapshot=first.snapshot.model_copy(update={"timestamp": NOW + 1.0})
            ),
        )
        layouts: list[str] = []
        original = Widget.refresh

        def refresh(self: Widget, *regions: Any, **kwargs: Any) -> Widget:
            if kwargs.get("layout"):
                layouts.append(type(self).__name__)
            return original(self, *regions, **kwargs)

        monkeypatch.setattr(Widget, "refresh", refresh)
        busier = tuple(
            p.model_copy(update={"cpu_percent": 90.0 - p.pid / 100}) for p in first.all_processes
        )
        snapshot = first.snapshot.model_copy(
            update={"timestamp": NOW + 2.0, "processes": busier, "cpu_percent": 77.0}
        )
        await inject(pilot, dataclasses.replace(first, snapshot=snapshot, all_processes=busier))
        assert "77" in _static_text(app.screen.query_one("#cpu-line", Static))
        assert layouts == []
