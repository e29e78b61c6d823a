"""Findings as `resource_correlation` patterns, and the conductor's back-pressure read rule."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from mzt_tui.analysis.correlation import analyze, backpressure_memory_estimate, pattern_spec
from mzt_tui.models import LearnedPattern
from mzt_tui.models.correlation import (
    MEMORY_BIN_LABELS,
    CorrelationFinding,
    FlaggedMemoryBin,
    PatternSpec,
)
from tests.correlation.synthetic import memory_failure, synthetic_runs


def pattern_id(spec: PatternSpec) -> str:
    """The conductor's pattern id (SCHEMA.md): the row an upsert of this spec updates."""
    normalized = " ".join(spec.name.lower().split())
    return hashlib.sha256(f"{spec.pattern_type}:{normalized}".encode()).hexdigest()[:16]


def finding(**fields: object) -> CorrelationFinding:
    values: dict[str, object] = {
        "feature": "peak_rss_mb",
        "label": "1-2GB",
        "kind": "bin",
        "failure_rate": 0.6132,
        "baseline_failure_rate": 0.1387,
        "group_size": 212,
        "total_size": 1200,
        "p_value": 0.00011,
        "q_value": 0.0021,
        "confidence": 0.9979,
        "test": "fisher_exact",
        "direction": "higher",
    }
    values.update(fields)
    return CorrelationFinding.model_validate(values)


def tag_value(spec: PatternSpec, key: str) -> str:
    values = [tag.split(":", 1)[1] for tag in spec.context_tags if tag.split(":", 1)[0] == key]
    assert len(values) == 1, (key, spec.context_tags)
    return values[0]


def test_a_high_memory_bin_names_itself_without_figures_and_tags_its_bin() -> None:
    spec = pattern_spec(finding())

    assert spec.pattern_type == "resource_correlation"
    assert spec.name == "[memory_vs_failure] Sheets with peak RSS 1-2GB fail more often"
    assert spec.description == (
        "Sheets with peak RSS 1-2GB failed 61% of the time vs 14% otherwise "
        "(n=212 of 1200, q=0.0021)"
    )
    assert "memory_bin:1-2GB" in spec.context_tags
    assert tag_value(spec, "feature") == "peak_rss_mb"
    assert tag_value(spec, "bin") == "1-2GB"
    assert tag_value(spec, "failure_rate") == "0.61"
    assert tag_value(spec, "baseline") == "0.14"
    assert tag_value(spec, "sample_size") == "212"
    assert float(tag_value(spec, "p")) == pytest.approx(0.00011)
    assert float(tag_value(spec, "q")) == pytest.approx(0.0021)
    assert float(tag_value(spec, "confidence")) == pytest.approx(0.998)
    assert spec.suggested_action
    assert not re.search(r"\d+%|q=|n=", spec.name)


def test_a_bin_that_fails_less_often_is_never_a_back_pressure_risk() -> None:
    spec = pattern_spec(
        finding(label="<256MB", failure_rate=0.05, baseline_failure_rate=0.3, direction="lower")
    )
    assert spec.name == "[memory_vs_failure] Sheets with peak RSS <256MB fail less often"
    assert "RSS" in spec.description
    assert tag_value(spec, "bin") == "<256MB"
    assert not any(tag.startswith("memory_bin:") for tag in spec.context_tags)
    assert backpressure_memory_estimate([spec]) == ()


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        (
            {"feature": "anomaly", "label": "memory_spike", "kind": "category"},
            "[anomaly_vs_failure] Sheets with a memory_spike anomaly fail more often",
        ),
        (
            {"feature": "dominant_syscall", "label": "futex", "kind": "category"},
            "[syscall_vs_failure] Sheets whose top syscall is futex fail more often",
        ),
    ],
)
def test_categories_are_named_by_their_category(fields: dict[str, object], name: str) -> None:
    spec = pattern_spec(finding(**fields))
    assert spec.name == name
    assert tag_value(spec, "category") == fields["label"]
    assert not any(tag.startswith("memory_bin:") for tag in spec.context_tags)
    assert backpressure_memory_estimate([spec]) == ()


def test_a_continuous_finding_states_medians_and_rates() -> None:
    spec = pattern_spec(
        finding(
            feature="duration_seconds",
            label=None,
            kind="continuous",
            test="mann_whitney_u",
            median_failed=812.0,
            median_succeeded=344.0,
            threshold=480.0,
            failure_rate=0.45,
            baseline_failure_rate=0.15,
            group_size=100,
            total_size=200,
        )
    )
    assert spec.name == "[duration_vs_failure] Sheets that fail run longer"
    assert spec.description == (
        "Sheets that failed had a median duration of 14 min vs 6 min for sheets that "
        "succeeded; 45% of sheets at or above 8 min failed vs 15% below (n=200, q=0.0021)"
    )
    assert tag_value(spec, "median_failed") == "812"


def test_a_rerun_updates_the_same_rows_with_new_figures() -> None:
    # GIVEN a data set with a memory effect, and the same data set grown by later runs
    runs = synthetic_runs(np.random.default_rng(17), 400, memory_failure(0.6, 0.15))
    first = analyze(runs[:300])
    again = analyze(runs[:300])
    grown = analyze(runs)

    # WHEN each becomes patterns
    first_specs = {pattern_id(s): s for s in map(pattern_spec, first.findings)}
    again_specs = {pattern_id(s): s for s in map(pattern_spec, again.findings)}
    grown_specs = {pattern_id(s): s for s in map(pattern_spec, grown.findings)}

    # THEN the same data gives the same rows with the same content
    assert first_specs == again_specs
    # AND more data updates the memory rows (same id) with new figures
    memory_rows = {
        row_id
        for row_id, spec in first_specs.items()
        if "memory_bin:1-2GB" in spec.context_tags or "memory_bin:>2GB" in spec.context_tags
    }
    assert memory_rows
    assert memory_rows <= grown_specs.keys()
    for row_id in memory_rows:
        assert grown_specs[row_id].name == first_specs[row_id].name
        assert grown_specs[row_id].description != first_specs[row_id].description


def test_the_conductors_rule_reads_our_memory_patterns() -> None:
    specs = [
        pattern_spec(finding(label=">2GB", failure_rate=0.7)),
        pattern_spec(finding(label="1-2GB", failure_rate=0.55)),
        pattern_spec(finding(label="1-2GB", failure_rate=0.6)),
    ]
    assert backpressure_memory_estimate(specs) == (
        FlaggedMemoryBin(label="1-2GB", failure_rate=0.6),
        FlaggedMemoryBin(label=">2GB", failure_rate=0.7),
    )


def learned(
    *, pattern_type: str = "resource_correlation", description: str, tags: tuple[str, ...]
) -> LearnedPattern:
    return LearnedPattern(
        id="0eb088b73986dd59",
        pattern_type=pattern_type,
        pattern_name="[memory_vs_failure] x",
        description=description,
        context_tags=tags,
    )


def test_the_rule_reads_the_conductors_own_pattern() -> None:
    # The resource_correlation row of ../shared/fixtures/upstream/learning.db.
    conductors = learned(
        description="Jobs with peak RSS 1-2GB have 80% failure rate (baseline: 40%)",
        tags=("memory_bin:1-2GB", "failure_rate:0.80", "sample_size:5"),
    )
    assert backpressure_memory_estimate([conductors]) == (
        FlaggedMemoryBin(label="1-2GB", failure_rate=0.8),
    )


@pytest.mark.parametrize(
    "pattern",
    [
        learned(pattern_type="resource_anomaly", description="RSS high", tags=("memory_bin:>2GB",)),
        learned(description="Sheets that are slow", tags=("memory_bin:>2GB",)),
        learned(description="Peak RSS above 2 GB", tags=("memory_bin:>2 GB", "bin:>2GB")),
        learned(description="Peak RSS above 2 GB", tags=("feature:peak_rss_mb",)),
    ],
)
def test_the_rule_ignores_what_the_conductor_ignores(pattern: LearnedPattern) -> None:
    assert backpressure_memory_estimate([pattern]) == ()


def test_every_memory_bin_finding_satisfies_the_rule() -> None:
    for label in MEMORY_BIN_LABELS:
        spec = pattern_spec(finding(label=label))
        assert "RSS" in spec.description or "memory" in spec.description
        assert backpressure_memory_estimate([spec]) == (
            FlaggedMemoryBin(label=label, failure_rate=0.61),
        )
