"""Learning stores filled through the marianne API with a fixed clock, for the UI tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mzt_tui.marianne.learning import LearningStore
from mzt_tui.models.outcomes import SheetOutcome

BASE = datetime(2026, 11, 20, 9, 30)
"""The fixed, naive local clock every row is written at (plus an offset)."""
WORKSPACE_A = "/workspaces/demo-a"
WORKSPACE_B = "/workspaces/demo-b"
MEMORY_FINDING = "[memory_vs_failure] Sheets with peak RSS 1-2GB fail more often"
SPIKE_FINDING = "[memory_spike] PID 6002 RSS grew 132% in 40s"
INSIGHT_FINDING = "[knowledge] alpha-review insight"
RETIRED_FINDING = "[cpu_vs_failure] Sheets above 90% CPU fail more often"
OPTIMAL_HOUR = 10
AVOID_HOUR = 3
NEUTRAL_HOUR = 15


class FixedClock:
    """A clock that returns `moment` until it is moved."""

    def __init__(self, moment: datetime = BASE) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def _store(path: Path, clock: Callable[[], datetime]) -> LearningStore:
    return LearningStore(path, now=clock)


def fill_patterns(path: Path) -> dict[str, str]:
    """Write four patterns (one retired) at fixed times; return their IDs by finding."""
    clock = FixedClock()
    store = _store(path, clock)
    ids: dict[str, str] = {}
    ids[MEMORY_FINDING] = store.record_pattern(
        "resource_correlation",
        MEMORY_FINDING,
        "Sheets whose peak RSS was 1-2GB failed 80% of the time (baseline 27%).",
        suggested_action="Give memory-heavy sheets more headroom.",
        context_tags=(
            "feature:peak_rss_mb",
            "memory_bin:1-2GB",
            "failure_rate:0.80",
            "baseline_failure_rate:0.27",
            "sample_size:60",
            "p_value:0.0004",
            "q_value:0.0012",
            "confidence:0.9988",
            "source:mzt_tui",
        ),
    )
    clock.moment = BASE + timedelta(hours=2)
    ids[SPIKE_FINDING] = store.record_pattern(
        "resource_anomaly",
        SPIKE_FINDING,
        "RSS of PID 6002 more than doubled in 40 s.",
        context_tags=("job:alpha-review", "sheet:3"),
        effectiveness_score=0.62,
    )
    store.record_pattern(
        "resource_anomaly",
        SPIKE_FINDING,
        "RSS of PID 6002 more than doubled in 40 s.",
        context_tags=("job:alpha-review", "sheet:3"),
    )
    clock.moment = BASE - timedelta(days=1)
    ids[INSIGHT_FINDING] = store.record_pattern(
        "semantic_insight",
        INSIGHT_FINDING,
        "Reviews finish faster with smaller diffs.",
        effectiveness_score=0.41,
    )
    clock.moment = BASE - timedelta(days=2)
    ids[RETIRED_FINDING] = store.record_pattern(
        "resource_correlation",
        RETIRED_FINDING,
        "Sheets above 90% CPU failed 60% of the time (baseline 30%).",
        context_tags=("feature:cpu_percent", "sample_size:25", "confidence:0.95", "source:mzt_tui"),
    )
    store.set_pattern_active(ids[RETIRED_FINDING], False)
    return ids


def _outcome(job_id: str, sheet: int, status: str, **fields: object) -> SheetOutcome:
    completed = BASE + timedelta(minutes=sheet)
    return SheetOutcome.model_validate(
        {
            "job_id": job_id,
            "sheet_id": str(sheet),
            "final_status": status,
            "timestamp": (completed - timedelta(minutes=1)).replace(tzinfo=UTC),
            "completed_at": completed,
            **fields,
        }
    )


def fill_learning(path: Path) -> None:
    """Write executions, error recoveries over three hours, and two workspace clusters.

    Hour 10 has 4 recoveries, all successful (optimal); hour 3 has 4, all failed (avoid);
    hour 15 has 2 (too few to judge). E101 has 4 successful waits (a learned wait); E006 none.
    """
    clock = FixedClock()
    store = _store(path, clock)
    store.record_outcome(
        _outcome(
            "alpha-review",
            1,
            "completed",
            success_without_retry=True,
            validation_pass_rate=1.0,
            execution_duration=42.5,
        ),
        WORKSPACE_A,
        model="claude-sonnet",
    )
    store.record_outcome(
        _outcome(
            "alpha-review",
            2,
            "completed",
            retry_count=1,
            validation_pass_rate=1.0,
            execution_duration=88.0,
        ),
        WORKSPACE_A,
        model="claude-sonnet",
        error_codes=["E101"],
    )
    store.record_outcome(
        _outcome(
            "beta-build",
            3,
            "failed",
            retry_count=3,
            validation_pass_rate=0.0,
            execution_duration=600,
        ),
        WORKSPACE_B,
        model="claude-opus",
        error_codes=["E006", "E101"],
    )
    recoveries = (
        [(OPTIMAL_HOUR, "E101", 30.0 + index, True) for index in range(4)]
        + [(AVOID_HOUR, "E006", 60.0, False) for _ in range(4)]
        + [(NEUTRAL_HOUR, "E006", 45.0, True), (NEUTRAL_HOUR, "E006", 45.0, False)]
    )
    for index, (hour, code, wait, succeeded) in enumerate(recoveries):
        clock.moment = BASE.replace(hour=hour, minute=index)
        store.record_error_recovery(code, wait, wait, succeeded, model="claude-sonnet")
    clock.moment = BASE
    store.assign_workspace_cluster(LearningStore.hash_workspace(WORKSPACE_A), "cluster-review")
    store.assign_workspace_cluster(LearningStore.hash_workspace(WORKSPACE_B), "cluster-build")


def fill_all(path: Path) -> None:
    """Patterns and the execution side, in one store."""
    fill_patterns(path)
    fill_learning(path)
