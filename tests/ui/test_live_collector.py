"""The real engine, ticking in the dashboard's worker over this machine (no conductor)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.worker import WorkerState

from mzt_tui.collect.ticks import TickStats
from mzt_tui.headless.engine import MonitorEngine, TickResult
from mzt_tui.marianne.paths import resolve_home
from mzt_tui.models.errors import MztError
from mzt_tui.ui.app import make_app
from mzt_tui.ui.conductor_line import ConductorLine
from mzt_tui.ui.job_tree import JobTree
from mzt_tui.ui.job_tree_model import OTHER_GROUP_KEY
from mzt_tui.ui.messages import TickCollected


async def test_two_real_ticks_show_this_machines_processes(tmp_path: Path) -> None:
    home = resolve_home(tmp_path, pid_file=tmp_path / "marianne.pid")
    app = make_app(home, interval=0.05, max_ticks=2)
    ticks: list[TickCollected] = []

    def record(message: object) -> None:
        # A tick is seen twice: by the screen that posted it, then by the app it bubbles to.
        if isinstance(message, TickCollected) and all(message is not t for t in ticks):
            ticks.append(message)

    async with app.run_test(size=(120, 40), message_hook=record) as pilot:
        await app.workers.wait_for_complete()
        for _ in range(50):  # the last tick's message may still be on its way
            await pilot.pause()
            if len(ticks) >= 2 and app.tick_result is ticks[-1].result:
                break
        assert len(ticks) == 2
        assert all(not worker.is_running for worker in app.workers)
        tree = app.screen.query_one(JobTree)
        group = tree.node_for(OTHER_GROUP_KEY)
        assert group is not None
        assert group.children, "the machine's processes are listed"
        conductor = str(app.screen.query_one(ConductorLine).render())
        assert conductor.startswith("No conductor found")
        assert app.tick_result is not None
        assert any(p.command for p in app.tick_result.all_processes)


class _FailingEngine(MonitorEngine):
    """An engine whose ticks fail: first with a known error, then with a bug."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.calls = 0

    def tick(self, stats: TickStats | None = None) -> TickResult:
        self.calls += 1
        if self.calls == 1:
            raise MztError("registry is locked")
        raise RuntimeError("boom")


async def test_collector_errors_become_notifications_not_crashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = resolve_home(tmp_path, pid_file=tmp_path / "marianne.pid")
    app = make_app(home, interval=0.01, engine=_FailingEngine(home=home))
    notes: list[tuple[str, str]] = []
    monkeypatch.setattr(
        app,
        "notify",
        lambda message, severity="information", **_: notes.append((severity, message)),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        # Not `wait_for_complete`: it re-raises the worker's error, which is the point here.
        for _ in range(200):
            await pilot.pause()
            if len(notes) >= 2:
                break
        assert all(worker.state is WorkerState.ERROR for worker in app.workers)
        assert notes[0] == ("warning", "registry is locked")
        assert notes[1][0] == "error"
        assert "collector stopped: boom" in notes[1][1]
        assert app.is_running
