"""Sheets from the registry become outcomes, and each attempt is recorded exactly once."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mzt_tui.marianne.learning import LearningStore
from mzt_tui.marianne.learning_executions import RECORDED_OUTCOMES_TABLE, attempt_key
from mzt_tui.marianne.learning_hashes import hash_job, hash_workspace
from mzt_tui.models.errors import NewerSchemaError
from mzt_tui.models.jobs import JobRecord, SheetState
from mzt_tui.models.outcomes import outcome_from_sheet
from tests.learning.helpers import count, hold_write_lock, raw_rows, set_schema_version

STARTED = datetime(2026, 11, 23, 7, 6, 10, 319965, tzinfo=UTC)


def _job(workspace: str | None = "/home/u/ws-beta") -> JobRecord:
    return JobRecord(job_id="beta-build", workspace=workspace, status="running")


def _sheet(**fields: object) -> SheetState:
    values: dict[str, object] = {
        "sheet_num": 3,
        "status": "completed",
        "started_at": STARTED,
        "completed_at": STARTED + timedelta(seconds=90),
        "attempt_count": 1,
        "exit_code": 0,
        "instrument_name": "claude-code",
        "instrument_model": "claude-sonnet-4-5",
        "validation_passed": True,
    }
    values.update(fields)
    return SheetState.model_validate(values)


# outcome_from_sheet ----------------------------------------------------------------------


def test_a_first_attempt_that_passed_is_a_success_without_retry() -> None:
    outcome = outcome_from_sheet(_job(), _sheet(execution_duration_seconds=88.5))
    assert (outcome.job_id, outcome.sheet_num, outcome.final_status) == (
        "beta-build",
        3,
        "completed",
    )
    assert (outcome.retry_count, outcome.success_without_retry) == (0, True)
    assert (outcome.validation_pass_rate, outcome.confidence) == (1.0, 1.0)
    assert outcome.execution_duration == 88.5  # the conductor's own figure first
    assert (outcome.timestamp, outcome.completed_at) == (STARTED, STARTED + timedelta(seconds=90))
    assert (outcome.model, outcome.error_codes) == ("claude-sonnet-4-5", ())


def test_a_third_failed_attempt_carries_its_error_and_exit_codes() -> None:
    sheet = _sheet(
        status="failed", attempt_count=3, exit_code=1, error_code="E006", validation_passed=False
    )
    outcome = outcome_from_sheet(_job(), sheet)
    assert (outcome.retry_count, outcome.success_without_retry) == (2, False)
    assert outcome.validation_pass_rate == 0.0
    assert outcome.confidence == 0.0
    assert outcome.error_codes == ("E006", "EXIT_1")
    assert outcome.execution_duration == 90.0  # from the start and end times


@pytest.mark.parametrize(
    ("fields", "pass_rate", "first_try", "codes"),
    [
        ({"validation_passed": None}, 1.0, True, ()),  # no validations on a completed sheet
        ({"attempt_count": 2}, 1.0, False, ()),  # completed on a retry
        ({"validation_passed": False}, 0.0, False, ()),  # ran, but its validations failed
        ({"status": "skipped", "attempt_count": 0, "validation_passed": None}, 0.0, False, ()),
        ({"status": "cancelled", "exit_code": None, "exit_signal": 15}, 1.0, False, ("SIGNAL_15",)),
        (
            {"status": "failed", "exit_code": 137, "error_code": "EXIT_137"},
            1.0,
            False,
            ("EXIT_137",),
        ),
    ],
)
def test_each_field_of_the_outcome_follows_the_sheet(
    fields: dict[str, object], pass_rate: float, first_try: bool, codes: tuple[str, ...]
) -> None:
    outcome = outcome_from_sheet(_job(), _sheet(**fields))
    assert outcome.validation_pass_rate == pass_rate
    assert outcome.success_without_retry is first_try
    assert outcome.error_codes == codes


def test_a_sheet_without_times_has_no_duration() -> None:
    outcome = outcome_from_sheet(_job(), _sheet(started_at=None, completed_at=None))
    assert outcome.execution_duration == 0.0
    assert outcome.timestamp.tzinfo is not None  # now, in UTC, as the conductor stamps it


# record_sheet_outcome_once ---------------------------------------------------------------


def test_an_attempt_is_recorded_once_however_often_it_is_offered(learning_db: Path) -> None:
    store = LearningStore(learning_db)
    sheet = _sheet(status="failed", exit_code=2, validation_passed=False)
    first = store.record_sheet_outcome_once(_job(), sheet)
    assert first is not None
    for _ in range(3):
        assert store.record_sheet_outcome_once(_job(), sheet) is None
    assert count(learning_db, "executions") == 7
    assert count(learning_db, RECORDED_OUTCOMES_TABLE) == 1
    [row] = raw_rows(learning_db, "SELECT * FROM executions WHERE id = ?", (first,))
    assert row["job_hash"] == hash_job("beta-build") == "3c42b99cf4d343a0"
    assert row["workspace_hash"] == hash_workspace("/home/u/ws-beta") == "99ddfe1df21e899c"
    assert (row["sheet_num"], row["status"], row["retry_count"]) == (3, "failed", 0)
    assert row["started_at"] == "2026-11-23T07:06:10.319965+00:00"
    assert datetime.fromisoformat(row["completed_at"]).astimezone(UTC) == sheet.completed_at
    assert (row["model"], json.loads(row["error_codes"])) == ("claude-sonnet-4-5", ["EXIT_2"])
    # The conductor's readers see it like any other execution.
    similar = store.get_similar_executions(job_hash="3c42b99cf4d343a0", sheet_num=3)
    assert {record.id for record in similar} == {first, "035137f1-3754-45bf-ac2d-c07935f44220"}


def test_a_retry_and_a_rerun_of_the_job_are_new_attempts(learning_db: Path) -> None:
    store = LearningStore(learning_db)
    first_try = _sheet(status="failed", validation_passed=False)
    retry = _sheet(attempt_count=2, started_at=STARTED + timedelta(minutes=5))
    rerun = _sheet(started_at=STARTED + timedelta(days=1))  # the score run again: attempt 1
    ids = [store.record_sheet_outcome_once(_job(), sheet) for sheet in (first_try, retry, rerun)]
    assert None not in ids and len(set(ids)) == 3
    again = [store.record_sheet_outcome_once(_job(), sheet) for sheet in (first_try, retry, rerun)]
    assert again == [None, None, None]
    assert store.recorded_sheet_attempts("beta-build") == {
        attempt_key(sheet) for sheet in (first_try, retry, rerun)
    }
    assert store.recorded_sheet_attempts("alpha-review") == set()
    assert count(learning_db, "executions") == 9


def test_racing_recorders_record_an_attempt_once(learning_db: Path) -> None:
    LearningStore(learning_db).ensure_schema()
    barrier = threading.Barrier(4)
    results: list[str | None] = []

    def record() -> None:
        store = LearningStore(learning_db, busy_timeout_seconds=5.0)
        barrier.wait()
        results.append(store.record_sheet_outcome_once(_job(), _sheet()))

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10.0)
    assert len(results) == 4
    assert sum(result is not None for result in results) == 1
    assert count(learning_db, "executions") == 7


def test_unfinished_sheets_and_jobs_without_a_workspace_are_refused(learning_db: Path) -> None:
    store = LearningStore(learning_db)
    with pytest.raises(ValueError, match="has not finished"):
        store.record_sheet_outcome_once(_job(), _sheet(status="in_progress"))
    with pytest.raises(ValueError, match="no workspace"):
        store.record_sheet_outcome_once(_job(workspace=None), _sheet())
    assert count(learning_db, "executions") == 6


def test_the_first_record_into_a_missing_file_adds_our_table_and_no_version(tmp_path: Path) -> None:
    path = tmp_path / "global-learning.db"
    store = LearningStore(path)
    assert store.record_sheet_outcome_once(_job(), _sheet()) is not None
    assert store.record_sheet_outcome_once(_job(), _sheet()) is None
    tables = {
        row["name"] for row in raw_rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    assert tables == {
        "schema_version",
        "executions",
        "patterns",
        "error_recoveries",
        "workspace_clusters",
        RECORDED_OUTCOMES_TABLE,
    }
    assert raw_rows(path, "SELECT * FROM schema_version") == []


def test_a_newer_schema_refuses_the_record(learning_db: Path) -> None:
    set_schema_version(learning_db, 16)
    with pytest.raises(NewerSchemaError):
        LearningStore(learning_db).record_sheet_outcome_once(_job(), _sheet())
    assert count(learning_db, "executions") == 6


def test_a_locked_file_delays_the_record_but_keeps_it(learning_db: Path) -> None:
    store = LearningStore(learning_db, busy_timeout_seconds=0.01, write_attempts=8)
    store.ensure_schema()
    holder = hold_write_lock(learning_db, 0.3)
    assert store.record_sheet_outcome_once(_job(), _sheet()) is not None
    holder.join(5.0)
    assert store.record_sheet_outcome_once(_job(), _sheet()) is None
    assert count(learning_db, "executions") == 7
