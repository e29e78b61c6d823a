"""The collection engine on real process trees run by the demo conductor.

The demo starts each sheet the way Marianne does (a direct child in its own session, cwd =
the job's workspace), so this checks attribution, events and zombies end to end.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from mzt_tui.demo.runner import DemoProcess, start_demo_background
from mzt_tui.headless.engine import MonitorEngine, TickResult
from mzt_tui.marianne.paths import resolve_home
from mzt_tui.models import EventType, ProcessEvent

SEED = 35  # its first jobs include a zombie, a killed child, a timeout and a failed exit
SPEED = 10.0
RUN_SECONDS = 25.0
TICK_SECONDS = 0.25
REGISTRY_GRACE_SECONDS = 1.0
"""How long a new sheet process may go unnamed before it must be in its job."""


@pytest.fixture(scope="module")
def demo_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[DemoProcess, list[TickResult]]]:
    home_dir = tmp_path_factory.mktemp("demo-home")
    demo = start_demo_background(home_dir, seed=SEED, speed=SPEED, jobs=3)
    home = resolve_home(demo.home, pid_file=demo.pid_file)
    engine = MonitorEngine(home)
    results: list[TickResult] = []
    try:
        deadline = time.monotonic() + RUN_SECONDS
        while time.monotonic() < deadline:
            results.append(engine.tick())
            time.sleep(TICK_SECONDS)
    finally:
        demo.stop()
        engine.close()
    yield demo, results


def _cwd(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None


def test_the_conductor_is_found(demo_run: tuple[DemoProcess, list[TickResult]]) -> None:
    demo, results = demo_run
    assert all(result.conductor.pid == demo.pid for result in results)
    assert all(result.snapshot.daemon_pid == demo.pid for result in results)
    assert max(result.snapshot.running_jobs for result in results) >= 2


def test_every_sheet_process_lands_in_its_job_and_sheet(
    demo_run: tuple[DemoProcess, list[TickResult]],
) -> None:
    demo, results = demo_run
    checked_roots = 0
    first_seen: dict[tuple[int, float | None], float] = {}
    for result in results:
        jobs = {job.job_id: job for job in result.jobs}
        by_pid = {process.pid: process for process in result.snapshot.processes}
        now = result.snapshot.timestamp
        for process in result.all_processes:
            if process.ppid != demo.pid:
                continue
            seen = first_seen.setdefault((process.pid, process.start_time), now)
            if now - seen < REGISTRY_GRACE_SECONDS:
                # A sheet just spawned may not have exec'd yet (its command line is still
                # the conductor's), and the registry names it only once it has: on a busy
                # machine that can take longer than one tick.
                continue
            assert process.job_id is not None, process
            assert not process.attribution_guessed
            job = jobs[process.job_id]
            assert job.workspace is not None
            cwd = _cwd(process.pid)
            if cwd is not None:
                assert cwd == job.workspace or cwd.startswith(job.workspace + "/")
            assert process.sheet_num in job.sheets
            sheet = job.sheets[process.sheet_num]
            assert sheet.started_at is not None
            assert sheet.started_at.timestamp() <= (process.start_time or 0.0) + 1.0
            checked_roots += 1
            # Its descendants inherit the job and the sheet.
            for child in result.snapshot.processes:
                if child.ppid == process.pid:
                    assert (child.job_id, child.sheet_num) == (process.job_id, process.sheet_num)
            assert by_pid[process.pid].job_id == process.job_id
    assert checked_roots >= 20


def test_exits_kills_and_zombies_are_reported(
    demo_run: tuple[DemoProcess, list[TickResult]],
) -> None:
    _, results = demo_run
    events: list[ProcessEvent] = [event for result in results for event in result.events]
    kinds = {event.event_type for event in events}
    assert EventType.SPAWN in kinds
    failed_exits = [e for e in events if e.event_type == EventType.EXIT and e.exit_code]
    assert failed_exits, "a sheet that failed with an exit code"
    assert all(e.job_id is not None for e in failed_exits)
    by_signal = [e for e in events if e.event_type in (EventType.KILL, EventType.SIGNAL)]
    assert by_signal, "a sheet ended by a signal"
    assert all(e.signal_num for e in by_signal)
    zombie_ticks = [r for r in results if r.snapshot.zombie_pids]
    assert zombie_ticks, "a zombie was reported"
    zombie = zombie_ticks[0]
    states = {p.pid: p.state for p in zombie.snapshot.processes}
    assert all(states[pid] == "Z" for pid in zombie.snapshot.zombie_pids)
    assert zombie.snapshot.zombie_count == len(zombie.snapshot.zombie_pids)


def test_job_progress_follows_the_registry(
    demo_run: tuple[DemoProcess, list[TickResult]],
) -> None:
    _, results = demo_run
    last = results[-1]
    progress = {p.job_id: p for p in last.snapshot.job_progress}
    for job in last.jobs:
        if job.running:
            assert progress[job.job_id].total_sheets == job.sheet_total
