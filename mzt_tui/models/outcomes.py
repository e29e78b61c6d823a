"""Sheet outcomes, error recoveries and what the learning store learns from them.

The conductor's learning store records each finished sheet (`executions`) and each wait
after an error (`error_recoveries`), then derives three things from them: execution
statistics, the hours of the day when recoveries succeed, and the wait to use after an
error. The rules that derive them live here, beside the values they produce, because both
the learning store (`mzt_tui.marianne`) and the analysis layer apply them and the models
are the only layer both may import. Every rule is pure and returns what the conductor's
own code returns for the same evidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal, NamedTuple, get_args

from pydantic import Field

from mzt_tui.models.jobs import JobRecord, SheetState, SheetStatus
from mzt_tui.models.process import Frozen, NonNegFloat, NonNegInt

MIN_HOUR_SAMPLES = 3
"""Recoveries an hour of the day needs before it may be called optimal or to avoid."""
OPTIMAL_SUCCESS_RATE = 0.7
"""An hour whose recoveries succeed at least this often is optimal."""
AVOID_SUCCESS_RATE = 0.3
"""An hour whose recoveries succeed at most this often is one to avoid."""
WINDOW_FULL_CONFIDENCE_SAMPLES = 50.0
"""Recoveries at which the hour-of-day window reaches confidence 1."""
WAIT_HISTORY = 20
"""How many of the latest successful waits a learned wait is taken from."""
MIN_WAIT_SAMPLES = 3
"""Successful waits needed before a wait is learned at all."""
WAIT_FULL_CONFIDENCE_SAMPLES = 10.0
"""Successful recoveries at which a learned wait reaches confidence 1."""
MIN_WAIT_CONFIDENCE = 0.7
"""Below this confidence a learned wait is blended with the static delay."""
WAIT_FLOOR_FRACTION = 0.5
"""A learned wait is never shorter than this fraction of the static delay."""
MAX_RETRY_PENALTY_RETRIES = 5
"""Retries beyond this many do not lower an outcome's confidence further."""

WaitStrategy = Literal["global_learned", "global_learned_blend", "static_fallback"]
SHEET_STATUSES: frozenset[str] = frozenset(get_args(SheetStatus))

_TRAILING_DIGITS = re.compile(r"(\d+)$")
PassRate = Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]


def sheet_num_from_id(sheet_id: str) -> int:
    """Return the trailing digits of a sheet ID as a number (`"job-sheet12"` → 12), else 0."""
    match = _TRAILING_DIGITS.search(sheet_id)
    return int(match.group(1)) if match else 0


def outcome_confidence(
    validation_pass_rate: float, retry_count: int, success_without_retry: bool
) -> float:
    """Return an outcome's confidence, as the conductor scores it.

    The pass rate, less 0.1 per retry (at most five counted), plus 0.1 when the sheet
    succeeded without a retry, limited to 0–1.
    """
    confidence = validation_pass_rate - 0.1 * min(retry_count, MAX_RETRY_PENALTY_RETRIES)
    if success_without_retry:
        confidence = min(1.0, confidence + 0.1)
    return max(0.0, min(1.0, confidence))


class SheetOutcome(Frozen):
    """How one attempt of one sheet ended: what `record_outcome` writes to `executions`.

    The first eight fields are the conductor's own; `completed_at`, `model` and
    `error_codes` are optional extras that `record_outcome` uses when its own
    arguments leave them out.
    """

    job_id: Annotated[str, Field(min_length=1)]
    sheet_id: str
    """The sheet's ID; its trailing digits are the sheet number (`"3"`, `"job-sheet3"`)."""
    final_status: SheetStatus
    retry_count: NonNegInt = 0
    success_without_retry: bool = False
    validation_pass_rate: PassRate = 0.0
    """The share of validations that passed, 0–1. Older conductors passed percentages
    (0–100): they are stored as given and the readers clamp them to 1."""
    execution_duration: NonNegFloat = 0.0
    """Seconds the sheet ran."""
    timestamp: datetime = Field(default_factory=lambda: datetime.now(tz=UTC))
    """When the outcome was taken (stored as `started_at`, with its zone as given)."""
    completed_at: datetime | None = None
    """When the sheet ended; None means the moment it is recorded (the conductor's way)."""
    model: str | None = None
    error_codes: tuple[str, ...] = ()

    @property
    def sheet_num(self) -> int:
        """The sheet number: the trailing digits of `sheet_id`, else 0."""
        return sheet_num_from_id(self.sheet_id)

    @property
    def confidence(self) -> float:
        """The confidence score stored with the outcome (see `outcome_confidence`)."""
        return outcome_confidence(
            self.validation_pass_rate, self.retry_count, self.success_without_retry
        )


def _sheet_error_codes(sheet: SheetState) -> tuple[str, ...]:
    """The sheet's error code, then `EXIT_<n>` for a non-zero exit, `SIGNAL_<n>` for a signal."""
    codes: list[str] = []
    if sheet.error_code and sheet.error_code.strip():
        codes.append(sheet.error_code.strip())
    if sheet.exit_code not in (None, 0):
        codes.append(f"EXIT_{sheet.exit_code}")
    if sheet.exit_signal not in (None, 0):
        codes.append(f"SIGNAL_{sheet.exit_signal}")
    return tuple(dict.fromkeys(codes))


def _sheet_duration(sheet: SheetState) -> float:
    """The sheet's run time: the conductor's own figure, else its end less its start, else 0."""
    duration = sheet.execution_duration_seconds
    if duration is not None and math.isfinite(duration) and duration >= 0:
        return duration
    if sheet.started_at is not None and sheet.completed_at is not None:
        try:
            return max(0.0, (sheet.completed_at - sheet.started_at).total_seconds())
        except TypeError:  # one naive, one aware: no honest difference
            return 0.0
    return 0.0


def outcome_from_sheet(job: JobRecord, sheet: SheetState) -> SheetOutcome:
    """Build the outcome of a sheet's latest attempt from the registry's checkpoint.

    - final status: the sheet's status;
    - retries: `attempt_count - 1` (the first attempt is no retry);
    - success without retry: completed on the first attempt, validations not failed;
    - validation pass rate: 1.0 when validations passed, 0.0 when they failed; when
      none ran, 1.0 for a completed sheet and 0.0 otherwise;
    - duration: `execution_duration_seconds`, else `completed_at - started_at`, else 0;
    - time: the attempt's `started_at` (else its `completed_at`, else now);
    - model: the sheet's `instrument_model`;
    - error codes: the sheet's `error_code`, `EXIT_<n>` for a non-zero exit code and
      `SIGNAL_<n>` for a signal.

    Args:
        job: The job the sheet belongs to.
        sheet: One of its sheets.

    Raises:
        ValueError: The sheet's status is not one the conductor writes.
    """
    if sheet.status not in SHEET_STATUSES:
        raise ValueError(f"sheet {sheet.sheet_num} of job {job.job_id!r}: unknown status")
    retries = max(0, sheet.attempt_count - 1)
    completed = sheet.status == "completed"
    if sheet.validation_passed is None:
        pass_rate = 1.0 if completed else 0.0
    else:
        pass_rate = 1.0 if sheet.validation_passed else 0.0
    timestamp = sheet.started_at or sheet.completed_at or datetime.now(tz=UTC)
    return SheetOutcome.model_validate(
        {
            "job_id": job.job_id,
            "sheet_id": f"{job.job_id}-sheet{sheet.sheet_num}",
            "final_status": sheet.status,
            "retry_count": retries,
            "success_without_retry": completed
            and retries == 0
            and sheet.validation_passed is not False,
            "validation_pass_rate": pass_rate,
            "execution_duration": _sheet_duration(sheet),
            "timestamp": timestamp,
            "completed_at": sheet.completed_at,
            "model": sheet.instrument_model,
            "error_codes": _sheet_error_codes(sheet),
        }
    )


class ExecutionStats(Frozen):
    """The conductor's `get_execution_stats`: the same keys, the same values."""

    total_executions: NonNegInt = 0
    success_without_retry_rate: float = 0.0
    total_patterns: NonNegInt = 0
    avg_pattern_effectiveness: float = 0.0
    total_error_recoveries: NonNegInt = 0
    unique_workspaces: NonNegInt = 0


class ErrorRecoveryRecord(Frozen):
    """A row of `error_recoveries`: one wait after an error, and whether the retry worked."""

    id: str
    error_code: str
    suggested_wait: float | None = None
    actual_wait: float | None = None
    recovery_success: bool = False
    recorded_at: datetime | None = None
    model: str | None = None
    time_of_day: int | None = None
    """The local hour (0–23) at which it was recorded."""


class WorkspaceCluster(Frozen):
    """A row of `workspace_clusters`: a workspace and the cluster it was assigned to."""

    workspace_hash: str
    cluster_id: str | None = None
    assigned_at: datetime | None = None


class HourSuccess(Frozen):
    """Error recoveries recorded in one local hour of the day, and how many succeeded."""

    hour: int | None
    """0–23; None for rows that lack the hour."""
    successes: NonNegInt
    total: NonNegInt

    @property
    def success_rate(self) -> float | None:
        """Successes over total, as the conductor divides them; None without samples."""
        return self.successes / self.total if self.total else None

    @property
    def verdict(self) -> Literal["optimal", "avoid", "neutral", "too few"]:
        """What the window rule makes of this hour."""
        rate = self.success_rate
        if rate is None or self.total < MIN_HOUR_SAMPLES:
            return "too few"
        if rate >= OPTIMAL_SUCCESS_RATE:
            return "optimal"
        if rate <= AVOID_SUCCESS_RATE:
            return "avoid"
        return "neutral"


class OptimalWindow(Frozen):
    """The conductor's `get_optimal_execution_window`: the same keys, the same values."""

    optimal_hours: tuple[int, ...] = ()
    avoid_hours: tuple[int, ...] = ()
    confidence: float = 0.0
    sample_count: NonNegInt = 0


class LearnedWait(NamedTuple):
    """The conductor's `(delay_seconds, confidence, strategy_name)`, with names."""

    delay_seconds: float
    confidence: float
    strategy: WaitStrategy


def optimal_window(hours: Iterable[HourSuccess]) -> OptimalWindow:
    """Apply the hour-of-day rule to recoveries grouped by hour.

    An hour with at least 3 recoveries is optimal when at least 70 % succeeded and one
    to avoid when at most 30 % did. Confidence is the number of recoveries over 50, at
    most 1. Hours without a value count as samples but are never listed.
    """
    optimal: list[int] = []
    avoid: list[int] = []
    sample_count = 0
    for hour in hours:
        sample_count += hour.total
        if hour.hour is None:
            continue
        verdict = hour.verdict
        if verdict == "optimal":
            optimal.append(hour.hour)
        elif verdict == "avoid":
            avoid.append(hour.hour)
    if sample_count == 0:
        return OptimalWindow()
    return OptimalWindow(
        optimal_hours=tuple(sorted(optimal)),
        avoid_hours=tuple(sorted(avoid)),
        confidence=min(sample_count / WINDOW_FULL_CONFIDENCE_SAMPLES, 1.0),
        sample_count=sample_count,
    )


def learned_wait_seconds(
    successful_waits: Sequence[float], min_samples: int = MIN_WAIT_SAMPLES
) -> float | None:
    """Return the learned wait: the mean and the shortest of the waits, averaged.

    Args:
        successful_waits: The latest successful waits (the store passes at most 20).
        min_samples: Fewer waits than this learn nothing.

    Returns:
        Seconds, or None with too few waits (or none at all).
    """
    if not successful_waits or len(successful_waits) < min_samples:
        return None
    waits = [float(wait) for wait in successful_waits]
    mean_wait = sum(waits) / len(waits)
    return (mean_wait + min(waits)) / 2


def wait_with_fallback(
    learned_wait: float | None,
    success_count: int,
    static_delay: float,
    min_confidence: float = MIN_WAIT_CONFIDENCE,
) -> LearnedWait:
    """Turn a learned wait into the delay to use, with the conductor's floor and blend.

    Without a learned wait the static delay is used (`static_fallback`, confidence 0).
    Otherwise confidence is the successful recoveries over 10, at most 1, and the learned
    wait is raised to at least half the static delay. At or above `min_confidence` that
    is the delay (`global_learned`); below it, it is blended with the static delay in
    proportion `confidence / min_confidence` (`global_learned_blend`).

    Args:
        learned_wait: What `learned_wait_seconds` returned.
        success_count: Every successful recovery of the error code (not only the last 20).
        static_delay: The delay the retry strategy would use without learning.
        min_confidence: The confidence at which the learned wait is trusted alone.
    """
    if learned_wait is None:
        return LearnedWait(static_delay, 0.0, "static_fallback")
    confidence = min(success_count / WAIT_FULL_CONFIDENCE_SAMPLES, 1.0)
    floored = max(learned_wait, static_delay * WAIT_FLOOR_FRACTION)
    if confidence >= min_confidence:
        return LearnedWait(floored, confidence, "global_learned")
    weight = confidence / min_confidence
    blended = weight * floored + (1 - weight) * static_delay
    return LearnedWait(blended, confidence, "global_learned_blend")
