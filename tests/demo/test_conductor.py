"""The demo conductor runs real sheet trees the way the conductor does, and cleans up."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mzt_tui.demo.conductor import DemoConductor
from mzt_tui.demo.home import claim_pid_file, resolve_demo_home
from mzt_tui.models import JobRecord, SheetState
from mzt_tui.models.errors import MztError, UsageError
from tests.demo import procfs

SEED = 35
"""A seed whose first three jobs hold a zombie, a kill-child, a timeout and a final exit failure."""
SPEED = 10.0
RUN_LIMIT_S = 30.0


def read_jobs(registry: Path) -> list[dict[str, Any]]:
    """Every registry row as a dict (empty while the file does not exist yet)."""
    if not registry.exists():
        return []
    with sqlite3.connect(f"file:{registry}?mode=ro", uri=True, timeout=5) as connection:
        connection.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in connection.execute("SELECT * FROM jobs")]
        except sqlite3.OperationalError:  # the demo has not created the table yet
            return []


@dataclass
class Observation:
    """What the test saw of the demo's processes and registry while it ran."""

    sheet_leaders: dict[int, procfs.ProcStat] = field(default_factory=dict)
    leader_cwds: dict[int, Path] = field(default_factory=dict)
    followers: dict[int, procfs.ProcStat] = field(default_factory=dict)
    sessions: set[int] = field(default_factory=set)
    identities: set[tuple[int, int]] = field(default_factory=set)
    zombie_seen: bool = False
    tool_killed_logs: list[str] = field(default_factory=list)
    outcomes: set[tuple[str, int, int, str, int | None, int | None, str | None]] = field(
        default_factory=set
    )

    def look_at_processes(self, workspaces: Path) -> None:
        stats = procfs.all_stats()
        for listed in stats:
            # command line first, stat after: a child seen between fork and exec still has
            # its parent's session, while one that runs the instrument has its own already
            if "mzt_tui.demo.instrument" not in procfs.cmdline(listed.pid):
                continue
            workdir = procfs.cwd(listed.pid)
            stat = procfs.read_stat(listed.pid)
            if stat is None or workdir is None or not workdir.is_relative_to(workspaces):
                continue
            if stat.sid == stat.pid:
                self.sheet_leaders.setdefault(stat.pid, stat)
                self.leader_cwds.setdefault(stat.pid, workdir)
                self.sessions.add(stat.sid)
            else:
                self.followers.setdefault(stat.pid, stat)
        for stat in stats:
            if stat.sid in self.sessions:
                self.identities.add(stat.identity)
                if stat.state == "Z" and stat.ppid in self.sheet_leaders:
                    self.zombie_seen = True

    def look_at_registry(self, registry: Path) -> None:
        for row in read_jobs(registry):
            checkpoint = json.loads(row["checkpoint_json"])
            for num, sheet in checkpoint["sheets"].items():
                if sheet["exit_reason"] is not None:
                    self.outcomes.add(
                        (
                            row["job_id"],
                            int(num),
                            sheet["attempt_count"],
                            sheet["status"],
                            sheet["exit_code"],
                            sheet["exit_signal"],
                            sheet["exit_reason"],
                        )
                    )

    def look_at_logs(self, home: Path) -> None:
        self.tool_killed_logs = [
            text
            for path in home.glob("workspaces/*/logs/*.log")
            if "ended by signal" in (text := path.read_text())
        ]

    def statuses(self, status: str) -> list[tuple[Any, ...]]:
        return [outcome for outcome in self.outcomes if outcome[3] == status]

    def has_everything(self) -> bool:
        completed = any(o[4] == 0 for o in self.statuses("completed"))
        failed_exit = any(o[4] not in (None, 0) for o in self.statuses("failed"))
        killed = any(o[5] is not None and o[6] == "killed" for o in self.outcomes)
        return (
            completed
            and failed_exit
            and killed
            and self.zombie_seen
            and bool(self.tool_killed_logs)
        )


def test_demo_runs_real_sheet_trees_and_leaves_nothing_behind(tmp_path: Path) -> None:
    # GIVEN a demo conductor running in a thread of this process, at 10x speed
    home = tmp_path / "demo-home"
    transitions: list[str] = []
    conductor = DemoConductor(
        home, seed=SEED, speed=SPEED, jobs=3, on_transition=transitions.append
    )
    registry = home / "daemon-state.db"
    observed = Observation()
    conductor.start()
    try:
        # WHEN we watch /proc and the registry until every behaviour has shown up
        deadline = time.monotonic() + RUN_LIMIT_S
        polls = 0
        while time.monotonic() < deadline and not observed.has_everything():
            observed.look_at_processes((home / "workspaces").resolve())
            if polls % 4 == 0:
                observed.look_at_registry(registry)
                observed.look_at_logs(home)
            polls += 1
            time.sleep(0.03)
        observed.look_at_registry(registry)
        assert (home / "marianne.pid").read_text().strip() == str(os.getpid())
        rows_while_running = read_jobs(registry)
    finally:
        conductor.stop()
    assert conductor.error is None

    # THEN sheets ran as direct children in their own sessions, inside their job's workspace
    workspaces = {Path(row["workspace"]) for row in rows_while_running}
    assert observed.sheet_leaders, "no sheet process was seen"
    for pid, stat in observed.sheet_leaders.items():
        assert stat.ppid == os.getpid()
        assert stat.pgid == pid
        assert observed.leader_cwds[pid] in workspaces
    assert observed.followers, "no sheet had children"
    for stat in observed.followers.values():
        assert stat.sid in observed.sessions
        assert stat.ppid in observed.sheet_leaders
    assert all(path.parent == (home / "workspaces").resolve() for path in workspaces)
    assert all(row["pid"] == os.getpid() for row in rows_while_running)
    # AND sheets completed, failed with an exit code, were killed by a signal, left a zombie
    assert any(o[4] == 0 and o[6] == "completed" for o in observed.statuses("completed"))
    assert any(o[4] not in (None, 0) and o[6] == "failed" for o in observed.statuses("failed"))
    assert any(o[5] in (9, 15) and o[6] == "killed" for o in observed.outcomes)
    assert observed.zombie_seen
    assert any(
        "ended by signal 9" in text or "ended by signal 15" in text
        for text in observed.tool_killed_logs
    )
    assert any("started: " in line for line in transitions)

    # AND after stop() nothing the demo started is left, and the pid file is gone
    assert not (home / "marianne.pid").exists()
    leftover_deadline = time.monotonic() + 3.0
    while procfs.in_sessions(observed.sessions) and time.monotonic() < leftover_deadline:
        time.sleep(0.05)
    assert procfs.in_sessions(observed.sessions) == []
    assert procfs.still_present(observed.identities) == []
    # AND the registry holds no open job and parses into our models
    final_rows = read_jobs(registry)
    assert {row["status"] for row in final_rows} <= {"completed", "failed", "cancelled"}
    assert "cancelled" in {row["status"] for row in final_rows}
    for row in final_rows:
        checkpoint = json.loads(row["checkpoint_json"])
        sheets = {int(num): SheetState.model_validate(s) for num, s in checkpoint["sheets"].items()}
        record = JobRecord.model_validate({**row, "sheets": sheets})
        assert not record.active_sheets()
        assert checkpoint["status"] == row["status"]


def test_a_second_demo_in_the_same_home_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "demo-home"
    home.mkdir()
    claim_pid_file(home / "marianne.pid", os.getppid())
    with pytest.raises(MztError, match="already runs"):
        DemoConductor(home, seed=1).run(threading.Event())
    assert (home / "marianne.pid").read_text().strip() == str(os.getppid())


def test_a_stale_pid_file_is_taken_over(tmp_path: Path) -> None:
    home = tmp_path / "demo-home"
    home.mkdir()
    (home / "marianne.pid").write_text("999999999\n")
    stop = threading.Event()
    stop.set()
    DemoConductor(home, seed=1).run(stop)
    assert not (home / "marianne.pid").exists()


def test_the_real_conductors_home_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(UsageError):
        resolve_demo_home(tmp_path / ".marianne")
    assert resolve_demo_home(None) == tmp_path / ".marianne-demo"
