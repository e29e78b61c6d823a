"""Which learned patterns apply to one job, and why: a pure rule over what the job showed.

A pattern applies to a job when

- it is tagged `job:<job id>` (the anomaly patterns the recorder stores name their job), or
- it is a `resource_correlation` finding about a group the job's own figures fall in:
  a peak-RSS bin (`bin:<label>`) that one of its sheets peaked in; an anomaly type
  (`category:<type>` of feature `anomaly`) the job had; a dominant syscall
  (`category:<name>` of feature `dominant_syscall`) that is the job's top hotspot; or a
  continuous feature (`threshold:<value>`) that one of its sheets reached, on the side the
  finding speaks about (at or above the threshold for `direction:higher`, below for `lower`).

Correlation findings are about sheets, so a job is matched through its sheets' figures, and
only for the features the job screen knows (peak RSS, CPU seconds, peak GPU memory, anomaly
types, top syscall). Anomaly patterns of other jobs are left out even when the type matches:
their names carry another job's figures, and there are many of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mzt_tui.models.correlation import MEMORY_BIN_EDGES_MB, MEMORY_BIN_LABELS, RESOURCE_CORRELATION
from mzt_tui.models.learning import LearnedPattern


@dataclass(frozen=True)
class JobFigures:
    """What a job showed, as the rule reads it.

    Attributes:
        job_id: The job.
        peak_rss_mb: Peak total RSS per sheet, MiB.
        cpu_seconds: CPU time per sheet.
        gpu_memory_peak_mb: Peak total GPU memory per sheet, MiB.
        anomaly_types: The anomaly types the job had (`memory_spike` ...).
        top_syscall: The syscall with the largest share of syscall time, if recorded.
    """

    job_id: str
    peak_rss_mb: Mapping[int, float] = field(default_factory=dict)
    cpu_seconds: Mapping[int, float] = field(default_factory=dict)
    gpu_memory_peak_mb: Mapping[int, float] = field(default_factory=dict)
    anomaly_types: frozenset[str] = frozenset()
    top_syscall: str | None = None


@dataclass(frozen=True, slots=True)
class AppliedPattern:
    """A pattern that applies to the job, with the reason in words.

    Attributes:
        pattern: The learned pattern.
        reason: Why it applies (`tagged with this job`, `sheet 3 peaked at 1-2GB` ...).
        confidence: The `confidence:` tag when the pattern has one, else its effectiveness.
    """

    pattern: LearnedPattern
    reason: str
    confidence: float


def memory_bin(peak_rss_mb: float) -> str:
    """The conductor's peak-RSS bin label of a value in MiB (`1024.0` → `1-2GB`)."""
    index = sum(1 for edge in MEMORY_BIN_EDGES_MB if peak_rss_mb >= edge)
    return MEMORY_BIN_LABELS[index]


def pattern_confidence(pattern: LearnedPattern) -> tuple[float, bool]:
    """The pattern's confidence, and whether it comes from its `confidence:` tag.

    Correlation findings carry a `confidence:` tag (1 - q); other patterns fall back to their
    effectiveness score.
    """
    confidence = pattern.number_tag("confidence")
    if confidence is None:
        return pattern.effectiveness_score, False
    return confidence, True


_CONTINUOUS = {
    "peak_rss_mb": ("peak_rss_mb", "peak RSS", "MiB"),
    "cpu_seconds": ("cpu_seconds", "CPU time", "s"),
    "gpu_memory_peak_mb": ("gpu_memory_peak_mb", "peak GPU memory", "MiB"),
}


def _continuous_reason(pattern: LearnedPattern, figures: JobFigures, feature: str) -> str | None:
    threshold = pattern.number_tag("threshold")
    known = _CONTINUOUS.get(feature)
    if threshold is None or known is None:
        return None
    attribute, noun, unit = known
    values: Mapping[int, float] = getattr(figures, attribute)
    higher = pattern.tag("direction") != "lower"
    for sheet_num in sorted(values):
        value = values[sheet_num]
        if (value >= threshold) if higher else (0 < value < threshold):
            side = "≥" if higher else "<"
            return f"sheet {sheet_num}: {noun} {value:.0f} {unit} {side} {threshold:g}"
    return None


def _correlation_reason(pattern: LearnedPattern, figures: JobFigures) -> str | None:
    feature = pattern.tag("feature")
    if feature is None:
        return None
    label = pattern.tag("bin") or pattern.tag("category")
    if feature == "peak_rss_mb" and label is not None:
        for sheet_num in sorted(figures.peak_rss_mb):
            if memory_bin(figures.peak_rss_mb[sheet_num]) == label:
                return f"sheet {sheet_num} peaked at {label}"
        return None
    if feature == "anomaly" and label is not None:
        return f"the job had a {label} anomaly" if label in figures.anomaly_types else None
    if feature == "dominant_syscall" and label is not None:
        return f"its top syscall is {label}" if label == figures.top_syscall else None
    return _continuous_reason(pattern, figures, feature)


def applied_patterns(
    patterns: Iterable[LearnedPattern], figures: JobFigures
) -> list[AppliedPattern]:
    """The active patterns that apply to the job, most confident first.

    Args:
        patterns: Every learned pattern (inactive ones are skipped).
        figures: What the job showed.
    """
    applied: list[AppliedPattern] = []
    job_tag = f"job:{figures.job_id}"
    for pattern in patterns:
        if not pattern.active:
            continue
        reason: str | None = None
        if job_tag in pattern.context_tags:
            reason = "tagged with this job"
        elif pattern.pattern_type == RESOURCE_CORRELATION:
            reason = _correlation_reason(pattern, figures)
        if reason is not None:
            applied.append(AppliedPattern(pattern, reason, pattern_confidence(pattern)[0]))
    applied.sort(key=lambda a: (-a.confidence, a.pattern.pattern_type, a.pattern.pattern_name))
    return applied
