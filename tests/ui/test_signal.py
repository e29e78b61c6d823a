"""`x`: a confirmation naming the target, then the signal; never to a reused PID or read-only."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator

import pytest
from textual.pilot import Pilot

from mzt_tui.collect import signals
from mzt_tui.collect.signals import ProcessIdentity, identify
from mzt_tui.headless.engine import TickResult
from mzt_tui.models import ProcessMetric
from mzt_tui.ui.app import MztTopApp
from mzt_tui.ui.job_tree import JobTree
from mzt_tui.ui.job_tree_model import process_key
from mzt_tui.ui.signal_confirm import ConfirmSignalScreen
from tests.ui.conftest import inject, make_test_app
from tests.ui.factories import CONDUCTOR_PID, busy_processes, quiet_tick


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(["sleep", "60"])
    yield child
    if child.poll() is None:
        child.kill()
    child.wait(timeout=10)


def _metric(pid: int, *, start_shift: float = 0.0, sheet: int = 1) -> ProcessMetric:
    identity = identify(pid)
    assert identity is not None
    return ProcessMetric(
        pid=pid,
        ppid=CONDUCTOR_PID,
        command=identity.command,
        job_id="lint-repo",
        sheet_num=sheet,
        start_time=identity.start_time + start_shift,
    )


def _tick(process: ProcessMetric) -> TickResult:
    conductor = busy_processes()[0]
    return quiet_tick([conductor, process])


def _notes(app: MztTopApp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    notes: list[str] = []
    monkeypatch.setattr(app, "notify", lambda message, **_: notes.append(str(message)))
    return notes


async def _settle(pilot: Pilot[None]) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def _select(pilot: Pilot[None], kind: str, key: str | None = None) -> None:
    """Put the dashboard tree's cursor on the first node of `kind` (or with `key`)."""
    tree = pilot.app.screen.query_one(JobTree)
    for node_key in tree.keys:
        node = tree.node_for(node_key)
        ref = node.data if node is not None else None
        if ref is not None and ref.kind == kind and (key is None or node_key == key):
            tree.move_cursor(node)
            await pilot.pause()
            return
    raise AssertionError(f"no {kind} node {key or ''} in the tree")


async def _press(pilot: Pilot[None], *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await _settle(pilot)


async def test_x_on_a_process_confirms_then_sends_term(
    sleeper: subprocess.Popen[bytes],
) -> None:
    process = _metric(sleeper.pid)
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, _tick(process))
        await _select(pilot, "process", process_key(process))
        await _press(pilot, "x")
        assert isinstance(app.screen, ConfirmSignalScreen)
        assert app.screen.label == f"process {sleeper.pid}"
        assert sleeper.poll() is None
        await _press(pilot, "enter")
        assert not isinstance(app.screen, ConfirmSignalScreen)
    assert sleeper.wait(timeout=10) == -signal.SIGTERM


async def test_the_signal_can_be_chosen(sleeper: subprocess.Popen[bytes]) -> None:
    process = _metric(sleeper.pid)
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, _tick(process))
        await _select(pilot, "process", process_key(process))
        await _press(pilot, "x", "k", "y")
    assert sleeper.wait(timeout=10) == -signal.SIGKILL


async def test_x_on_a_sheet_signals_its_root_process(sleeper: subprocess.Popen[bytes]) -> None:
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, _tick(_metric(sleeper.pid)))
        await _select(pilot, "sheet")
        await _press(pilot, "x")
        assert isinstance(app.screen, ConfirmSignalScreen)
        assert app.screen.label == "sheet 1 of job lint-repo"
        await _press(pilot, "enter")
    assert sleeper.wait(timeout=10) == -signal.SIGTERM


async def test_cancel_leaves_the_process_alive(sleeper: subprocess.Popen[bytes]) -> None:
    process = _metric(sleeper.pid)
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, _tick(process))
        await _select(pilot, "process", process_key(process))
        await _press(pilot, "x", "escape")
        assert not isinstance(app.screen, ConfirmSignalScreen)
        await _press(pilot, "x", "n")
        assert not isinstance(app.screen, ConfirmSignalScreen)
    assert sleeper.poll() is None


async def test_readonly_refuses_and_signals_nothing(
    sleeper: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    process = _metric(sleeper.pid)
    app = make_test_app(readonly=True)
    notes = _notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, _tick(process))
        await _select(pilot, "process", process_key(process))
        await _press(pilot, "x")
        assert not isinstance(app.screen, ConfirmSignalScreen)
        assert notes == ["Read-only (--readonly): nothing is signalled."]
    assert sleeper.poll() is None


async def test_a_reused_pid_is_refused_before_the_confirmation(
    sleeper: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    process = _metric(sleeper.pid, start_shift=-30.0)  # same PID, another start time
    app = make_test_app()
    notes = _notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, _tick(process))
        await _select(pilot, "process", process_key(process))
        await _press(pilot, "x")
        assert not isinstance(app.screen, ConfirmSignalScreen)
        assert "now names another process" in notes[-1]
    assert sleeper.poll() is None


async def test_a_pid_reused_while_confirming_is_refused(
    sleeper: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    process = _metric(sleeper.pid)
    app = make_test_app()
    notes = _notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, _tick(process))
        await _select(pilot, "process", process_key(process))
        await _press(pilot, "x")
        assert isinstance(app.screen, ConfirmSignalScreen)
        # The process ends and its PID goes to a newer one before Enter.
        newer = ProcessIdentity(sleeper.pid, (process.start_time or 0) + 40.0, "root", "sleep 1")
        monkeypatch.setattr(signals, "identify", lambda pid: newer)
        await _press(pilot, "enter")
        assert "now belongs to another process" in notes[-1]
    assert sleeper.poll() is None


async def test_x_on_the_processes_screen_signals_the_selected_row(
    sleeper: subprocess.Popen[bytes],
) -> None:
    process = _metric(sleeper.pid)
    app = make_test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, quiet_tick([process]))
        await _press(pilot, "p", "x")
        assert isinstance(app.screen, ConfirmSignalScreen)
        await _press(pilot, "enter")
    assert sleeper.wait(timeout=10) == -signal.SIGTERM


@pytest.mark.skipif(os.geteuid() == 0, reason="root may signal every process")
async def test_another_users_process_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    identity = identify(1)
    if identity is None:
        pytest.skip("PID 1 is not visible here")
    init = ProcessMetric(pid=1, command=identity.command, start_time=identity.start_time)
    app = make_test_app()
    notes = _notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, quiet_tick([init]))
        await _press(pilot, "p", "x", "c", "enter")
        assert "not yours to signal" in notes[-1]


async def test_x_without_a_process_selected_says_what_to_select(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_test_app()
    notes = _notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await inject(pilot, quiet_tick([busy_processes()[0]]))
        await _select(pilot, "job")
        await _press(pilot, "x")
        assert notes == ["Select a process or a running sheet to signal."]
