"""Jobs and sheets as the conductor's registry (daemon-state.db) records them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from mzt_tui.models.process import Frozen

SheetStatus = Literal[
    "pending",
    "ready",
    "dispatched",
    "in_progress",
    "waiting",
    "retry_scheduled",
    "fermata",
    "completed",
    "failed",
    "skipped",
    "cancelled",
]
JobStatus = Literal[
    "queued",
    "running",
    "completed",
    "paused",
    "paused_at_chain",
    "failed",
    "cancelled",
    "pending",
]

SHEET_ACTIVE_STATUSES: frozenset[str] = frozenset({"dispatched", "in_progress"})
SHEET_FINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "skipped", "cancelled"})


class SheetState(Frozen):
    """One sheet of a job's `checkpoint_json`."""

    sheet_num: int
    status: str = "pending"
    started_at: datetime | None = None
    completed_at: datetime | None = None
    attempt_count: int = 0
    exit_code: int | None = None
    exit_signal: int | None = None
    exit_reason: str | None = None
    instrument_name: str | None = None
    instrument_model: str | None = None
    execution_duration_seconds: float | None = None
    validation_passed: bool | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def active(self) -> bool:
        """Whether the sheet is running now (dispatched or in progress)."""
        return self.status in SHEET_ACTIVE_STATUSES

    @property
    def finished(self) -> bool:
        """Whether the sheet has reached a final status."""
        return self.status in SHEET_FINAL_STATUSES


class JobRecord(Frozen):
    """A row of the registry's `jobs` table, with its checkpoint parsed."""

    job_id: str
    config_path: str | None = None
    workspace: str | None = None
    status: str = "pending"
    pid: int | None = None
    submitted_at: float | None = None
    started_at: float | None = None
    completed_at: float | None = None
    error_message: str | None = None
    current_sheet: int | None = None
    total_sheets: int | None = None
    last_event_at: float | None = None
    sheets: dict[int, SheetState] = Field(default_factory=dict)
    checkpoint_total_sheets: int | None = None
    last_completed_sheet: int | None = None
    conductor_alive: bool = True
    """False for a `running` row whose conductor PID is dead (a crashed conductor)."""
    checkpoint_error: str | None = None
    """Why `checkpoint_json` could not be read, when it could not."""

    @property
    def running(self) -> bool:
        """Whether the job is running under a live conductor."""
        return self.status == "running" and self.conductor_alive

    @property
    def sheet_total(self) -> int:
        """The best count of sheets: the checkpoint's (current), else the row's."""
        return self.checkpoint_total_sheets or self.total_sheets or len(self.sheets)

    @property
    def sheets_done(self) -> int:
        """How many sheets reached a final status."""
        return sum(1 for sheet in self.sheets.values() if sheet.finished)

    def active_sheets(self) -> list[SheetState]:
        """Sheets running now, latest start first."""
        active = [s for s in self.sheets.values() if s.active]
        return sorted(
            active,
            key=lambda s: s.started_at.timestamp() if s.started_at else 0.0,
            reverse=True,
        )
