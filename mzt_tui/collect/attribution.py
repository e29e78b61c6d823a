"""Which job and sheet each process belongs to (the rules of SCHEMA.md, last section).

The conductor starts each sheet's instrument as a direct child, in its own session, with the
job's workspace as working directory; nothing else names the job. So, per tick:

1. A direct child of the conductor whose cwd is at or below a running job's workspace belongs
   to that job (the longest workspace wins; paths match by whole components, so `/ws-a` does not
   contain `/ws-ab`). Its descendants inherit the assignment.
2. Its sheet is the job's in-progress sheet (dispatched or in_progress) whose `started_at` is the
   latest at or before the process's start time. When no in-progress sheet qualifies, the
   latest sheet of any status that was running at that time (started at or before it, not
   completed before it); else the sheet stays unknown (None) and is looked for again next tick.
3. A process whose parent chain does not reach the conductor (an orphan: re-parented to init or
   a sub-reaper) is matched by cwd in the same way, flagged `guessed=True`; its descendants
   inherit with the flag. Only processes of the conductor's user are considered (sheets run as
   that user), never the conductor itself, its ancestors, PIDs 0–2, kernel threads or
   `ignore_pids` (the monitor itself).
4. An assignment is kept for the life of the process, per `(pid, start time)`, even when the
   process is later re-parented or its job ends; an assignment without a sheet is completed
   when a later tick finds one. Without a conductor PID nothing is attributed.

Everything here is pure except the `cwd_of(pid, start_time)` callback, called at most once per
unattributed candidate per tick (the samplers cache it per process).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from mzt_tui.models import JobRecord

ProcessKey = tuple[int, float]
"""`(pid, start_time)`: the identity of a process for good."""

CwdLookup = Callable[[int, float], str | None]
"""Returns the working directory of `(pid, start_time)`, or None."""

DEFAULT_START_SLACK_SECONDS = 0.05
"""How much earlier than a sheet's `started_at` its process may appear to start: process start
times have clock-tick resolution (10 ms) and the conductor may record the start just after
spawning."""

_SYSTEM_PIDS = frozenset({0, 1, 2})
_KTHREADD_PID = 2
_INIT_PID = 1


class ProcessIdentity(Protocol):
    """What attribution needs of a process (a `RawProcess` has it)."""

    @property
    def pid(self) -> int:
        """The process ID."""
        ...

    @property
    def ppid(self) -> int:
        """The parent's process ID."""
        ...

    @property
    def start_time(self) -> float:
        """Start as unix seconds."""
        ...

    @property
    def uid(self) -> int | None:
        """The owner, when known."""
        ...


@dataclass(frozen=True, slots=True)
class Attribution:
    """A process's job and sheet."""

    job_id: str
    sheet_num: int | None
    guessed: bool = False
    """True when matched by working directory alone (an orphan or an orphan's descendant)."""


def normalize_path(path: str) -> str:
    """Normalise a directory for matching: no `..`, no trailing slash, no " (deleted)" mark."""
    return os.path.normpath(path.removesuffix(" (deleted)"))


def path_is_within(path: str, root: str) -> bool:
    """Whether normalised `path` is `root` or below it, comparing whole path components."""
    if root in (path, "/"):
        return True
    return path.startswith(root + "/")


def match_workspace(cwd: str, workspaces: Sequence[tuple[str, JobRecord]]) -> JobRecord | None:
    """Return the job whose workspace holds `cwd`, the longest (innermost) workspace winning.

    Args:
        cwd: A normalised working directory.
        workspaces: `(normalised workspace, job)` pairs.

    Returns:
        The matching job, or None.
    """
    best: tuple[str, JobRecord] | None = None
    for workspace, job in workspaces:
        if path_is_within(cwd, workspace) and (best is None or len(workspace) > len(best[0])):
            best = (workspace, job)
    return best[1] if best is not None else None


def _timestamp(moment: datetime) -> float:
    """Unix seconds of a datetime; a naive one is taken as UTC (the checkpoint's zone)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def sheet_for_start(
    job: JobRecord, start_time: float, slack: float = DEFAULT_START_SLACK_SECONDS
) -> int | None:
    """Return the sheet of `job` a process started at `start_time` belongs to.

    Args:
        job: The job, with its sheets.
        start_time: The process's start, unix seconds.
        slack: Tolerance for a process that appears to start just before its sheet.

    Returns:
        The in-progress sheet started latest at or before `start_time`; failing that, the
        latest sheet of any status running at that time; else None.
    """
    latest = start_time + slack
    best_active: tuple[float, int] | None = None
    best_any: tuple[float, int] | None = None
    for sheet in job.sheets.values():
        if sheet.started_at is None:
            continue
        started = _timestamp(sheet.started_at)
        if started > latest:
            continue
        candidate = (started, sheet.sheet_num)
        if sheet.active:
            best_active = max(best_active or candidate, candidate)
        elif sheet.completed_at is None or _timestamp(sheet.completed_at) + slack >= start_time:
            best_any = max(best_any or candidate, candidate)
    best = best_active or best_any
    return best[1] if best is not None else None


def _running_workspaces(jobs: Iterable[JobRecord]) -> list[tuple[str, JobRecord]]:
    """`(normalised workspace, job)` for every job running under a live conductor."""
    return [(normalize_path(job.workspace), job) for job in jobs if job.running and job.workspace]


def attribute(
    conductor_pid: int | None,
    jobs: Sequence[JobRecord],
    processes: Sequence[ProcessIdentity],
    cwd_of: CwdLookup,
    *,
    previous: Mapping[ProcessKey, Attribution] | None = None,
    ignore_pids: Collection[int] = (),
    start_slack: float = DEFAULT_START_SLACK_SECONDS,
) -> dict[ProcessKey, Attribution]:
    """Assign this tick's processes to jobs and sheets (see the module docstring).

    Args:
        conductor_pid: The conductor's PID, or None when none runs.
        jobs: The registry's jobs; only those running under a live conductor are used.
        processes: This tick's processes.
        cwd_of: Working-directory lookup, `(pid, start_time) -> path or None`.
        previous: Last tick's assignments: kept for processes still alive.
        ignore_pids: Processes never attributed by cwd (the monitor itself).
        start_slack: See `sheet_for_start`.

    Returns:
        `(pid, start_time) -> Attribution` for every attributed process.
    """
    if conductor_pid is None:
        return {}
    previous = previous or {}
    workspaces = _running_workspaces(jobs)
    job_by_id = {job.job_id: job for _, job in workspaces}
    by_pid = {p.pid: p for p in processes}
    conductor = by_pid.get(conductor_pid)
    conductor_uid = conductor.uid if conductor is not None else None
    excluded = set(_SYSTEM_PIDS) | set(ignore_pids) | {conductor_pid}
    ancestor = conductor
    while ancestor is not None and ancestor.ppid not in excluded:
        excluded.add(ancestor.ppid)
        ancestor = by_pid.get(ancestor.ppid)

    def match(proc: ProcessIdentity, guessed: bool) -> Attribution | None:
        if not workspaces:
            return None
        cwd = cwd_of(proc.pid, proc.start_time)
        job = match_workspace(normalize_path(cwd), workspaces) if cwd else None
        if job is None:
            return None
        return Attribution(job.job_id, sheet_for_start(job, proc.start_time, start_slack), guessed)

    def complete(cached: Attribution, proc: ProcessIdentity) -> Attribution:
        """Look again for the sheet of an assignment made without one."""
        job = job_by_id.get(cached.job_id)
        sheet = sheet_for_start(job, proc.start_time, start_slack) if job is not None else None
        return cached if sheet is None else Attribution(cached.job_id, sheet, cached.guessed)

    assigned: dict[ProcessKey, Attribution] = {}
    by_pid_result: dict[int, Attribution | None] = {}
    # Parents before children: walk down from the processes whose parent is not listed.
    children: dict[int, list[ProcessIdentity]] = {}
    stack: list[tuple[ProcessIdentity, bool]] = []  # (process, under the conductor)
    for proc in processes:
        if proc.ppid in by_pid and proc.ppid != proc.pid:
            children.setdefault(proc.ppid, []).append(proc)
        else:
            stack.append((proc, False))
    while stack:
        proc, under_conductor = stack.pop()
        key = (proc.pid, proc.start_time)
        cached = previous.get(key)
        parent_result = by_pid_result.get(proc.ppid)
        result: Attribution | None
        if cached is not None:
            result = cached if cached.sheet_num is not None else complete(cached, proc)
        elif proc.pid in excluded:
            result = None
        elif parent_result is not None:
            result = parent_result
        elif proc.ppid == conductor_pid:
            result = match(proc, guessed=False)
        elif under_conductor or proc.ppid == _KTHREADD_PID:
            result = None
        elif proc.ppid == _INIT_PID and (
            conductor_uid is None or proc.uid is None or proc.uid == conductor_uid
        ):
            # An orphan: re-parented to init, it keeps only its working directory. Other
            # processes outside the conductor's tree (a shell or an editor opened in a
            # workspace) are the user's, not the job's.
            result = match(proc, guessed=True)
        else:
            result = None
        by_pid_result[proc.pid] = result
        if result is not None:
            assigned[key] = result
        below = under_conductor or proc.pid == conductor_pid
        stack.extend((child, below) for child in children.get(proc.pid, ()))
    return assigned


class Attributor:
    """Attribution with its memory: assignments stay stable per `(pid, start time)`.

    Args:
        ignore_pids: Processes never attributed by cwd (by default the monitor itself).
        start_slack: See `sheet_for_start`.
    """

    def __init__(
        self,
        *,
        ignore_pids: Collection[int] | None = None,
        start_slack: float = DEFAULT_START_SLACK_SECONDS,
    ) -> None:
        self._ignore_pids = frozenset(ignore_pids if ignore_pids is not None else {os.getpid()})
        self._start_slack = start_slack
        self._assignments: dict[ProcessKey, Attribution] = {}

    @property
    def assignments(self) -> Mapping[ProcessKey, Attribution]:
        """The assignments of the last tick."""
        return self._assignments

    def known_pids(self) -> frozenset[int]:
        """PIDs attributed at the last tick: the detail set for the next one."""
        return frozenset(pid for pid, _ in self._assignments)

    def assign(
        self,
        conductor_pid: int | None,
        jobs: Sequence[JobRecord],
        processes: Sequence[ProcessIdentity],
        cwd_of: CwdLookup,
    ) -> dict[ProcessKey, Attribution]:
        """Attribute this tick's processes, keeping earlier assignments of live processes.

        Processes gone from `processes` are forgotten; without a conductor everything is.

        Args:
            conductor_pid: The conductor's PID, or None.
            jobs: The registry's jobs.
            processes: This tick's processes.
            cwd_of: Working-directory lookup (a sampler's `cwd`).

        Returns:
            `(pid, start_time) -> Attribution` for every attributed process.
        """
        self._assignments = attribute(
            conductor_pid,
            jobs,
            processes,
            cwd_of,
            previous=self._assignments,
            ignore_pids=self._ignore_pids,
            start_slack=self._start_slack,
        )
        return dict(self._assignments)

    def clear(self) -> None:
        """Forget every assignment."""
        self._assignments = {}
