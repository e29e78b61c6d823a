"""Sheet-run summaries, correlation findings and the patterns they become.

A sheet run is one attempt of one sheet of one job: `(job_id, sheet_num, attempt)`. The
correlation analysis (`mzt_tui.analysis.correlation`) tests whether its resource figures go
with failure; what it finds becomes a `resource_correlation` pattern in global-learning.db.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field

from mzt_tui.models.process import Frozen, NonNegFloat, NonNegInt

RESOURCE_CORRELATION: Final = "resource_correlation"
"""The `patterns.pattern_type` of every correlation finding."""

MEMORY_BIN_LABELS: Final[tuple[str, ...]] = ("<256MB", "256-512MB", "512MB-1GB", "1-2GB", ">2GB")
"""The conductor's peak-RSS bins, ascending; its back-pressure estimate reads exactly these."""

MEMORY_BIN_EDGES_MB: Final[tuple[float, ...]] = (256.0, 512.0, 1024.0, 2048.0)
"""Lower edges (inclusive, MB) of every bin after the first in `MEMORY_BIN_LABELS`."""

FindingKind = Literal["bin", "category", "continuous"]
Direction = Literal["higher", "lower"]
StatisticalTest = Literal["fisher_exact", "mann_whitney_u"]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class SheetRun(Frozen):
    """What one sheet run used, summarised from monitor.db, and how it ended.

    Every resource figure is None when it was not measured; a run is left out of the tests
    of the figures it lacks and stays in the others.
    """

    job_id: str
    sheet_num: NonNegInt
    attempt: NonNegInt = 1
    started_at: float | None = None
    """Unix seconds."""
    ended_at: float | None = None
    """Unix seconds."""
    duration_seconds: NonNegFloat | None = None
    peak_rss_mb: NonNegFloat | None = None
    """Peak resident memory of the sheet's whole process tree."""
    cpu_seconds: NonNegFloat | None = None
    mean_cpu_percent: NonNegFloat | None = None
    """Mean CPU of the process tree; above 100 when it used more than one core."""
    peak_fds: NonNegInt | None = None
    peak_threads: NonNegInt | None = None
    dominant_syscall: str | None = None
    """The syscall with the largest share of syscall time, when syscalls were traced."""
    anomaly_types: tuple[str, ...] = ()
    """Types of the anomalies seen on the run's processes (`AnomalyType` values)."""
    gpu_memory_peak_mb: NonNegFloat | None = None
    process_count: NonNegInt | None = None
    failed: bool | None = None
    """The outcome: True failed, False succeeded, None unknown (left out of every test)."""


class CorrelationFinding(Frozen):
    """One test whose Benjamini–Hochberg q-value fell below the threshold.

    For a bin or category the group is the runs in it and the baseline is every other run
    with that figure known. For a continuous feature the test compares failed with succeeded
    runs; the group is then the runs at or above `threshold` (the median, or the next value
    above it), so that the failure rates say the same thing in plain words.
    """

    feature: str
    """Which figure: `peak_rss_mb`, `anomaly`, `dominant_syscall`, `duration_seconds` ..."""
    label: str | None
    """The bin (one of `MEMORY_BIN_LABELS`) or category; None for a continuous feature."""
    kind: FindingKind
    failure_rate: Probability
    """Failure rate in the group."""
    baseline_failure_rate: Probability
    """Failure rate of the rest."""
    group_size: NonNegInt
    total_size: NonNegInt
    """Runs with a known outcome and this figure known."""
    p_value: Probability
    q_value: Probability
    """Benjamini–Hochberg adjusted over every test of the analysis."""
    confidence: Probability
    """1 − q."""
    test: StatisticalTest
    direction: Direction
    """Bins and categories: the group fails more ("higher") or less often than the rest.
    Continuous: failed runs tend to have higher or lower values than succeeded ones."""
    median_failed: float | None = None
    """Continuous only: median of the failed runs."""
    median_succeeded: float | None = None
    """Continuous only: median of the succeeded runs."""
    threshold: float | None = None
    """Continuous only: the group is the runs with a value at or above this."""


class SkippedTest(Frozen):
    """A test that was not run, and why (it is not counted in `tests_run`)."""

    feature: str
    label: str | None
    reason: str


class CorrelationResult(Frozen):
    """Everything one analysis found, tested and left out."""

    findings: tuple[CorrelationFinding, ...] = ()
    tests_run: NonNegInt = 0
    """Tests that entered the Benjamini–Hochberg correction."""
    runs_used: NonNegInt = 0
    """Runs with a known outcome."""
    runs_without_outcome: NonNegInt = 0
    skipped_reason: str | None = None
    """Why nothing at all was tested, if so."""
    skipped_tests: tuple[SkippedTest, ...] = ()


class PatternSpec(Frozen):
    """A finding as a `patterns` row: its name identifies it, the rest is replaced on update."""

    pattern_type: str = RESOURCE_CORRELATION
    name: str
    """States the finding without figures, so a re-run updates the same row."""
    description: str
    """States the finding with its figures, in plain words."""
    suggested_action: str
    context_tags: tuple[str, ...]
    """`key:value` strings, among them `memory_bin:<label>` for high-risk memory bins."""


class FlaggedMemoryBin(Frozen):
    """A peak-RSS bin that the conductor's back-pressure estimate takes as high risk."""

    label: str
    failure_rate: Probability | None
    """From the pattern's `failure_rate:` tag; None when the tag is absent or unreadable."""
