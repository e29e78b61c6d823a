"""One correlation run: sheet-run summaries + outcomes → statistics → learned patterns.

`run_correlation` rebuilds the sheet-run summaries in monitor.db, joins each run's outcome
(`mzt_tui.marianne.outcomes`), tests every resource figure against failure
(`mzt_tui.analysis.correlation.analyze`) and records each finding in global-learning.db as a
`resource_correlation` pattern tagged `source:mzt_tui`. The pattern's name carries no
figures, so a re-run on the same data updates the same rows and adds none. Patterns of ours
that no longer hold are marked inactive, never deleted. With too few runs it stores nothing.

It runs in a worker thread or from `mzt correlate`; it never imports Textual.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from mzt_tui.analysis.correlation import analyze, pattern_spec
from mzt_tui.marianne.learning import LearningStore
from mzt_tui.marianne.outcomes import OutcomeJoin, join_outcomes
from mzt_tui.marianne.paths import MarianneHome
from mzt_tui.models.config import CorrelationConfig
from mzt_tui.models.correlation import (
    RESOURCE_CORRELATION,
    CorrelationFinding,
    CorrelationResult,
    PatternSpec,
)
from mzt_tui.models.errors import MztError, NoDataError
from mzt_tui.models.process import Frozen
from mzt_tui.models.sheet_runs import SheetRunSummary
from mzt_tui.store import MonitorStore
from mzt_tui.store.sheet_runs import number_attempts

SOURCE_TAG = "source:mzt_tui"
"""Tag of every pattern this runner writes: the ones it may later mark inactive."""
SECONDS_PER_DAY = 86_400.0


class FindingReport(Frozen):
    """One finding and the pattern that records it."""

    pattern_id: str
    name: str
    description: str
    feature: str
    label: str | None
    direction: str
    failure_rate: float
    baseline_failure_rate: float
    group_size: int
    total_size: int
    p_value: float
    q_value: float
    confidence: float
    tags: tuple[str, ...]


class CorrelationReport(Frozen):
    """What one correlation run did (in a dry run: what it would have stored)."""

    dry_run: bool
    since: float
    """Runs that ended at or after this time (unix seconds) were analysed."""
    summaries_rebuilt: int = 0
    """Rows of `mzt_sheet_runs` written or changed by the rebuild (0 in a dry run)."""
    runs_total: int = 0
    runs_used: int = 0
    """Runs with a known outcome."""
    runs_without_outcome: int = 0
    outcome_sources: dict[str, int] = Field(default_factory=dict)
    """How many runs each outcome source decided."""
    tests_run: int = 0
    findings: tuple[FindingReport, ...] = ()
    patterns_written: int = 0
    """New patterns."""
    patterns_updated: int = 0
    """Patterns that already existed and were updated."""
    patterns_deactivated: int = 0
    """Patterns of ours that no longer hold, marked inactive."""
    skipped_reason: str | None = None
    """Why nothing was tested (and nothing stored), if so."""
    error: str | None = None
    """A one-line failure to write the learning store; the findings above still stand."""
    repairs: str | None = None
    """What reading monitor.db repaired or skipped in other writers' rows (None: nothing)."""


def with_source_tag(spec: PatternSpec) -> PatternSpec:
    """The spec with `source:mzt_tui` added to its tags."""
    if SOURCE_TAG in spec.context_tags:
        return spec
    return spec.model_copy(update={"context_tags": (*spec.context_tags, SOURCE_TAG)})


def _merge(
    stored: Sequence[SheetRunSummary], fresh: Sequence[SheetRunSummary]
) -> list[SheetRunSummary]:
    """Stored and freshly built summaries, one per attempt (the one seen at more ticks)."""
    merged = {summary.key: summary for summary in stored}
    for summary in fresh:
        known = merged.get(summary.key)
        if known is None or summary.samples >= known.samples:
            merged[summary.key] = summary
    return number_attempts(merged.values())


def _summaries(
    db_path: Path, since: float, dry_run: bool
) -> tuple[list[SheetRunSummary], int, str | None]:
    """The runs to analyse, how many summary rows the rebuild changed, and what the
    reads repaired in other writers' rows (one line, or None)."""
    if not db_path.is_file():
        raise NoDataError(
            f"no monitor database at {db_path}: record some sheets first (mzt top --headless)"
        )
    if dry_run:
        with MonitorStore(db_path, readonly=True) as reader:
            merged = _merge(reader.read_sheet_runs(since), reader.summarize_sheet_runs(since))
            return merged, 0, reader.take_repairs().summary(db_path.name)
    with MonitorStore(db_path) as store:
        rebuilt = store.rebuild_sheet_runs(since)
        stored = store.read_sheet_runs(since)
        return stored, rebuilt, store.take_repairs().summary(db_path.name)


def _finding_report(finding: CorrelationFinding, spec: PatternSpec) -> FindingReport:
    return FindingReport(
        pattern_id=LearningStore.pattern_id(spec.pattern_type, spec.name),
        name=spec.name,
        description=spec.description,
        feature=finding.feature,
        label=finding.label,
        direction=finding.direction,
        failure_rate=finding.failure_rate,
        baseline_failure_rate=finding.baseline_failure_rate,
        group_size=finding.group_size,
        total_size=finding.total_size,
        p_value=finding.p_value,
        q_value=finding.q_value,
        confidence=finding.confidence,
        tags=spec.context_tags,
    )


def _store_patterns(
    learning: LearningStore, specs: Sequence[PatternSpec], *, dry_run: bool
) -> tuple[int, int, int, str | None]:
    """Record the findings' patterns and retire ours that no longer hold.

    Returns:
        Patterns written, updated, deactivated, and a one-line error (None when all went in).
    """
    written = updated = deactivated = 0
    try:
        existing = learning.read_patterns(RESOURCE_CORRELATION)
        existing_ids = {pattern.id for pattern in existing}
        current_ids: set[str] = set()
        for spec in specs:
            pattern_id = LearningStore.pattern_id(spec.pattern_type, spec.name)
            current_ids.add(pattern_id)
            if not dry_run:
                learning.record_pattern(
                    spec.pattern_type,
                    spec.name,
                    spec.description,
                    suggested_action=spec.suggested_action,
                    context_tags=spec.context_tags,
                )
            if pattern_id in existing_ids:
                updated += 1
            else:
                written += 1
        for pattern in existing:
            if pattern.id in current_ids or not pattern.active:
                continue
            if SOURCE_TAG not in pattern.context_tags:
                continue  # the conductor's own patterns, or anyone else's: not ours to judge
            if not dry_run:
                learning.set_pattern_active(pattern.id, False)
            deactivated += 1
    except MztError as error:
        return written, updated, deactivated, f"learning store not fully updated: {error}"
    return written, updated, deactivated, None


def run_correlation(
    home: MarianneHome,
    db_path: Path,
    config: CorrelationConfig,
    *,
    dry_run: bool = False,
    now: float | None = None,
    learning: LearningStore | None = None,
) -> CorrelationReport:
    """Summarise sheet runs, join outcomes, test, and record what holds as patterns.

    Args:
        home: The Marianne home (its registry and learning store are used).
        db_path: monitor.db.
        config: Lookback, minimum sample size and q-value threshold.
        dry_run: Analyse and report, but write nothing to monitor.db or the learning store.
        now: The current time (default `time.time()`); runs that ended within
            `lookback_days` of it are analysed.
        learning: The learning store to use (default `home.learning_db`).

    Returns:
        What was found and stored. A learning store that stays locked is reported in
        `error`, not raised: the summaries are in monitor.db and a re-run stores the rest.

    Raises:
        NoDataError: There is no monitor.db.
        StoreError: monitor.db, the registry or the learning store cannot be read.
    """
    clock = time.time() if now is None else now
    since = clock - config.lookback_days * SECONDS_PER_DAY
    summaries, rebuilt, repairs = _summaries(db_path, since, dry_run)
    learning_store = learning if learning is not None else LearningStore(home.learning_db)
    joined: OutcomeJoin = join_outcomes(
        summaries, registry_path=home.registry_db, learning=learning_store
    )
    result: CorrelationResult = analyze(
        joined.runs, q_threshold=config.q_threshold, min_sample_size=config.min_sample_size
    )
    specs = [with_source_tag(pattern_spec(finding)) for finding in result.findings]
    report = CorrelationReport(
        dry_run=dry_run,
        since=since,
        summaries_rebuilt=rebuilt,
        runs_total=len(joined.runs),
        runs_used=result.runs_used,
        runs_without_outcome=result.runs_without_outcome,
        outcome_sources=joined.by_source,
        tests_run=result.tests_run,
        findings=tuple(
            _finding_report(finding, spec)
            for finding, spec in zip(result.findings, specs, strict=True)
        ),
        skipped_reason=result.skipped_reason,
        repairs=repairs,
    )
    if result.skipped_reason is not None:
        return report
    written, updated, deactivated, error = _store_patterns(learning_store, specs, dry_run=dry_run)
    return report.model_copy(
        update={
            "patterns_written": written,
            "patterns_updated": updated,
            "patterns_deactivated": deactivated,
            "error": error,
        }
    )
