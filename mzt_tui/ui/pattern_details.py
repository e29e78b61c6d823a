"""Enter on a pattern: a modal with every field of its row, tags and evidence included."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mzt_tui.analysis.job_patterns import pattern_confidence
from mzt_tui.headless.learning_view import pattern_sample_size
from mzt_tui.models.learning import LearnedPattern
from mzt_tui.ui.pattern_table import format_seen

EVIDENCE_TAG_KEYS = (
    "feature",
    "memory_bin",
    "failure_rate",
    "baseline_failure_rate",
    "sample_size",
    "p_value",
    "q_value",
    "confidence",
)
"""Tags that carry a finding's evidence, shown first and by name."""


def pattern_fields(pattern: LearnedPattern) -> list[tuple[str, str]]:
    """Every field of the pattern as `(label, value)` lines, in reading order."""
    confidence, from_tag = pattern_confidence(pattern)
    sample_size = pattern_sample_size(pattern)
    evidence = [
        (f"  {key}", value) for key in EVIDENCE_TAG_KEYS if (value := pattern.tag(key)) is not None
    ]
    evidence_prefixes = tuple(f"{key}:" for key in EVIDENCE_TAG_KEYS)
    other_tags = [tag for tag in pattern.context_tags if not tag.startswith(evidence_prefixes)]
    return [
        ("type", pattern.pattern_type),
        ("finding", pattern.pattern_name),
        ("description", pattern.description or "-"),
        ("suggested action", pattern.suggested_action or "-"),
        (
            "confidence",
            f"{confidence:.3f} ({'confidence tag' if from_tag else 'effectiveness score'})",
        ),
        ("sample size", "-" if sample_size is None else str(sample_size)),
        ("evidence", "" if evidence else "-"),
        *evidence,
        ("other tags", ", ".join(other_tags) or "-"),
        ("times seen", str(pattern.occurrence_count)),
        ("first seen", format_seen(pattern.first_seen) or "-"),
        ("last seen", format_seen(pattern.last_seen) or "-"),
        ("last confirmed", format_seen(pattern.last_confirmed) or "-"),
        ("led to success", str(pattern.led_to_success_count)),
        ("led to failure", str(pattern.led_to_failure_count)),
        ("effectiveness", f"{pattern.effectiveness_score:.3f}"),
        ("variance", f"{pattern.variance:.3f}"),
        ("priority", f"{pattern.priority_score:.3f}"),
        ("trust", f"{pattern.trust_score:.3f}"),
        ("quarantine", pattern.quarantine_status),
        ("active", "yes" if pattern.active else "no (retired)"),
        ("instrument", pattern.instrument_name or "-"),
        ("content hash", pattern.content_hash or "-"),
        ("id", pattern.id),
    ]


class PatternDetailsScreen(ModalScreen[None]):
    """Every field of one learned pattern.

    Args:
        pattern: The pattern to show.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "dismiss", "Close", id="pattern-details.close"),
    ]

    def __init__(self, pattern: LearnedPattern) -> None:
        super().__init__(id="pattern-details")
        self.pattern = pattern
        self.fields = pattern_fields(pattern)

    def compose(self) -> ComposeResult:
        """A bordered box of two columns: field and value."""
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column(overflow="fold")
        for label, value in self.fields:
            table.add_row(label, Text(value))
        with VerticalScroll(id="pattern-details-box") as box:
            box.border_title = "pattern"
            box.border_subtitle = "Esc closes"
            yield Static(table, id="pattern-details-text")
