"""Correlation findings as `resource_correlation` patterns, and the conductor's read rule.

The pattern NAME states the finding without figures (so a re-run updates the same row: the
pattern id is a hash of the name); the DESCRIPTION states it with its figures. A peak-RSS bin
that fails MORE often than the rest carries `memory_bin:<label>`, which the conductor's
back-pressure estimate reads as high risk; a bin that fails LESS often does not carry it, so the
conductor never mistakes a safe bin for a risky one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from mzt_tui.models.correlation import (
    MEMORY_BIN_LABELS,
    RESOURCE_CORRELATION,
    CorrelationFinding,
    FlaggedMemoryBin,
    PatternSpec,
)


class PatternLike(Protocol):
    """What the back-pressure rule reads of a pattern (`PatternSpec` and `LearnedPattern` fit)."""

    @property
    def pattern_type(self) -> str:
        """The `patterns.pattern_type` column."""
        ...

    @property
    def description(self) -> str | None:
        """The `patterns.description` column."""
        ...

    @property
    def context_tags(self) -> tuple[str, ...]:
        """The `patterns.context_tags` column, decoded."""
        ...


def _format_mb(value: float) -> str:
    return f"{value / 1024:.1f}GB" if value >= 1024 else f"{value:.0f}MB"


def _format_seconds(value: float) -> str:
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


def _format_percent(value: float) -> str:
    return f"{value:.0f}%"


def _format_count(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class _ContinuousWording:
    """How to say a continuous feature's finding."""

    prefix: str
    noun: str
    more: str
    less: str
    action: str
    formatter: Callable[[float], str]


_CONTINUOUS: dict[str, _ContinuousWording] = {
    "duration_seconds": _ContinuousWording(
        "duration_vs_failure",
        "duration",
        "run longer",
        "end sooner",
        "Look for stalls in long sheets; consider a shorter timeout or splitting the sheet.",
        _format_seconds,
    ),
    "cpu_seconds": _ContinuousWording(
        "cpu_vs_failure",
        "CPU time",
        "use more CPU time",
        "use less CPU time",
        "Check what the CPU-heavy sheets compute; give them more cores or run fewer at once.",
        _format_seconds,
    ),
    "mean_cpu_percent": _ContinuousWording(
        "cpu_load_vs_failure",
        "mean CPU",
        "use more CPU on average",
        "use less CPU on average",
        "Check for busy loops in the failing sheets; run fewer sheets at once.",
        _format_percent,
    ),
    "peak_fds": _ContinuousWording(
        "fds_vs_failure",
        "peak open files",
        "open more files",
        "open fewer files",
        "Check the failing sheets for descriptor leaks; raise the open-file limit.",
        _format_count,
    ),
    "peak_threads": _ContinuousWording(
        "threads_vs_failure",
        "peak threads",
        "run more threads",
        "run fewer threads",
        "Check the failing sheets for thread leaks or oversized pools.",
        _format_count,
    ),
    "gpu_memory_peak_mb": _ContinuousWording(
        "gpu_memory_vs_failure",
        "peak GPU memory",
        "use more GPU memory",
        "use less GPU memory",
        "Give GPU-heavy sheets a GPU with more free memory, or run fewer on one GPU.",
        _format_mb,
    ),
    "process_count": _ContinuousWording(
        "processes_vs_failure",
        "process count",
        "start more processes",
        "start fewer processes",
        "Check what the failing sheets spawn; limit their subprocesses.",
        _format_count,
    ),
    "peak_rss_mb": _ContinuousWording(
        "memory_vs_failure",
        "peak RSS",
        "use more memory (peak RSS)",
        "use less memory (peak RSS)",
        "Give memory-heavy sheets more headroom, or run fewer of them at once.",
        _format_mb,
    ),
}


def _format_probability(value: float) -> str:
    return "<0.001" if value < 0.001 else f"={value:.3g}"


def _percent(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def _group_words(finding: CorrelationFinding) -> tuple[str, str, str]:
    """Name prefix, the group in words, and the suggested action of a bin or category."""
    label = finding.label or ""
    if finding.feature == "peak_rss_mb":
        action = f"Give sheets that peak at {label} RSS more memory headroom, or run fewer at once."
        return "memory_vs_failure", f"Sheets with peak RSS {label}", action
    if finding.feature == "anomaly":
        action = f"Look at the {label} anomalies of failing sheets in the job view."
        return "anomaly_vs_failure", f"Sheets with a {label} anomaly", action
    if finding.feature == "dominant_syscall":
        action = f"Look at what sheets spending most syscall time in {label} wait for."
        return "syscall_vs_failure", f"Sheets whose top syscall is {label}", action
    return f"{finding.feature}_vs_failure", f"Sheets with {finding.feature} {label}", ""


def _tags(finding: CorrelationFinding) -> list[str]:
    return [
        f"feature:{finding.feature}",
        f"failure_rate:{finding.failure_rate:.2f}",
        f"baseline:{finding.baseline_failure_rate:.2f}",
        f"sample_size:{finding.group_size}",
        f"n_total:{finding.total_size}",
        f"p:{finding.p_value:.3g}",
        f"q:{finding.q_value:.3g}",
        f"confidence:{finding.confidence:.3f}",
        f"test:{finding.test}",
        f"direction:{finding.direction}",
    ]


def pattern_spec(finding: CorrelationFinding) -> PatternSpec:
    """Turn a finding into the `resource_correlation` pattern that records it.

    Args:
        finding: A finding of `analyze`.

    Returns:
        The pattern: a name without figures, a description with them, and tags.
    """
    figures = (
        f"(n={finding.group_size} of {finding.total_size}, q{_format_probability(finding.q_value)})"
    )
    more_or_less = "more" if finding.direction == "higher" else "less"
    tags = _tags(finding)
    if finding.kind == "continuous":
        wording = _CONTINUOUS[finding.feature]
        fmt = wording.formatter
        median_failed = fmt(finding.median_failed or 0.0)
        median_succeeded = fmt(finding.median_succeeded or 0.0)
        threshold = fmt(finding.threshold or 0.0)
        verb = wording.more if finding.direction == "higher" else wording.less
        name = f"[{wording.prefix}] Sheets that fail {verb}"
        description = (
            f"Sheets that failed had a median {wording.noun} of {median_failed} vs "
            f"{median_succeeded} for sheets that succeeded; "
            f"{_percent(finding.failure_rate)} of sheets at or above {threshold} failed vs "
            f"{_percent(finding.baseline_failure_rate)} below "
            f"(n={finding.total_size}, q{_format_probability(finding.q_value)})"
        )
        action = wording.action if finding.direction == "higher" else "None needed."
        tags += [
            f"median_failed:{finding.median_failed:.6g}",
            f"median_succeeded:{finding.median_succeeded:.6g}",
            f"threshold:{finding.threshold:.6g}",
        ]
    else:
        prefix, group, action = _group_words(finding)
        name = f"[{prefix}] {group} fail {more_or_less} often"
        description = (
            f"{group} failed {_percent(finding.failure_rate)} of the time vs "
            f"{_percent(finding.baseline_failure_rate)} otherwise {figures}"
        )
        if finding.direction == "lower":
            action = "None needed: these sheets fail less often than the rest."
        tag_key = "bin" if finding.kind == "bin" else "category"
        tags.insert(1, f"{tag_key}:{finding.label}")
        # Only a bin that fails MORE often is a risk for the conductor's back-pressure estimate.
        if finding.feature == "peak_rss_mb" and finding.direction == "higher":
            tags.insert(2, f"memory_bin:{finding.label}")
    return PatternSpec(
        pattern_type=RESOURCE_CORRELATION,
        name=name,
        description=description,
        suggested_action=action,
        context_tags=tuple(tags),
    )


def _tag_value(tags: Iterable[str], key: str) -> str | None:
    prefix = f"{key}:"
    return next((tag[len(prefix) :] for tag in tags if tag.startswith(prefix)), None)


def _parse_rate(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        rate = float(text)
    except ValueError:
        return None
    return rate if 0.0 <= rate <= 1.0 else None


def backpressure_memory_estimate(patterns: Iterable[PatternLike]) -> tuple[FlaggedMemoryBin, ...]:
    """Apply the conductor's read rule: which peak-RSS bins its back-pressure takes as high risk.

    The rule (SCHEMA.md): `resource_correlation` patterns whose description mentions "RSS" or
    "memory" and whose tags contain one of the five `memory_bin:<label>` tags.

    Args:
        patterns: Patterns as stored or about to be stored.

    Returns:
        One entry per flagged bin, in ascending bin order, with the highest failure rate any of
        its patterns states (None when none states one).
    """
    flagged: dict[str, float | None] = {}
    wanted = {f"memory_bin:{label}": label for label in MEMORY_BIN_LABELS}
    for pattern in patterns:
        description = pattern.description or ""
        if pattern.pattern_type != RESOURCE_CORRELATION:
            continue
        if "RSS" not in description and "memory" not in description:
            continue
        rate = _parse_rate(_tag_value(pattern.context_tags, "failure_rate"))
        for tag in pattern.context_tags:
            label = wanted.get(tag)
            if label is None:
                continue
            known = flagged.get(label)
            flagged[label] = rate if known is None else max(known, rate or known)
    return tuple(
        FlaggedMemoryBin(label=label, failure_rate=flagged[label])
        for label in MEMORY_BIN_LABELS
        if label in flagged
    )
