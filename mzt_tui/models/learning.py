"""Learned patterns and execution records from global-learning.db."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from mzt_tui.models.process import Frozen

QuarantineStatus = Literal["pending", "quarantined", "validated", "retired"]


class LearnedPattern(Frozen):
    """A row of the `patterns` table."""

    id: str
    pattern_type: str
    pattern_name: str
    description: str | None = None
    occurrence_count: int = 1
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    last_confirmed: datetime | None = None
    led_to_success_count: int = 0
    led_to_failure_count: int = 0
    effectiveness_score: float = 0.5
    variance: float = 0.0
    suggested_action: str | None = None
    context_tags: tuple[str, ...] = ()
    priority_score: float = 0.5
    quarantine_status: str = "pending"
    trust_score: float = 0.5
    active: bool = True
    content_hash: str | None = None
    instrument_name: str | None = None

    def tag(self, key: str) -> str | None:
        """Return the value of the first `key:value` tag, or None."""
        prefix = f"{key}:"
        for tag in self.context_tags:
            if tag.startswith(prefix):
                return tag[len(prefix) :]
        return None

    def number_tag(self, key: str) -> float | None:
        """Return the first `key:value` tag's value as a number, or None (none, or not one)."""
        text = self.tag(key)
        if text is None:
            return None
        try:
            return float(text)
        except ValueError:
            return None


class ExecutionRecord(Frozen):
    """A row of the legacy `executions` table (a sheet outcome)."""

    id: str
    workspace_hash: str
    job_hash: str
    sheet_num: int
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration_seconds: float = 0.0
    status: str = ""
    retry_count: int = 0
    success_without_retry: bool = False
    validation_pass_rate: float = 0.0
    """As the conductor's reader returns it: the stored value clamped to 0–1."""
    confidence_score: float = 0.0
    model: str | None = None
    error_codes: tuple[str, ...] = Field(default_factory=tuple)
    validation_pass_rate_stored: float | None = None
    """The column exactly as stored (0–100 in old rows; None when NULL)."""
