"""The analysis wiring: which tests run, on which counts, with which corrections."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mzt_tui.analysis.correlation import CONTINUOUS_FEATURES, analyze, memory_bin_label
from mzt_tui.models.correlation import MEMORY_BIN_LABELS, SheetRun
from tests.correlation.synthetic import memory_failure, synthetic_runs


def run(index: int, *, failed: bool | None, **figures: object) -> SheetRun:
    values: dict[str, object] = {"job_id": "job-a", "sheet_num": index + 1, "failed": failed}
    values.update(figures)
    return SheetRun.model_validate(values)


def two_memory_groups() -> list[SheetRun]:
    """20 runs at 1-2 GB (15 failed) and 40 at 300 MB (5 failed); nothing else measured."""
    heavy = [
        run(i, failed=i < 15, peak_rss_mb=(1500.0 if i < 15 else 1100.0) + i) for i in range(20)
    ]
    light = [run(20 + i, failed=i < 5, peak_rss_mb=300.0 + i) for i in range(40)]
    return heavy + light


@pytest.mark.parametrize(
    ("peak_rss_mb", "label"),
    [
        (0.0, "<256MB"),
        (255.9, "<256MB"),
        (256.0, "256-512MB"),
        (511.9, "256-512MB"),
        (512.0, "512MB-1GB"),
        (1023.9, "512MB-1GB"),
        (1024.0, "1-2GB"),
        (2047.9, "1-2GB"),
        (2048.0, ">2GB"),
        (80_000.0, ">2GB"),
    ],
)
def test_memory_bins_use_the_conductors_labels(peak_rss_mb: float, label: str) -> None:
    assert memory_bin_label(peak_rss_mb) == label
    assert label in MEMORY_BIN_LABELS


def test_bins_are_fisher_tests_against_the_rest_then_benjamini_hochberg() -> None:
    result = analyze(two_memory_groups())

    # Two populated bins and the continuous peak RSS; empty bins and unmeasured figures skipped.
    assert result.tests_run == 3
    assert result.runs_used == 60
    assert result.skipped_reason is None
    skipped = {(s.feature, s.label) for s in result.skipped_tests}
    assert ("peak_rss_mb", "<256MB") in skipped
    assert ("duration_seconds", None) in skipped

    heavy_p = stats.fisher_exact([[15, 5], [5, 35]]).pvalue
    light_p = stats.fisher_exact([[5, 35], [15, 5]]).pvalue
    rss_p = stats.mannwhitneyu(
        [1500.0 + i for i in range(15)] + [300.0 + i for i in range(5)],
        [1115.0 + i for i in range(5)] + [305.0 + i for i in range(35)],
    ).pvalue
    expected_q = stats.false_discovery_control([heavy_p, light_p, rss_p], method="bh")

    by_key = {(f.feature, f.label, f.kind): f for f in result.findings}
    heavy = by_key[("peak_rss_mb", "1-2GB", "bin")]
    assert heavy.failure_rate == pytest.approx(0.75)
    assert heavy.baseline_failure_rate == pytest.approx(0.125)
    assert (heavy.group_size, heavy.total_size) == (20, 60)
    assert heavy.p_value == pytest.approx(heavy_p)
    assert heavy.q_value == pytest.approx(expected_q[0])
    assert heavy.confidence == pytest.approx(1 - expected_q[0])
    assert heavy.test == "fisher_exact"
    assert heavy.direction == "higher"

    light = by_key[("peak_rss_mb", "256-512MB", "bin")]
    assert light.direction == "lower"
    assert light.failure_rate == pytest.approx(0.125)

    continuous = by_key[("peak_rss_mb", None, "continuous")]
    assert continuous.test == "mann_whitney_u"
    assert continuous.p_value == pytest.approx(rss_p)
    assert continuous.q_value == pytest.approx(expected_q[2])
    assert continuous.direction == "higher"
    assert continuous.median_failed is not None and continuous.median_succeeded is not None
    assert continuous.median_failed > continuous.median_succeeded
    # Findings come strongest first.
    assert [f.q_value for f in result.findings] == sorted(f.q_value for f in result.findings)


def test_a_finding_needs_q_below_the_threshold() -> None:
    runs = two_memory_groups()
    strongest = min(f.q_value for f in analyze(runs).findings)
    assert analyze(runs, q_threshold=strongest).findings == ()
    assert len(analyze(runs, q_threshold=min(strongest * 1.0001, 0.999)).findings) >= 1


def test_too_few_runs_says_so_and_finds_nothing() -> None:
    runs = [run(i, failed=i % 2 == 0, peak_rss_mb=2000.0 * (i % 2)) for i in range(4)]
    runs += [run(10 + i, failed=None, peak_rss_mb=100.0) for i in range(7)]

    result = analyze(runs)

    assert result.findings == ()
    assert result.tests_run == 0
    assert result.runs_used == 4
    assert result.runs_without_outcome == 7
    assert result.skipped_reason is not None
    assert "4 sheet runs with a known outcome" in result.skipped_reason
    assert "at least 5" in result.skipped_reason
    assert "7 more have no known outcome" in result.skipped_reason


@pytest.mark.parametrize(("failed", "words"), [(False, "none of the"), (True, "all 30")])
def test_one_outcome_only_says_so_and_finds_nothing(failed: bool, words: str) -> None:
    runs = [run(i, failed=failed, peak_rss_mb=100.0 * i) for i in range(30)]
    result = analyze(runs)
    assert result.findings == ()
    assert result.tests_run == 0
    assert result.skipped_reason is not None
    assert words in result.skipped_reason


def test_runs_without_outcome_are_counted_and_left_out() -> None:
    rng = np.random.default_rng(5)
    runs = synthetic_runs(rng, 300, memory_failure(0.6, 0.15), unknown_outcome=0.2)
    unknown = sum(r.failed is None for r in runs)

    result = analyze(runs)
    known_only = analyze([r for r in runs if r.failed is not None])

    assert 0 < unknown < 300
    assert result.runs_without_outcome == unknown
    assert result.runs_used == 300 - unknown
    assert result.findings == known_only.findings
    assert all(f.total_size <= result.runs_used for f in result.findings)


def test_a_group_below_the_minimum_is_skipped_and_not_counted() -> None:
    runs = two_memory_groups()
    runs += [run(100 + i, failed=True, peak_rss_mb=3000.0) for i in range(3)]

    result = analyze(runs)

    assert result.tests_run == 3
    over_2gb = [s for s in result.skipped_tests if s.label == ">2GB"]
    assert len(over_2gb) == 1
    assert "3 runs in the group" in over_2gb[0].reason
    assert all(f.label != ">2GB" for f in result.findings)
    # With a lower minimum the bin is tested and counted.
    assert analyze(runs, min_sample_size=3).tests_run == 4


def test_figures_not_measured_leave_the_run_out_of_that_test_only() -> None:
    runs = two_memory_groups()
    runs += [
        run(200 + i, failed=i < 4, dominant_syscall="futex" if i < 6 else "read") for i in range(12)
    ]

    result = analyze(runs)

    rss_findings = [f for f in result.findings if f.feature == "peak_rss_mb"]
    assert rss_findings
    assert all(f.total_size == 60 for f in rss_findings)
    assert result.runs_used == 72
    # The 12 traced runs give one test per syscall (6 and 6): two more tests.
    assert result.tests_run == 5


def test_categories_anomalies_and_syscalls_are_tested_each_against_the_rest() -> None:
    runs = [
        run(i, failed=i < 12, anomaly_types=("memory_spike",), dominant_syscall="futex")
        for i in range(15)
    ]
    runs += [run(15 + i, failed=i < 6, dominant_syscall="read") for i in range(45)]

    result = analyze(runs)

    keys = {(f.feature, f.label) for f in result.findings}
    assert ("anomaly", "memory_spike") in keys
    assert ("dominant_syscall", "futex") in keys
    spike = next(f for f in result.findings if f.label == "memory_spike")
    assert spike.kind == "category"
    assert spike.failure_rate == pytest.approx(12 / 15)
    assert spike.baseline_failure_rate == pytest.approx(6 / 45)
    assert spike.p_value == pytest.approx(stats.fisher_exact([[12, 3], [6, 39]]).pvalue)


def test_every_continuous_feature_is_tested_with_mann_whitney() -> None:
    rng = np.random.default_rng(9)
    runs = synthetic_runs(rng, 400, memory_failure(0.6, 0.15))
    result = analyze(runs)
    tested = {s.feature for s in result.skipped_tests}
    # Every continuous figure is measured in enough runs here, so none is skipped.
    assert tested.isdisjoint(CONTINUOUS_FEATURES)
    assert result.tests_run >= 5 + len(CONTINUOUS_FEATURES)


def test_a_constant_figure_is_skipped() -> None:
    runs = [run(i, failed=i % 3 == 0, process_count=1) for i in range(30)]
    result = analyze(runs)
    assert result.tests_run == 0
    assert result.skipped_reason is not None
    reasons = {s.feature: s.reason for s in result.skipped_tests}
    assert reasons["process_count"] == "every run has the same value"


def test_the_analysis_is_deterministic() -> None:
    runs = synthetic_runs(np.random.default_rng(3), 250, memory_failure(0.6, 0.15))
    assert analyze(runs) == analyze(runs)
    assert analyze(runs) == analyze(list(reversed(runs)))


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("q_threshold", 0.0), ("q_threshold", 1.0), ("min_sample_size", 0)],
)
def test_bad_parameters_are_refused(keyword: str, value: float) -> None:
    with pytest.raises(ValueError, match=keyword):
        if keyword == "q_threshold":
            analyze([], q_threshold=value)
        else:
            analyze([], min_sample_size=int(value))
