"""Which learned patterns apply to a job: tagged with it, or about a group its figures fall in."""

from __future__ import annotations

from mzt_tui.analysis.job_patterns import JobFigures, applied_patterns, memory_bin
from mzt_tui.models.learning import LearnedPattern


def _pattern(name: str, *tags: str, kind: str = "resource_correlation") -> LearnedPattern:
    return LearnedPattern(
        id=name, pattern_type=kind, pattern_name=name, description=name, context_tags=tags
    )


FIGURES = JobFigures(
    job_id="etl",
    peak_rss_mb={1: 300.0, 2: 1_500.0},
    cpu_seconds={1: 20.0, 2: 400.0},
    gpu_memory_peak_mb={2: 0.0},
    anomaly_types=frozenset({"memory_spike"}),
    top_syscall="futex",
)


def _names(patterns: list[LearnedPattern]) -> list[str]:
    return [applied.pattern.pattern_name for applied in applied_patterns(patterns, FIGURES)]


def test_memory_bins_are_the_conductors() -> None:
    assert [memory_bin(v) for v in (0, 255.9, 256, 1023, 1024, 2048)] == [
        "<256MB",
        "<256MB",
        "256-512MB",
        "512MB-1GB",
        "1-2GB",
        ">2GB",
    ]


def test_a_pattern_tagged_with_the_job_applies_whatever_its_type() -> None:
    tagged = _pattern("[zombie] zombie process", "job:etl", kind="resource_anomaly")
    other = _pattern("[zombie] zombie process elsewhere", "job:web", "anomaly_type:memory_spike")
    (applied,) = applied_patterns([tagged, other], FIGURES)
    assert applied.pattern is tagged
    assert applied.reason == "tagged with this job"


def test_a_memory_bin_applies_when_a_sheet_peaked_in_it() -> None:
    hit = _pattern("bin 1-2GB", "feature:peak_rss_mb", "bin:1-2GB", "confidence:0.990")
    miss = _pattern("bin >2GB", "feature:peak_rss_mb", "bin:>2GB", "confidence:0.990")
    (applied,) = applied_patterns([hit, miss], FIGURES)
    assert applied.reason == "sheet 2 peaked at 1-2GB"
    assert applied.confidence == 0.99


def test_anomaly_and_syscall_categories_apply_when_the_job_had_them() -> None:
    patterns = [
        _pattern("spike", "feature:anomaly", "category:memory_spike"),
        _pattern("zombie", "feature:anomaly", "category:zombie"),
        _pattern("futex", "feature:dominant_syscall", "category:futex"),
        _pattern("read", "feature:dominant_syscall", "category:read"),
    ]
    assert sorted(_names(patterns)) == ["futex", "spike"]


def test_a_continuous_finding_applies_on_the_side_it_speaks_about() -> None:
    patterns = [
        _pattern("long cpu", "feature:cpu_seconds", "direction:higher", "threshold:300"),
        _pattern("huge cpu", "feature:cpu_seconds", "direction:higher", "threshold:1000"),
        _pattern("little cpu", "feature:cpu_seconds", "direction:lower", "threshold:50"),
        _pattern("gpu", "feature:gpu_memory_peak_mb", "direction:higher", "threshold:1"),
        _pattern("threads", "feature:peak_threads", "direction:higher", "threshold:1"),
    ]
    assert sorted(_names(patterns)) == ["little cpu", "long cpu"]


def test_inactive_patterns_never_apply_and_the_most_confident_comes_first() -> None:
    low = _pattern("low", "job:etl", "confidence:0.96")
    high = _pattern("high", "job:etl", "confidence:0.999")
    off = _pattern("off", "job:etl").model_copy(update={"active": False})
    assert _names([low, off, high]) == ["high", "low"]
