"""The registry's word on each sheet run (the first outcome source; see `outcomes`).

The registry holds each sheet's LAST attempt (status, start, exit fields) and, in the
checkpoint, an `error_history` of its failed attempts. `RunOutcome` is defined here, with the
first source, and shared by the others.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mzt_tui.marianne.checkpoint import as_float, as_int, parse_checkpoint, parse_utc
from mzt_tui.marianne.sqlite_files import fetch_read_only, one_line
from mzt_tui.models.errors import StoreError
from mzt_tui.models.jobs import SheetState
from mzt_tui.models.sheet_runs import SheetRunSummary

OutcomeSource = Literal["registry", "executions", "semantic_insight"]
OUTCOME_SOURCES: tuple[OutcomeSource, ...] = ("registry", "executions", "semantic_insight")

START_MATCH_SECONDS = 2.0
"""How far a root's start may be from the registry's sheet `started_at` to be that attempt."""
_STOP_SLACK_SECONDS = 0.5
"""An attempt that ended this close to its sheet's cancellation was cut short by it."""
_JOBS_PER_QUERY = 500
_SUCCESS_STATUSES = frozenset({"completed"})
_FAILURE_STATUSES = frozenset({"failed", "retry_scheduled"})
_UNKNOWN_STATUSES = frozenset(
    {
        "cancelled",
        "skipped",
        "pending",
        "ready",
        "dispatched",
        "in_progress",
        "waiting",
        "fermata",
    }
)

RunKey = tuple[str, int, int, float]


@dataclass(frozen=True)
class RunOutcome:
    """How one run ended and who says so."""

    failed: bool
    source: OutcomeSource
    attempt: int | None = None
    """The attempt number, where the source knows it."""
    sheet_num: int | None = None
    """The sheet, where the source names it (the registry corrects a misattributed root)."""


@dataclass(frozen=True)
class RegistrySheet:
    """What the registry says of one sheet: its last attempt and its error history."""

    state: SheetState
    job_submitted_at: float | None
    error_history: tuple[tuple[int | None, float | None], ...] | None
    """(attempt number, end time) of each failed attempt; None when the key is absent."""


def _error_history(raw: object) -> tuple[tuple[int | None, float | None], ...] | None:
    if not isinstance(raw, list):
        return None
    entries: list[tuple[int | None, float | None]] = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        when = parse_utc(item.get("timestamp"))
        entries.append((as_int(item.get("attempt_number")), when.timestamp() if when else None))
    return tuple(entries)


def _histories(checkpoint_json: object) -> dict[int, tuple[tuple[int | None, float | None], ...]]:
    """Each sheet's `error_history`, where the checkpoint has one."""
    if not isinstance(checkpoint_json, str | bytes) or not checkpoint_json:
        return {}
    try:
        data = json.loads(checkpoint_json)
    except (ValueError, RecursionError):
        return {}
    sheets = data.get("sheets") if isinstance(data, dict) else None
    if not isinstance(sheets, dict):
        return {}
    found: dict[int, tuple[tuple[int | None, float | None], ...]] = {}
    for key, value in sheets.items():
        sheet_num = as_int(key)
        history = _error_history(value.get("error_history")) if isinstance(value, dict) else None
        if sheet_num is not None and history is not None:
            found[sheet_num] = history
    return found


def read_registry_sheets(
    path: Path, job_ids: Iterable[str]
) -> dict[tuple[str, int], RegistrySheet]:
    """Read the registry's sheets of `job_ids` (a missing file reads as none).

    Raises:
        StoreError: The file is not a registry that can be read.
    """
    if not path.is_file():
        return {}
    wanted = sorted(set(job_ids))
    sheets: dict[tuple[str, int], RegistrySheet] = {}
    for start in range(0, len(wanted), _JOBS_PER_QUERY):
        chunk = wanted[start : start + _JOBS_PER_QUERY]
        marks = ", ".join("?" for _ in chunk)
        try:
            rows = fetch_read_only(
                path,
                f"SELECT job_id, submitted_at, checkpoint_json FROM jobs WHERE job_id IN ({marks})",
                tuple(chunk),
                timeout_seconds=5.0,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read conductor registry {path}: {one_line(exc)}") from exc
        for row in rows:
            job_id = str(row["job_id"])
            checkpoint = parse_checkpoint(row["checkpoint_json"])
            histories = _histories(row["checkpoint_json"])
            for sheet_num, state in checkpoint.sheets.items():
                sheets[(job_id, sheet_num)] = RegistrySheet(
                    state=state,
                    job_submitted_at=as_float(row["submitted_at"]),
                    error_history=histories.get(sheet_num),
                )
    return sheets


def _last_attempt_failed(state: SheetState) -> bool | None:
    """The registry's verdict on a sheet's last attempt; None when it has none."""
    if state.status in _SUCCESS_STATUSES:
        return False
    if state.status in _FAILURE_STATUSES:
        return True
    if state.status in _UNKNOWN_STATUSES:
        return None
    if state.exit_signal is not None:
        return True
    if state.exit_code is not None:
        return state.exit_code != 0
    return None


def _history_entry(
    history: Sequence[tuple[int | None, float | None]], run: SheetRunSummary
) -> tuple[float, int | None] | None:
    """(end time, attempt number) of the error-history entry that ended first after `run` began.

    No slack here: the attempt before a retry ends just before the retry starts.
    """
    ends = [
        (ended, number) for number, ended in history if ended is not None and ended > run.started_at
    ]
    return min(ends, key=lambda entry: entry[0]) if ends else None


def _failed_before_stop(sheet: RegistrySheet, run: SheetRunSummary) -> bool:
    """Whether the error history shows `run`, the last attempt, failed before its sheet stopped.

    A sheet cancelled while a retry waited keeps its last (failed) attempt in the error
    history; an attempt cut short by the cancellation itself ends when the sheet does.
    """
    state = sheet.state
    if sheet.error_history is None or state.active:
        return False
    entry = _history_entry(sheet.error_history, run)
    if entry is None:
        return False
    stopped = state.completed_at.timestamp() if state.completed_at else None
    return stopped is None or entry[0] < stopped - _STOP_SLACK_SECONDS


def _closest(
    job_runs: Sequence[SheetRunSummary],
    job_sheets: dict[int, RegistrySheet],
    candidates: Iterable[tuple[int, int]],
    matched: dict[int, int],
) -> None:
    """Pair sheets with runs (`(sheet, run index)` candidates), closest starts first."""
    pairs: list[tuple[float, int, int]] = []
    for sheet_num, index in candidates:
        started = job_sheets[sheet_num].state.started_at
        if started is None:
            continue
        distance = abs(job_runs[index].started_at - started.timestamp())
        if distance <= START_MATCH_SECONDS:
            pairs.append((distance, sheet_num, index))
    taken = set(matched.values())
    for _, sheet_num, index in sorted(pairs):
        if sheet_num not in matched and index not in taken:
            matched[sheet_num] = index
            taken.add(index)


def _earlier_attempt_of_own_sheet(
    run: SheetRunSummary, job_sheets: dict[int, RegistrySheet]
) -> bool:
    """Whether `run` can be an earlier attempt of the sheet it was attributed to."""
    sheet = job_sheets.get(run.sheet_num)
    if sheet is None or sheet.state.attempt_count <= 1 or sheet.state.started_at is None:
        return False
    return run.started_at < sheet.state.started_at.timestamp() - _STOP_SLACK_SECONDS


def _last_attempts(
    job_runs: Sequence[SheetRunSummary], job_sheets: dict[int, RegistrySheet]
) -> dict[int, SheetRunSummary]:
    """Each sheet's last attempt among the job's runs: the root that started closest to it.

    First among the runs attributed to the sheet. Then a sheet still without one may take a
    run attributed to another sheet that cannot be an attempt of its own sheet: a monitor
    can attribute a root that starts while it reads the registry to another running sheet
    of the job, and the registry's start time is the better witness. Each run is used once.
    """
    matched: dict[int, int] = {}
    own = [
        (run.sheet_num, index) for index, run in enumerate(job_runs) if run.sheet_num in job_sheets
    ]
    _closest(job_runs, job_sheets, own, matched)
    taken = set(matched.values())
    strays = [
        index
        for index, run in enumerate(job_runs)
        if index not in taken and not _earlier_attempt_of_own_sheet(run, job_sheets)
    ]
    unmatched = [sheet_num for sheet_num in job_sheets if sheet_num not in matched]
    _closest(
        job_runs,
        job_sheets,
        [(sheet_num, index) for sheet_num in unmatched for index in strays],
        matched,
    )
    return {sheet_num: job_runs[index] for sheet_num, index in matched.items()}


def registry_outcomes(
    runs: Sequence[SheetRunSummary], sheets: dict[tuple[str, int], RegistrySheet]
) -> dict[RunKey, RunOutcome]:
    """Outcomes the registry gives (see the module's rule 1)."""
    outcomes: dict[RunKey, RunOutcome] = {}
    jobs: dict[str, list[SheetRunSummary]] = defaultdict(list)
    for run in sorted(runs, key=lambda run: (run.started_at, run.root_pid)):
        jobs[run.job_id].append(run)
    for job_id, all_runs in jobs.items():
        job_sheets = {num: sheet for (job, num), sheet in sheets.items() if job == job_id}
        if not job_sheets:
            continue
        # Runs before the job was submitted belong to an earlier job of the same name.
        submitted = next(iter(job_sheets.values())).job_submitted_at or 0.0
        job_runs = [run for run in all_runs if run.started_at >= submitted - START_MATCH_SECONDS]
        last_of = _last_attempts(job_runs, job_sheets)
        last_keys = {run.key for run in last_of.values()}
        for sheet_num, sheet in job_sheets.items():
            state = sheet.state
            last_run = last_of.get(sheet_num)
            if last_run is not None:
                verdict = _last_attempt_failed(state)
                if verdict is None and _failed_before_stop(sheet, last_run):
                    verdict = True
                if verdict is not None:
                    outcomes[last_run.key] = RunOutcome(
                        verdict, "registry", state.attempt_count or None, sheet_num
                    )
                cutoff = last_run.started_at
            elif state.started_at is not None:
                cutoff = state.started_at.timestamp() - START_MATCH_SECONDS
            else:
                continue
            earlier = [
                run
                for run in job_runs
                if run.sheet_num == sheet_num
                and run.started_at < cutoff
                and run.key not in last_keys
            ]
            retries = max(state.attempt_count - 1, 0)
            earlier = earlier[max(len(earlier) - retries, 0) :] if retries else []
            for back, run in enumerate(reversed(earlier), start=1):
                attempt = state.attempt_count - back
                entry = _history_entry(sheet.error_history or (), run)
                if entry is not None and entry[1] is not None:
                    attempt = entry[1]
                outcomes[run.key] = RunOutcome(True, "registry", attempt, sheet_num)
    return outcomes
