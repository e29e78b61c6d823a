"""Which resource figures go with sheet failure: tested, corrected for multiplicity, no heuristics.

Every figure of a sheet run is tested against its outcome:

- peak RSS in the conductor's five bins, each bin against the rest: Fisher's exact test;
- each anomaly type, runs that had it against runs that did not: Fisher's exact test;
- each dominant syscall against the other syscalls: Fisher's exact test;
- continuous figures (duration, CPU time, mean CPU, peak fds, peak threads, peak GPU memory,
  process count, peak RSS), failed against succeeded runs: Mann–Whitney U.

Then Benjamini–Hochberg over every test of the analysis; a finding is a test whose q-value is
below the threshold. Under pure noise this keeps the chance of reporting anything at all at or
below the threshold, where the conductor's heuristic reports something in most runs.

A test with fewer than `min_sample_size` runs on either side is skipped and not counted, so it
neither reports nor dilutes the correction. Everything here is pure and deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from mzt_tui.analysis.correlation_patterns import backpressure_memory_estimate, pattern_spec
from mzt_tui.models.correlation import (
    MEMORY_BIN_EDGES_MB,
    MEMORY_BIN_LABELS,
    CorrelationFinding,
    CorrelationResult,
    FindingKind,
    SheetRun,
    SkippedTest,
    StatisticalTest,
)

__all__ = [
    "CONTINUOUS_FEATURES",
    "analyze",
    "backpressure_memory_estimate",
    "memory_bin_label",
    "pattern_spec",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

CONTINUOUS_FEATURES: tuple[str, ...] = (
    "duration_seconds",
    "cpu_seconds",
    "mean_cpu_percent",
    "peak_fds",
    "peak_threads",
    "gpu_memory_peak_mb",
    "process_count",
    "peak_rss_mb",
)
"""SheetRun fields tested with Mann–Whitney U, in the order they are tested."""

RSS_FEATURE = "peak_rss_mb"
ANOMALY_FEATURE = "anomaly"
SYSCALL_FEATURE = "dominant_syscall"


def memory_bin_label(peak_rss_mb: float) -> str:
    """Return the conductor's peak-RSS bin label for a value in MB (`1024.0` → `"1-2GB"`)."""
    return MEMORY_BIN_LABELS[int(np.searchsorted(MEMORY_BIN_EDGES_MB, peak_rss_mb, side="right"))]


@dataclass(frozen=True)
class _TestOutcome:
    """A test that ran, before the multiplicity correction."""

    feature: str
    label: str | None
    kind: FindingKind
    test: StatisticalTest
    p_value: float
    failure_rate: float
    baseline_failure_rate: float
    group_size: int
    total_size: int
    higher: bool
    median_failed: float | None = None
    median_succeeded: float | None = None
    threshold: float | None = None


def _rate(failures: int, runs: int) -> float:
    return failures / runs if runs else 0.0


def _clip_probability(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _fisher_group(
    feature: str,
    label: str,
    kind: FindingKind,
    in_group: BoolArray,
    failed: BoolArray,
    *,
    min_sample_size: int,
) -> _TestOutcome | SkippedTest:
    """Test one group against the rest with Fisher's exact test on the 2×2 table.

    `in_group` and `failed` cover the same runs: those with a known outcome and this figure known.
    """
    total = int(in_group.size)
    group_size = int(np.count_nonzero(in_group))
    rest_size = total - group_size
    if group_size < min_sample_size or rest_size < min_sample_size:
        smaller = "group" if group_size < rest_size else "rest"
        return SkippedTest(
            feature=feature,
            label=label,
            reason=f"{min(group_size, rest_size)} runs in the {smaller}; "
            f"at least {min_sample_size} needed on each side",
        )
    all_failures = int(np.count_nonzero(failed))
    if all_failures in (0, total):
        return SkippedTest(
            feature=feature, label=label, reason="every run with this figure had the same outcome"
        )
    group_failures = int(np.count_nonzero(failed & in_group))
    rest_failures = all_failures - group_failures
    table = [
        [group_failures, group_size - group_failures],
        [rest_failures, rest_size - rest_failures],
    ]
    p_value = float(stats.fisher_exact(table, alternative="two-sided").pvalue)
    failure_rate = _rate(group_failures, group_size)
    baseline = _rate(rest_failures, rest_size)
    return _TestOutcome(
        feature=feature,
        label=label,
        kind=kind,
        test="fisher_exact",
        p_value=p_value,
        failure_rate=failure_rate,
        baseline_failure_rate=baseline,
        group_size=group_size,
        total_size=total,
        higher=failure_rate > baseline,
    )


def _mann_whitney(
    feature: str, values: FloatArray, failed: BoolArray, min_sample_size: int
) -> _TestOutcome | SkippedTest:
    """Compare a continuous figure between failed and succeeded runs (NaN = not measured)."""
    measured = ~np.isnan(values)
    known_values = values[measured]
    known_failed = failed[measured]
    failed_values = known_values[known_failed]
    succeeded_values = known_values[~known_failed]
    smallest = min(failed_values.size, succeeded_values.size)
    if smallest < min_sample_size:
        side = "failed" if failed_values.size < succeeded_values.size else "succeeded"
        return SkippedTest(
            feature=feature,
            label=None,
            reason=f"{smallest} {side} runs with this figure; at least {min_sample_size} needed",
        )
    if known_values.min() == known_values.max():
        return SkippedTest(feature=feature, label=None, reason="every run has the same value")
    result = stats.mannwhitneyu(failed_values, succeeded_values, alternative="two-sided")
    # U of the failed sample above half of all pairs: failed runs tend to have higher values.
    higher = float(result.statistic) > failed_values.size * succeeded_values.size / 2.0

    # Plain-words failure rates: the runs at or above the median (or the next value above it,
    # so that the group is "above the median" whenever anything is) against the rest.
    median = float(np.median(known_values))
    above_median = known_values[known_values > median]
    threshold = float(above_median.min()) if above_median.size else median
    in_group = known_values >= threshold
    group_size = int(np.count_nonzero(in_group))
    group_failures = int(np.count_nonzero(known_failed & in_group))
    rest_failures = int(failed_values.size) - group_failures
    return _TestOutcome(
        feature=feature,
        label=None,
        kind="continuous",
        test="mann_whitney_u",
        p_value=float(result.pvalue),
        failure_rate=_rate(group_failures, group_size),
        baseline_failure_rate=_rate(rest_failures, int(known_values.size) - group_size),
        group_size=group_size,
        total_size=int(known_values.size),
        higher=higher,
        median_failed=float(np.median(failed_values)),
        median_succeeded=float(np.median(succeeded_values)),
        threshold=threshold,
    )


def _category_masks(labels: Sequence[Sequence[str]], size: int) -> dict[str, BoolArray]:
    """One boolean mask per distinct label, over `size` runs, in sorted label order."""
    members: dict[str, list[int]] = {}
    for index, run_labels in enumerate(labels):
        for label in set(run_labels):
            members.setdefault(label, []).append(index)
    masks: dict[str, BoolArray] = {}
    for label in sorted(members):
        mask = np.zeros(size, dtype=np.bool_)
        mask[members[label]] = True
        masks[label] = mask
    return masks


def _run_tests(
    runs: Sequence[SheetRun], failed: BoolArray, min_sample_size: int
) -> list[_TestOutcome | SkippedTest]:
    """Every test of the analysis, in a fixed order, over runs with a known outcome."""
    outcomes: list[_TestOutcome | SkippedTest] = []
    columns = {
        name: np.array([getattr(run, name) for run in runs], dtype=np.float64)
        for name in CONTINUOUS_FEATURES
    }

    # Peak RSS bins, each against the other runs whose peak RSS is known.
    rss = columns[RSS_FEATURE]
    rss_known = ~np.isnan(rss)
    rss_bins = np.searchsorted(MEMORY_BIN_EDGES_MB, rss[rss_known], side="right")
    for bin_index, label in enumerate(MEMORY_BIN_LABELS):
        outcomes.append(
            _fisher_group(
                RSS_FEATURE,
                label,
                "bin",
                rss_bins == bin_index,
                failed[rss_known],
                min_sample_size=min_sample_size,
            )
        )

    # Anomaly presence: every run counts, no anomaly being a known value.
    anomaly_masks = _category_masks([run.anomaly_types for run in runs], len(runs))
    for anomaly_type, mask in anomaly_masks.items():
        outcomes.append(
            _fisher_group(
                ANOMALY_FEATURE,
                anomaly_type,
                "category",
                mask,
                failed,
                min_sample_size=min_sample_size,
            )
        )

    # Dominant syscall, among the runs whose syscalls were traced.
    syscalls = [run.dominant_syscall for run in runs]
    traced = np.array([syscall is not None for syscall in syscalls], dtype=np.bool_)
    syscall_masks = _category_masks(
        [(syscall,) for syscall in syscalls if syscall is not None], int(np.count_nonzero(traced))
    )
    for syscall, mask in syscall_masks.items():
        outcomes.append(
            _fisher_group(
                SYSCALL_FEATURE,
                syscall,
                "category",
                mask,
                failed[traced],
                min_sample_size=min_sample_size,
            )
        )

    for name in CONTINUOUS_FEATURES:
        outcomes.append(_mann_whitney(name, columns[name], failed, min_sample_size))
    return outcomes


def _finding(outcome: _TestOutcome, q_value: float) -> CorrelationFinding:
    return CorrelationFinding(
        feature=outcome.feature,
        label=outcome.label,
        kind=outcome.kind,
        failure_rate=outcome.failure_rate,
        baseline_failure_rate=outcome.baseline_failure_rate,
        group_size=outcome.group_size,
        total_size=outcome.total_size,
        p_value=_clip_probability(outcome.p_value),
        q_value=q_value,
        confidence=1.0 - q_value,
        test=outcome.test,
        direction="higher" if outcome.higher else "lower",
        median_failed=outcome.median_failed,
        median_succeeded=outcome.median_succeeded,
        threshold=outcome.threshold,
    )


def analyze(
    runs: Sequence[SheetRun], *, q_threshold: float = 0.05, min_sample_size: int = 5
) -> CorrelationResult:
    """Test every resource figure of the runs against failure; keep what survives BH.

    Args:
        runs: Sheet runs; those with `failed=None` are left out and counted.
        q_threshold: A finding needs a Benjamini–Hochberg q-value strictly below this.
        min_sample_size: Fewest runs with a known outcome for any analysis, and fewest runs on
            each side of a test (in the group and in the rest; failed and succeeded).

    Returns:
        The findings, ordered by q-value then test order, with what was tested and skipped.

    Raises:
        ValueError: If `q_threshold` is not in (0, 1) or `min_sample_size` is below 1.
    """
    if not 0.0 < q_threshold < 1.0:
        raise ValueError(f"q_threshold must be between 0 and 1, not {q_threshold}")
    if min_sample_size < 1:
        raise ValueError(f"min_sample_size must be at least 1, not {min_sample_size}")

    known = [run for run in runs if run.failed is not None]
    without_outcome = len(runs) - len(known)
    failed = np.array([run.failed for run in known], dtype=np.bool_)
    failures = int(np.count_nonzero(failed))

    skipped_reason: str | None = None
    if len(known) < min_sample_size:
        skipped_reason = (
            f"{len(known)} sheet runs with a known outcome; at least {min_sample_size} needed"
        )
        if without_outcome:
            skipped_reason += f" ({without_outcome} more have no known outcome)"
    elif failures == 0:
        skipped_reason = f"none of the {len(known)} sheet runs failed: nothing to compare"
    elif failures == len(known):
        skipped_reason = f"all {len(known)} sheet runs failed: nothing to compare"
    if skipped_reason is not None:
        return CorrelationResult(
            runs_used=len(known),
            runs_without_outcome=without_outcome,
            skipped_reason=skipped_reason,
        )

    outcomes = _run_tests(known, failed, min_sample_size)
    tested = [o for o in outcomes if isinstance(o, _TestOutcome) and math.isfinite(o.p_value)]
    skipped = [o for o in outcomes if isinstance(o, SkippedTest)]
    skipped += [
        SkippedTest(feature=o.feature, label=o.label, reason="the test is undefined here")
        for o in outcomes
        if isinstance(o, _TestOutcome) and not math.isfinite(o.p_value)
    ]
    if not tested:
        return CorrelationResult(
            runs_used=len(known),
            runs_without_outcome=without_outcome,
            skipped_reason=f"no test had at least {min_sample_size} runs on each side",
            skipped_tests=tuple(skipped),
        )

    p_values = np.array([_clip_probability(o.p_value) for o in tested], dtype=np.float64)
    q_values = np.asarray(stats.false_discovery_control(p_values, method="bh"), dtype=np.float64)
    significant = sorted(
        (float(q_values[index]), index)
        for index in range(len(tested))
        if q_values[index] < q_threshold
    )
    return CorrelationResult(
        findings=tuple(_finding(tested[index], _clip_probability(q)) for q, index in significant),
        tests_run=len(tested),
        runs_used=len(known),
        runs_without_outcome=without_outcome,
        skipped_tests=tuple(skipped),
    )
