"""How each sheet run ended, from what the conductor recorded: registry, executions, insights.

Sources, in order; a run takes its outcome from the first that knows it:

1. The registry (`daemon-state.db`), which holds the LAST attempt of each sheet: its status,
   start time and exit code. The run whose root started closest to the sheet's `started_at`
   (within `START_MATCH_SECONDS`) is that attempt: `completed` → success; `failed` and
   `retry_scheduled` (a retry is waiting, so this attempt failed) → failure; `cancelled`,
   `skipped` and the statuses of a sheet not yet ended → unknown, unless the checkpoint's
   `error_history` shows the attempt failed before the sheet stopped (a sheet cancelled while
   its retry waited); any other status falls back to the exit fields (a signal or a non-zero
   code → failure, code 0 → success).
   The match is made first among the runs attributed to the sheet; a sheet still without one
   may take a run of the job attributed to another sheet that cannot be an attempt of its
   own sheet (a monitor can misattribute a root that starts while it reads the registry),
   and the analysis then gets the registry's sheet number. (Constants: `outcome_registry`.)
   Runs of the sheet that started before it, since the job was submitted, are EARLIER
   attempts. A retry implies that the attempt before it failed, so each is a failure: when the
   checkpoint keeps an `error_history`, its entry (the first to end after the run started)
   gives the attempt number; otherwise attempts are counted back from `attempt_count`. At most
   `attempt_count - 1` runs are taken as earlier attempts; older runs (of an earlier job of the
   same name) get nothing from the registry.
2. Legacy `executions` rows, by job hash and sheet number: the row whose time span (±
   `EXECUTION_SLACK_SECONDS`; naive timestamps are local time, as the conductor writes them)
   holds the run's start; a row without times counts only when it is the sheet's one row.
   `completed` → success, `failed` → failure. A row spans all of a sheet's attempts, so a run
   followed by another run of the sheet inside the same row's span failed (it was retried).
3. `semantic_insight` patterns tagged `job:<id>` and `outcome:success|failure`: a JOB's outcome
   (contradicting tags: none). A job that succeeded ended every sheet with a success: the last
   run seen of each sheet succeeded, the runs before it failed (they were retried). A job that
   failed does not say which sheet failed: only runs followed by a retry are failures; the
   others stay unknown.

Runs no source knows are returned with `failed=None` and counted: the analysis leaves them out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from mzt_tui.marianne.learning import LearningStore
from mzt_tui.marianne.learning_hashes import hash_job
from mzt_tui.marianne.outcome_registry import (
    OUTCOME_SOURCES,
    RunKey,
    RunOutcome,
    read_registry_sheets,
    registry_outcomes,
)
from mzt_tui.models.correlation import SheetRun
from mzt_tui.models.learning import ExecutionRecord
from mzt_tui.models.sheet_runs import SheetRunSummary

__all__ = [
    "OUTCOME_SOURCES",
    "OutcomeJoin",
    "RunOutcome",
    "execution_outcomes",
    "insight_outcomes",
    "job_outcomes_from_insights",
    "join_outcomes",
]

EXECUTION_SLACK_SECONDS = 60.0
"""Slack around an `executions` row's time span (its timestamps are rounded and naive)."""
_EXECUTIONS_PER_SHEET = 500


@dataclass(frozen=True)
class OutcomeJoin:
    """Every run with its outcome (`failed=None` when unknown), and where outcomes came from."""

    runs: tuple[SheetRun, ...]
    by_source: dict[str, int] = field(default_factory=dict)
    without_outcome: int = 0


# -- legacy executions --------------------------------------------------------------------


def _unix(moment: datetime | None) -> float | None:
    """Unix seconds of a stored timestamp; a naive one is local time."""
    return moment.timestamp() if moment is not None else None


def _execution_span(record: ExecutionRecord) -> tuple[float, float] | None:
    started = _unix(record.started_at)
    ended = _unix(record.completed_at)
    if started is None and ended is not None:
        started = ended - record.duration_seconds
    if ended is None and started is not None:
        ended = started + record.duration_seconds
    if started is None or ended is None:
        return None
    return min(started, ended) - EXECUTION_SLACK_SECONDS, max(started, ended) + (
        EXECUTION_SLACK_SECONDS
    )


def execution_outcomes(
    runs: Sequence[SheetRunSummary], learning: LearningStore
) -> dict[RunKey, RunOutcome]:
    """Outcomes that legacy `executions` rows give (see the module's rule 2)."""
    outcomes: dict[RunKey, RunOutcome] = {}
    if not runs or not learning.read_executions(1):
        return outcomes  # current conductors write none: spare a query per sheet
    job_hashes = {job_id: hash_job(job_id) for job_id in {run.job_id for run in runs}}
    for (job_id, sheet_num), sheet_runs in _by_sheet(runs).items():
        records = learning.read_executions(
            _EXECUTIONS_PER_SHEET, job_hash=job_hashes[job_id], sheet_num=sheet_num
        )
        if not records:
            continue
        spans = [(record, _execution_span(record)) for record in records]
        matched: dict[RunKey, ExecutionRecord] = {}
        for run in sheet_runs:
            holding = [
                (span[0], record)
                for record, span in spans
                if span is not None and span[0] <= run.started_at <= span[1]
            ]
            if holding:
                matched[run.key] = max(holding, key=lambda item: item[0])[1]
            elif len(records) == 1 and spans[0][1] is None:
                matched[run.key] = records[0]
        for index, run in enumerate(sheet_runs):
            record = matched.get(run.key)
            if record is None:
                continue
            retried = any(matched.get(later.key) is record for later in sheet_runs[index + 1 :])
            if retried or record.status == "failed":
                outcomes[run.key] = RunOutcome(True, "executions")
            elif record.status == "completed":
                outcomes[run.key] = RunOutcome(False, "executions", record.retry_count + 1)
    return outcomes


# -- semantic insights --------------------------------------------------------------------


def job_outcomes_from_insights(learning: LearningStore) -> dict[str, bool]:
    """Job id → failed, from `semantic_insight` outcome tags (contradicting jobs left out)."""
    seen: dict[str, set[bool]] = defaultdict(set)
    for pattern in learning.read_patterns("semantic_insight"):
        job_id = pattern.tag("job")
        outcome = pattern.tag("outcome")
        if job_id and outcome in ("success", "failure"):
            seen[job_id].add(outcome == "failure")
    return {job_id: next(iter(values)) for job_id, values in seen.items() if len(values) == 1}


def insight_outcomes(
    runs: Sequence[SheetRunSummary], job_failed: dict[str, bool]
) -> dict[RunKey, RunOutcome]:
    """Outcomes that job-level insights give (see the module's rule 3)."""
    outcomes: dict[RunKey, RunOutcome] = {}
    for (job_id, _), sheet_runs in _by_sheet(runs).items():
        failed = job_failed.get(job_id)
        if failed is None:
            continue
        for run in sheet_runs[:-1]:
            outcomes[run.key] = RunOutcome(True, "semantic_insight")
        if not failed:
            outcomes[sheet_runs[-1].key] = RunOutcome(False, "semantic_insight")
    return outcomes


# -- all together -------------------------------------------------------------------------


def _by_sheet(runs: Iterable[SheetRunSummary]) -> dict[tuple[str, int], list[SheetRunSummary]]:
    """Runs grouped by job and sheet, each group by root start time."""
    grouped: dict[tuple[str, int], list[SheetRunSummary]] = defaultdict(list)
    for run in runs:
        grouped[(run.job_id, run.sheet_num)].append(run)
    for group in grouped.values():
        group.sort(key=lambda run: (run.started_at, run.root_pid))
    return grouped


def join_outcomes(
    runs: Sequence[SheetRunSummary],
    *,
    registry_path: Path | None,
    learning: LearningStore | None,
) -> OutcomeJoin:
    """Give every run the outcome of the first source that knows it.

    Args:
        runs: Sheet-run summaries.
        registry_path: The conductor's `daemon-state.db` (None or missing: not used).
        learning: The learning store for `executions` and insights (None: not used).

    Returns:
        Every run as a `SheetRun`, with `failed=None` where no source knows the outcome.

    Raises:
        StoreError: The registry or the learning store cannot be read.
    """
    outcomes: dict[RunKey, RunOutcome] = {}
    if registry_path is not None:
        sheets = read_registry_sheets(registry_path, {run.job_id for run in runs})
        outcomes.update(registry_outcomes(runs, sheets))
    if learning is not None and learning.exists():
        # Each source judges a sheet's runs together (which came last, which were retried)
        # and fills only the runs that the sources before it left without an outcome.
        open_sheets = {(run.job_id, run.sheet_num) for run in runs if run.key not in outcomes}
        undecided = [run for run in runs if (run.job_id, run.sheet_num) in open_sheets]
        for key, outcome in execution_outcomes(undecided, learning).items():
            outcomes.setdefault(key, outcome)
        insights = job_outcomes_from_insights(learning)
        for key, outcome in insight_outcomes(undecided, insights).items():
            outcomes.setdefault(key, outcome)
    joined: list[SheetRun] = []
    for run in runs:
        known = outcomes.get(run.key)
        joined.append(
            run.to_sheet_run(
                None if known is None else known.failed,
                attempt=None if known is None else known.attempt,
                sheet_num=None if known is None else known.sheet_num,
            )
        )
    counts = Counter(outcome.source for outcome in outcomes.values())
    return OutcomeJoin(
        runs=tuple(joined),
        by_source={source: counts.get(source, 0) for source in OUTCOME_SOURCES},
        without_outcome=sum(1 for run in joined if run.failed is None),
    )
