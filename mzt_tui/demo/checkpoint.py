"""The demo's job and sheet state, and the `checkpoint_json` the conductor writes for it.

The checkpoint carries every key the conductor's own checkpoint has (see the fixture
`registry.db`), with the conductor's defaults where the demo has nothing to say, so that the
conductor's reader and ours both accept it.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mzt_tui.demo.plan import JobPlan, SheetPlan


def iso_utc(timestamp: float | None) -> str | None:
    """Format unix seconds as the conductor does: ISO-8601 UTC with microseconds and a ``Z``."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class SheetRun:
    """The live state of one sheet, as the checkpoint records it."""

    plan: SheetPlan
    status: str = "pending"
    attempt_count: int = 0
    started_at: float | None = None
    completed_at: float | None = None
    exit_code: int | None = None
    exit_signal: int | None = None
    exit_reason: str | None = None
    execution_duration_seconds: float | None = None
    validation_passed: bool | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sheet_num(self) -> int:
        """The sheet's number."""
        return self.plan.sheet_num

    def reset_outcome(self) -> None:
        """Clear the previous attempt's outcome before a new attempt starts."""
        self.completed_at = None
        self.exit_code = None
        self.exit_signal = None
        self.exit_reason = None
        self.execution_duration_seconds = None
        self.validation_passed = None
        self.error_code = None
        self.error_message = None

    def record_exit(self, returncode: int, *, timed_out: bool) -> None:
        """Fill the exit fields from a Popen return code (negative: killed by that signal).

        A failed attempt is also appended to ``error_history``, which keeps the outcome of
        attempts that a retry replaced. Error codes follow the conductor's: E001 timeout,
        E002 killed, E009 any other failure.

        Args:
            returncode: The attempt's status as `subprocess.Popen.returncode` gives it.
            timed_out: Whether the conductor killed the attempt for running past its deadline.
        """
        if returncode == 0:
            self.exit_code, self.exit_signal, self.exit_reason = 0, None, "completed"
            self.validation_passed = True
            return
        if returncode > 0:
            self.exit_code, self.exit_signal, self.exit_reason = returncode, None, "failed"
            self.error_code = "E009"
            self.error_message = f"instrument exited with code {returncode}"
        else:
            signal_name = signal.Signals(-returncode).name
            self.exit_code, self.exit_signal, self.exit_reason = None, -returncode, "killed"
            self.error_code = "E001" if timed_out else "E002"
            self.error_message = f"killed by {signal_name}" + (
                " after timeout" if timed_out else ""
            )
        self.validation_passed = False
        self.error_history.append(
            {
                "attempt_number": self.attempt_count,
                "error_code": self.error_code,
                "error_message": self.error_message,
                "exit_code": self.exit_code,
                "exit_signal": self.exit_signal,
                "exit_reason": self.exit_reason,
                "timestamp": iso_utc(self.completed_at),
            }
        )


@dataclass
class JobRun:
    """The live state of one job: the registry row's fields and its sheets."""

    job_id: str
    plan: JobPlan
    config_path: str
    workspace: str
    pid: int
    submitted_at: float
    status: str = "queued"
    started_at: float | None = None
    completed_at: float | None = None
    error_message: str | None = None
    last_event_at: float | None = None
    sheets: dict[int, SheetRun] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.sheets:
            self.sheets = {sheet.sheet_num: SheetRun(sheet) for sheet in self.plan.sheets}

    @property
    def total_sheets(self) -> int:
        """How many sheets the job has."""
        return len(self.plan.sheets)

    @property
    def current_sheet(self) -> int | None:
        """The highest sheet number started so far (None before the first)."""
        started = [num for num, sheet in self.sheets.items() if sheet.attempt_count > 0]
        return max(started) if started else None

    @property
    def last_completed_sheet(self) -> int:
        """The highest sheet number that completed (0 when none has)."""
        done = [num for num, sheet in self.sheets.items() if sheet.status == "completed"]
        return max(done) if done else 0

    @property
    def sheets_in_progress(self) -> list[int]:
        """Numbers of the sheets running now."""
        return sorted(
            num
            for num, sheet in self.sheets.items()
            if sheet.status in {"dispatched", "in_progress"}
        )


def sheet_checkpoint(sheet: SheetRun, max_retries: int) -> dict[str, Any]:
    """Return one sheet's checkpoint entry, with every key the conductor writes."""
    plan = sheet.plan
    return {
        "sheet_num": plan.sheet_num,
        "status": sheet.status,
        "started_at": iso_utc(sheet.started_at),
        "completed_at": iso_utc(sheet.completed_at),
        "attempt_count": sheet.attempt_count,
        "exit_code": sheet.exit_code,
        "error_message": sheet.error_message,
        "error_category": None,
        "error_code": sheet.error_code,
        "validation_passed": sheet.validation_passed,
        "validation_details": None,
        "instrument_name": plan.instrument_name,
        "instrument_model": plan.instrument_model,
        "movement": None,
        "voice": None,
        "exit_signal": sheet.exit_signal,
        "exit_reason": sheet.exit_reason,
        "execution_duration_seconds": sheet.execution_duration_seconds,
        "completion_attempts": 0,
        "passed_validations": [],
        "failed_validations": [],
        "last_pass_percentage": None,
        "execution_mode": None,
        "outcome_data": None,
        "confidence_score": None,
        "learned_patterns": [],
        "similar_outcomes_count": 0,
        "success_without_retry": sheet.status == "completed" and sheet.attempt_count == 1,
        "outcome_category": None,
        "stdout_tail": None,
        "stderr_tail": None,
        "output_truncated": False,
        "prompt_metrics": None,
        "preflight_warnings": [],
        "progress_snapshots": [],
        "last_activity_at": None,
        "error_history": list(sheet.error_history),
        "instrument_fallback_history": [],
        "fire_at": None,
        "rate_limit_expires_at": None,
        "healing_attempts": 0,
        "normal_attempts": sheet.attempt_count,
        "max_retries": max_retries,
        "max_completion": 5,
        "total_cost_usd": 0.0,
        "total_duration_seconds": 0.0,
        "model": plan.instrument_model,
        "fallback_chain": [],
        "current_instrument_index": 0,
        "fallback_attempts": {},
        "sheet_timeout_seconds": 1800.0,
        "display_status": None,
        "applied_patterns": [],
        "grounding_passed": None,
        "grounding_confidence": None,
        "grounding_guidance": None,
        "input_tokens": None,
        "output_tokens": None,
        "estimated_cost": None,
        "cost_confidence": 1.0,
        "agent_feedback": None,
    }


def job_checkpoint(job: JobRun, updated_at: float) -> dict[str, Any]:
    """Return the job's whole `checkpoint_json` object as of `updated_at`.

    Only sheets that have started at least once appear under ``sheets``, as in the conductor.
    """
    sheets = {
        str(num): sheet_checkpoint(sheet, job.plan.max_retries)
        for num, sheet in sorted(job.sheets.items())
        if sheet.attempt_count > 0
    }
    instruments = sorted({sheet.plan.instrument_name for sheet in job.sheets.values()})
    return {
        "job_id": job.job_id,
        "job_name": job.job_id,
        "config_hash": None,
        "config_snapshot": None,
        "config_path": job.config_path,
        "created_at": iso_utc(job.submitted_at),
        "updated_at": iso_utc(updated_at),
        "started_at": iso_utc(job.started_at),
        "completed_at": iso_utc(job.completed_at),
        "total_sheets": job.total_sheets,
        "last_completed_sheet": job.last_completed_sheet,
        "current_sheet": job.current_sheet,
        "status": job.status,
        "sheets": sheets,
        "instruments_used": instruments,
        "total_movements": None,
        "pid": job.pid,
        "error_message": job.error_message,
        "total_retry_count": sum(max(0, sheet.attempt_count - 1) for sheet in job.sheets.values()),
        "rate_limit_waits": 0,
        "quota_waits": 0,
        "resume_at": None,
        "total_input_tokens": 0,
        "total_output_tokens": 0,
        "total_estimated_cost": 0.0,
        "cost_limit_reached": False,
        "worktree_path": None,
        "worktree_branch": None,
        "worktree_locked": False,
        "worktree_base_commit": None,
        "isolation_mode": None,
        "isolation_fallback_used": False,
        "parallel_enabled": job.plan.max_concurrent > 1,
        "parallel_max_concurrent": job.plan.max_concurrent,
        "parallel_batches_executed": 0,
        "sheets_in_progress": job.sheets_in_progress,
        "synthesis_results": {},
        "hook_results": [],
        "spec_corpus_hash": "",
        "circuit_breaker_history": [],
    }
