"""Attribution of a real process tree, and sampling through heavy process churn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mzt_tui.collect.attribution import Attribution, Attributor
from mzt_tui.collect.procfs import ProcfsSampler
from mzt_tui.collect.psutil_sampler import PsutilSampler
from mzt_tui.collect.sampling import ProcessSampler
from mzt_tui.models import JobRecord, SheetState
from tests.collect.realproc import Reaper, needs_procfs, wait_for

pytestmark = needs_procfs

CONDUCTOR_SCRIPT = Path(__file__).with_name("conductor_script.py")


def utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def running_job(job_id: str, workspace: Path, sheets: dict[int, tuple[str, float]]) -> JobRecord:
    return JobRecord(
        job_id=job_id,
        workspace=str(workspace),
        status="running",
        sheets={
            n: SheetState(sheet_num=n, status=status, started_at=utc(started))
            for n, (status, started) in sheets.items()
        },
    )


@pytest.mark.parametrize(
    "factory", [pytest.param(ProcfsSampler, id="procfs"), pytest.param(PsutilSampler, id="psutil")]
)
def test_real_conductor_tree_is_attributed(
    reaper: Reaper, tmp_path: Path, factory: type[ProcfsSampler] | type[PsutilSampler]
) -> None:
    # GIVEN workspaces, one nested in another and one sharing a prefix with another
    ws_a, ws_ab, ws_b = tmp_path / "ws-a", tmp_path / "ws-ab", tmp_path / "ws-b"
    nested, elsewhere, finished = ws_a / "nested", tmp_path / "elsewhere", tmp_path / "done"
    for directory in (ws_a, ws_ab, ws_b, nested / "deeper", elsewhere, finished):
        directory.mkdir(parents=True)
    plan = [
        {"cwd": str(ws_a), "argv": ["sleep", "300"]},  # 0: alpha sheet 1
        {"cwd": str(ws_a), "argv": ["sh", "-c", "sleep 301 & wait"], "pause": 0.3},  # 1: sheet 2
        {"cwd": str(ws_ab), "argv": ["sleep", "302"]},  # 2: alphabet, not alpha
        {"cwd": str(nested / "deeper"), "argv": ["sleep", "303"]},  # 3: the nested job
        {"cwd": str(elsewhere), "argv": ["sleep", "304"]},  # 4: no job
        {"cwd": str(finished), "argv": ["sleep", "305"]},  # 5: a job that is not running
        {"cwd": str(ws_b), "argv": ["sleep", "306"], "orphan": True},  # 6: orphan of beta
    ]
    # AND a stand-in conductor that starts them as its children, marking each start
    conductor = reaper.spawn(
        [sys.executable, str(CONDUCTOR_SCRIPT), json.dumps(plan)], stdout=subprocess.PIPE
    )
    assert conductor.stdout is not None
    started = json.loads(conductor.stdout.readline())
    pids = [int(step["pid"]) for step in started]
    marks = [float(step["mark"]) for step in started]
    # Each sheet runs in its own session and group (the orphan in its dead shell's group):
    # kill those groups at teardown, since killing the conductor does not reach them.
    for pid in pids:
        reaper.adopt_group(os.getpgid(pid))
    reaper.adopt(pids[6])
    jobs = [
        running_job("alpha", ws_a, {1: ("in_progress", marks[0]), 2: ("in_progress", marks[1])}),
        running_job("alphabet", ws_ab, {1: ("in_progress", marks[0] - 60)}),
        running_job("nested", nested, {4: ("dispatched", marks[0] - 30)}),
        running_job("beta", ws_b, {1: ("completed", marks[0] - 90), 2: ("in_progress", marks[6])}),
        running_job("done", finished, {1: ("in_progress", marks[0] - 60)}).model_copy(
            update={"status": "completed"}
        ),
    ]
    sampler: ProcessSampler = factory()

    def grandchild() -> int | None:
        found = [p.pid for p in sampler.sample().processes if p.ppid == pids[1]]
        return found[0] if found else None

    wait_for(lambda: grandchild() is not None)
    wait_for(lambda: sampler.sample().by_pid()[pids[6]].ppid != conductor.pid)
    grandchild_pid = grandchild()

    # WHEN one tick is attributed
    attributor = Attributor()
    tick = sampler.sample(detail_roots={conductor.pid})
    result = {
        pid: a
        for (pid, _), a in attributor.assign(
            conductor.pid, jobs, tick.processes, sampler.cwd
        ).items()
    }

    # THEN every process lands in its job and sheet, and nothing else is attributed
    assert result == {
        pids[0]: Attribution("alpha", 1, False),
        pids[1]: Attribution("alpha", 2, False),
        grandchild_pid: Attribution("alpha", 2, False),
        pids[2]: Attribution("alphabet", 1, False),
        pids[3]: Attribution("nested", 4, False),
        pids[6]: Attribution("beta", 2, True),
    }
    assert tick.by_pid()[pids[6]].ppid != conductor.pid
    assert all(tick.by_pid()[pid].open_fds is not None for pid in pids[:6])

    # AND the assignments hold on the next tick although the job moved on
    moved_on = [
        running_job("alpha", ws_a, {1: ("completed", marks[0]), 3: ("in_progress", time.time())}),
        *jobs[1:],
    ]
    again = attributor.assign(conductor.pid, moved_on, sampler.sample().processes, sampler.cwd)
    assert {pid: a for (pid, _), a in again.items()} == result


CHURN_SCRIPT = """
import os, sys, time
rate, seconds = float(sys.argv[1]), float(sys.argv[2])
print("ready", flush=True)
end = time.monotonic() + seconds
spawned = 0
while time.monotonic() < end:
    args = ["true"] if spawned % 2 else ["sleep", "0.02"]
    os.posix_spawnp(args[0], args, os.environ)
    spawned += 1
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
    time.sleep(max(0.0, spawned / rate - (time.monotonic() - end + seconds)))
print(spawned, flush=True)
"""


@pytest.mark.parametrize(
    "factory", [pytest.param(ProcfsSampler, id="procfs"), pytest.param(PsutilSampler, id="psutil")]
)
def test_sampling_through_200_spawns_a_second(
    reaper: Reaper, tmp_path: Path, factory: type[ProcfsSampler] | type[PsutilSampler]
) -> None:
    # GIVEN a process spawning 200 short-lived children a second, in a job's workspace
    seconds = 3.0
    spawner = reaper.spawn(
        [sys.executable, "-c", CHURN_SCRIPT, "200", str(seconds)],
        cwd=str(tmp_path),
        stdout=subprocess.PIPE,
    )
    assert spawner.stdout is not None
    assert spawner.stdout.readline().strip() == b"ready"
    jobs = [running_job("churn", tmp_path, {1: ("in_progress", time.time() - 1)})]
    sampler: ProcessSampler = factory()
    attributor = Attributor()
    ticks = 0
    children_seen: set[int] = set()
    done = threading.Event()
    spawned: list[int] = []

    def wait_spawner() -> None:
        assert spawner.stdout is not None
        spawned.append(int(spawner.stdout.readline()))
        done.set()

    waiter = threading.Thread(target=wait_spawner, daemon=True)
    waiter.start()
    # WHEN sampling, attributing and reading cwd and fds as fast as possible meanwhile
    while not done.is_set():
        tick = sampler.sample(detail_roots={spawner.pid})
        assigned = attributor.assign(spawner.pid, jobs, tick.processes, sampler.cwd)
        for proc in tick.processes:
            if proc.ppid == spawner.pid:
                children_seen.add(proc.pid)
                sampler.cwd(proc.pid, proc.start_time)
                sampler.read_open_fds(proc.pid)
        assert all(a.job_id == "churn" for a in assigned.values())
        ticks += 1
    waiter.join(timeout=10)
    # THEN nothing raised, and the churn really happened under the sampler
    assert spawned and spawned[0] >= 150 * seconds
    # psutil is slow on a busy machine: a few ticks that each saw some churn are enough.
    assert ticks >= (10 if factory is ProcfsSampler else 3)
    assert len(children_seen) >= (10 if factory is ProcfsSampler else 3)
