"""Attribution rules on made-up process tables (no I/O: cwd comes from a dict)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from mzt_tui.collect.attribution import (
    Attribution,
    Attributor,
    attribute,
    match_workspace,
    normalize_path,
    path_is_within,
    sheet_for_start,
)
from mzt_tui.models import JobRecord, SheetState

CONDUCTOR = 100
T0 = 1_750_000_000.0


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    start_time: float = T0 + 50
    uid: int | None = 1000


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, tz=UTC)


def job(job_id: str, workspace: str, sheets: dict[int, tuple[str, float | None]]) -> JobRecord:
    return JobRecord(
        job_id=job_id,
        workspace=workspace,
        status="running",
        pid=CONDUCTOR,
        sheets={
            n: SheetState(
                sheet_num=n, status=status, started_at=None if start is None else at(start)
            )
            for n, (status, start) in sheets.items()
        },
    )


class Cwds:
    """A cwd lookup from a dict, counting its calls."""

    def __init__(self, cwd_by_pid: dict[int, str]) -> None:
        self.cwd_by_pid = cwd_by_pid
        self.calls: list[int] = []

    def __call__(self, pid: int, start_time: float) -> str | None:
        self.calls.append(pid)
        return self.cwd_by_pid.get(pid)


BASE_PROCS = [
    Proc(1, 0, uid=0),
    Proc(50, 1),  # the user's shell, parent of the conductor
    Proc(CONDUCTOR, 50),
]


def by_pid(result: dict[tuple[int, float], Attribution]) -> dict[int, Attribution]:
    return {pid: a for (pid, _), a in result.items()}


@pytest.mark.parametrize(
    ("path", "root", "inside"),
    [
        ("/ws-a", "/ws-a", True),
        ("/ws-a/sub/dir", "/ws-a", True),
        ("/ws-ab", "/ws-a", False),
        ("/ws-ab/x", "/ws-a", False),
        ("/ws", "/ws-a", False),
        ("/anything", "/", True),
    ],
)
def test_path_components(path: str, root: str, inside: bool) -> None:
    assert path_is_within(path, root) is inside


def test_normalize_path() -> None:
    assert normalize_path("/ws/a/../b/") == "/ws/b"
    assert normalize_path("/ws/gone (deleted)") == "/ws/gone"


def test_longest_workspace_wins() -> None:
    outer = job("outer", "/w", {})
    inner = job("inner", "/w/inner", {})
    pairs = [("/w", outer), ("/w/inner", inner)]
    assert match_workspace("/w/inner/src", pairs) is inner
    assert match_workspace("/w/other", pairs) is outer
    assert match_workspace("/w/inner", list(reversed(pairs))) is inner
    assert match_workspace("/elsewhere", pairs) is None


def test_sheet_is_latest_in_progress_started_at_or_before() -> None:
    record = job(
        "j",
        "/w",
        {
            1: ("completed", 0.0),
            2: ("in_progress", 10.0),
            3: ("dispatched", 20.0),
            4: ("in_progress", 30.0),
            5: ("pending", None),
        },
    )
    assert sheet_for_start(record, T0 + 15.0) == 2
    assert sheet_for_start(record, T0 + 25.0) == 3
    assert sheet_for_start(record, T0 + 99.0) == 4
    assert sheet_for_start(record, T0 + 29.99) == 4  # within the clock slack
    assert sheet_for_start(record, T0 + 29.9) == 3
    # Before any in-progress sheet: the completed sheet that was running then.
    assert sheet_for_start(record, T0 + 5.0) == 1
    assert sheet_for_start(record, T0 - 5.0) is None


def test_naive_started_at_is_utc() -> None:
    naive = SheetState(sheet_num=7, status="in_progress", started_at=at(10).replace(tzinfo=None))
    record = JobRecord(job_id="j", workspace="/w", status="running", sheets={7: naive})
    assert sheet_for_start(record, T0 + 10.5) == 7
    assert sheet_for_start(record, T0 + 9.0) is None


def test_conductor_children_grandchildren_orphans() -> None:
    # GIVEN two running jobs, one job not running, and this process table
    jobs = [
        job("alpha", "/ws-a", {1: ("completed", 0.0), 2: ("in_progress", 10.0)}),
        job("alphabet", "/ws-ab", {1: ("in_progress", 0.0)}),
        job("done", "/ws-done", {1: ("in_progress", 0.0)}).model_copy(
            update={"status": "completed"}
        ),
    ]
    procs = [
        *BASE_PROCS,
        Proc(201, CONDUCTOR, T0 + 12),  # sheet 2 of alpha
        Proc(202, 201, T0 + 13),  # its child: inherits
        Proc(203, 202, T0 + 14),  # grandchild: inherits
        Proc(204, CONDUCTOR, T0 + 5),  # in /ws-ab: alphabet, not alpha
        Proc(205, CONDUCTOR, T0 + 5),  # outside every workspace
        Proc(206, 205, T0 + 6),  # its child in /ws-a: still not attributed
        Proc(207, CONDUCTOR, T0 + 5),  # in the workspace of a job that is not running
        Proc(300, 1, T0 + 12),  # orphan in /ws-a: guessed
        Proc(301, 300, T0 + 13),  # orphan's child: inherits the guess
        Proc(302, 1, T0 + 12, uid=2000),  # another user's process in /ws-a: ignored
        Proc(303, 50, T0 + 12),  # the user's editor in /ws-a: not an orphan, not the job's
        Proc(304, 1, T0 + 12),  # orphan outside any workspace
    ]
    cwds = Cwds(
        {
            50: "/ws-a",  # the conductor's parent, in a workspace: never attributed
            CONDUCTOR: "/ws-a",
            201: "/ws-a",
            202: "/tmp",
            203: "/",
            204: "/ws-ab/sub",
            205: "/home/me",
            206: "/ws-a",
            207: "/ws-done",
            300: "/ws-a/deep/er",
            301: "/elsewhere",
            302: "/ws-a",
            303: "/ws-a",
            304: "/srv",
        }
    )

    # WHEN attributed
    result = by_pid(attribute(CONDUCTOR, jobs, procs, cwds))

    # THEN
    assert result == {
        201: Attribution("alpha", 2, False),
        202: Attribution("alpha", 2, False),
        203: Attribution("alpha", 2, False),
        204: Attribution("alphabet", 1, False),
        300: Attribution("alpha", 2, True),
        301: Attribution("alpha", 2, True),
    }
    # cwd is asked only of candidates: never of inheritors, the conductor or its ancestors
    assert not {202, 203, 206, 301, 302, 50, CONDUCTOR, 1} & set(cwds.calls)


def test_no_conductor_attributes_nothing() -> None:
    jobs = [job("alpha", "/ws-a", {1: ("in_progress", 0.0)})]
    procs = [*BASE_PROCS, Proc(201, CONDUCTOR), Proc(300, 1)]
    cwds = Cwds({201: "/ws-a", 300: "/ws-a"})
    assert attribute(None, jobs, procs, cwds) == {}
    assert cwds.calls == []


def test_dead_conductor_jobs_are_ignored() -> None:
    crashed = job("alpha", "/ws-a", {1: ("in_progress", 0.0)}).model_copy(
        update={"conductor_alive": False}
    )
    procs = [*BASE_PROCS, Proc(201, CONDUCTOR)]
    assert attribute(CONDUCTOR, [crashed], procs, Cwds({201: "/ws-a"})) == {}


def test_attributor_keeps_assignments_per_process_and_prunes() -> None:
    attributor = Attributor(ignore_pids=())
    jobs = [job("alpha", "/ws-a", {1: ("in_progress", 0.0)})]
    sheet_proc = Proc(201, CONDUCTOR, T0 + 5)
    cwds = Cwds({201: "/ws-a", 202: "/ws-a"})
    first = attributor.assign(CONDUCTOR, jobs, [*BASE_PROCS, sheet_proc], cwds)
    assert by_pid(first) == {201: Attribution("alpha", 1, False)}
    assert attributor.known_pids() == {201}

    # The sheet ends, the job moves on, the process is re-parented and changes directory:
    # it keeps its assignment, without the cwd being asked again.
    jobs = [job("alpha", "/ws-a", {1: ("completed", 0.0), 2: ("in_progress", 3.0)})]
    cwds.cwd_by_pid[201] = "/elsewhere"
    cwds.calls.clear()
    moved = Proc(201, 1, T0 + 5)
    second = attributor.assign(CONDUCTOR, jobs, [*BASE_PROCS, moved], cwds)
    assert by_pid(second) == {201: Attribution("alpha", 1, False)}
    assert 201 not in cwds.calls

    # The PID is reused by another process: a new assignment (sheet 2, guessed as an orphan).
    reused = Proc(201, 1, T0 + 6)
    cwds.cwd_by_pid[201] = "/ws-a"
    third = attributor.assign(CONDUCTOR, jobs, [*BASE_PROCS, reused], cwds)
    assert third == {(201, T0 + 6): Attribution("alpha", 2, True)}

    # Gone processes are forgotten; no conductor forgets everything.
    assert attributor.assign(CONDUCTOR, jobs, BASE_PROCS, cwds) == {}
    attributor.assign(CONDUCTOR, jobs, [*BASE_PROCS, reused], cwds)
    assert attributor.assign(None, jobs, [*BASE_PROCS, reused], cwds) == {}
    assert attributor.assignments == {}


def test_assignment_without_sheet_is_completed_later() -> None:
    attributor = Attributor(ignore_pids=())
    proc = Proc(201, CONDUCTOR, T0 + 5)
    cwds = Cwds({201: "/ws-a"})
    # The registry has not recorded the sheet's start yet.
    early = [job("alpha", "/ws-a", {1: ("dispatched", None)})]
    assert by_pid(attributor.assign(CONDUCTOR, early, [*BASE_PROCS, proc], cwds)) == {
        201: Attribution("alpha", None, False)
    }
    later = [job("alpha", "/ws-a", {1: ("in_progress", 4.99)})]
    assert by_pid(attributor.assign(CONDUCTOR, later, [*BASE_PROCS, proc], cwds)) == {
        201: Attribution("alpha", 1, False)
    }


def test_monitor_itself_is_never_guessed() -> None:
    jobs = [job("alpha", "/ws-a", {1: ("in_progress", 0.0)})]
    procs = [*BASE_PROCS, Proc(400, 1)]  # looks like an orphan in a workspace
    cwds = Cwds({400: "/ws-a"})
    assert Attributor(ignore_pids={400}).assign(CONDUCTOR, jobs, procs, cwds) == {}
    assert by_pid(Attributor(ignore_pids=()).assign(CONDUCTOR, jobs, procs, cwds)) == {
        400: Attribution("alpha", 1, True)
    }


def test_cyclic_parent_links_do_not_hang() -> None:
    jobs = [job("alpha", "/ws-a", {1: ("in_progress", 0.0)})]
    procs = [*BASE_PROCS, Proc(500, 501), Proc(501, 500), Proc(502, 502)]
    result = attribute(CONDUCTOR, jobs, procs, Cwds({500: "/ws-a", 502: "/ws-a"}))
    # Loops and self-parents are walked once and, not being orphans of init, left alone.
    assert by_pid(result) == {}
