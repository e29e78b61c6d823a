"""What the learning store holds, read in one go for `mzt patterns`, `mzt learning` and the TUI.

Reads only: nothing here writes the learning store. A missing store raises `NoDataError`, an
unreadable one `StoreError`; the callers say so in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mzt_tui.marianne.learning import LearningStore
from mzt_tui.models.errors import NoDataError
from mzt_tui.models.learning import ExecutionRecord, LearnedPattern
from mzt_tui.models.outcomes import (
    ExecutionStats,
    HourSuccess,
    LearnedWait,
    OptimalWindow,
    WorkspaceCluster,
)

RECENT_LIMIT = 20
"""How many executions a report lists."""
DEFAULT_STATIC_DELAY = 60.0
"""The retry delay without learning, in seconds (`mzt learning --static-delay`'s default)."""


def pattern_sample_size(pattern: LearnedPattern) -> int | None:
    """The pattern's `sample_size:` tag as a whole number, if it has one."""
    sample_size = pattern.number_tag("sample_size")
    return None if sample_size is None else int(sample_size)


def read_patterns(path: Path, pattern_type: str | None = None) -> list[LearnedPattern]:
    """Return every learned pattern of the store at `path` (of one type, if given).

    Raises:
        NoDataError: There is no learning store.
        StoreError: The learning store cannot be read.
    """
    learning = LearningStore(path)
    if not learning.exists():
        raise NoDataError(f"no learning store at {learning.path}")
    return learning.read_patterns(pattern_type)


@dataclass(frozen=True, slots=True)
class WaitRow:
    """One error code's learned wait, with what it was learned from."""

    error_code: str
    successful_samples: int
    learned_seconds: float | None
    wait: LearnedWait


@dataclass(frozen=True, slots=True)
class LearningReport:
    """The learning store's execution side, read in one go."""

    path: Path
    schema_version: int | None
    stats: ExecutionStats
    recent: list[ExecutionRecord]
    window: OptimalWindow
    hours: list[HourSuccess]
    waits: list[WaitRow]
    clusters: list[WorkspaceCluster]


def read_learning_report(
    path: Path,
    error_code: str | None = None,
    model: str | None = None,
    static_delay: float = DEFAULT_STATIC_DELAY,
    *,
    recent_limit: int = RECENT_LIMIT,
) -> LearningReport:
    """Read statistics, recent executions, the hour window, waits and clusters from `path`.

    Args:
        path: The learning store file.
        error_code: Only this error code for the hour-of-day window and the wait times.
        model: Only this model's recoveries for the window and the wait times.
        static_delay: The retry delay without learning, in seconds (the fallback).
        recent_limit: How many of the latest executions to read.

    Raises:
        NoDataError: There is no learning store.
        StoreError: The learning store cannot be read.
    """
    store = LearningStore(path)
    if not store.exists():
        raise NoDataError(
            f"no learning store at {path}: nothing has recorded sheet outcomes there yet"
        )
    codes = [error_code] if error_code else store.recovery_error_codes(model)
    waits = [
        WaitRow(
            error_code=code,
            successful_samples=store.get_error_recovery_sample_count(code, model=model),
            learned_seconds=store.get_learned_wait_time(code, model),
            wait=store.get_learned_wait_time_with_fallback(code, static_delay, model),
        )
        for code in codes
    ]
    return LearningReport(
        path=path,
        schema_version=store.schema_version(),
        stats=store.get_execution_stats(),
        recent=store.get_recent_executions(recent_limit),
        window=store.get_optimal_execution_window(error_code, model),
        hours=store.hour_success(error_code, model),
        waits=waits,
        clusters=store.read_workspace_clusters(),
    )
