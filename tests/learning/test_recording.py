"""Outcomes, recoveries and clusters we record are the rows the conductor would have written."""

from __future__ import annotations

import json
import math
import stat
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mzt_tui.marianne.learning import LearningStore
from mzt_tui.models.errors import NewerSchemaError, StoreError
from mzt_tui.models.outcomes import SheetOutcome
from tests.learning.helpers import (
    WORKSPACES,
    clock,
    count,
    hold_write_lock,
    raw_rows,
    set_schema_version,
)

EXECUTION_COLUMNS = (
    "workspace_hash",
    "job_hash",
    "sheet_num",
    "started_at",
    "completed_at",
    "duration_seconds",
    "status",
    "retry_count",
    "success_without_retry",
    "validation_pass_rate",
    "confidence_score",
    "model",
    "error_codes",
)
RECOVERY_ID = "c31c82c7-6e5c-4540-97c3-9ebf865921af"


def _typed_row(path: Path, table: str, key: str, value: str) -> dict[str, Any]:
    """One row with each column's value and SQLite storage class."""
    columns = [
        row["name"] for row in raw_rows(path, f"SELECT name FROM pragma_table_info('{table}')")
    ]
    select = ", ".join(f"{name}, typeof({name}) AS type_{name}" for name in columns)
    [row] = raw_rows(path, f"SELECT {select} FROM {table} WHERE {key} = ?", (value,))
    return row


def _job_of(learning_readback: dict[str, Any], job_hash: str) -> str:
    names = {value: name for name, value in learning_readback["readback"]["hash_job"].items()}
    return str(names[job_hash])


@pytest.mark.parametrize("row_index", range(6))
def test_a_recorded_outcome_is_the_conductors_row_column_for_column(
    learning_db: Path, learning_readback: dict[str, Any], row_index: int
) -> None:
    # GIVEN one of the conductor's execution rows, and its values and storage classes
    raw = learning_readback["raw"]["executions"][row_index]
    original = _typed_row(learning_db, "executions", "id", raw["id"])
    original_record = next(
        r for r in LearningStore(learning_db).get_recent_executions() if r.id == raw["id"]
    )

    # WHEN we record the same outcome, at the same times
    job_id = _job_of(learning_readback, raw["job_hash"])
    outcome = SheetOutcome(
        job_id=job_id,
        sheet_id=f"{job_id}-sheet{raw['sheet_num']}",
        final_status=raw["status"],
        retry_count=raw["retry_count"],
        success_without_retry=bool(raw["success_without_retry"]),
        validation_pass_rate=raw["validation_pass_rate"],
        execution_duration=raw["duration_seconds"],
        timestamp=datetime.fromisoformat(raw["started_at"]),
    )
    store = LearningStore(learning_db, now=clock(raw["completed_at"]))
    new_id = store.record_outcome(
        outcome, Path(WORKSPACES[job_id]), raw["model"], json.loads(raw["error_codes"])
    )

    # THEN the new row equals the conductor's in every column but the ID, storage classes too
    assert uuid.UUID(new_id).version == 4
    ours = _typed_row(learning_db, "executions", "id", new_id)
    for column in EXECUTION_COLUMNS:
        assert ours[column] == original[column], column
        assert ours[f"type_{column}"] == original[f"type_{column}"], column
    assert outcome.confidence == raw["confidence_score"]
    # AND our readers return the same record for it as for the conductor's row
    record = next(r for r in store.get_recent_executions() if r.id == new_id)
    assert record.model_copy(update={"id": raw["id"]}) == original_record


@pytest.mark.parametrize(
    ("sheet_id", "sheet_num"),
    [("3", 3), ("job-sheet12", 12), ("job-1", 1), ("sheet07", 7), ("review", 0), ("", 0)],
)
def test_the_sheet_number_is_the_trailing_digits(sheet_id: str, sheet_num: int) -> None:
    outcome = SheetOutcome(job_id="j", sheet_id=sheet_id, final_status="completed")
    assert outcome.sheet_num == sheet_num


@pytest.mark.parametrize(
    ("pass_rate", "retries", "first_try", "confidence"),
    [
        (1.0, 0, True, 1.0),  # capped at 1
        (0.8, 0, True, 0.9),  # + 0.1 for success without retry
        (0.8, 2, False, 0.6),  # − 0.1 per retry
        (0.9, 9, False, 0.4),  # at most five retries count
        (0.2, 5, False, 0.0),  # never below 0
        (50.0, 1, False, 1.0),  # an old percentage is capped at 1
    ],
)
def test_confidence_follows_the_conductors_formula(
    pass_rate: float, retries: int, first_try: bool, confidence: float
) -> None:
    outcome = SheetOutcome(
        job_id="j",
        sheet_id="1",
        final_status="completed",
        validation_pass_rate=pass_rate,
        retry_count=retries,
        success_without_retry=first_try,
    )
    assert math.isclose(outcome.confidence, confidence, abs_tol=1e-12)


def test_outcome_extras_fill_in_what_the_arguments_leave_out(learning_db: Path) -> None:
    ended = datetime(2026, 11, 23, 8, 0, 0, 250000, tzinfo=UTC)
    outcome = SheetOutcome(
        job_id="delta",
        sheet_id="2",
        final_status="failed",
        timestamp=datetime(2026, 11, 23, 7, 59, tzinfo=UTC),
        completed_at=ended,
        model="gemini-2.5-pro",
        error_codes=("E006", "EXIT_1"),
    )
    store = LearningStore(learning_db)
    first = raw_rows(
        learning_db, "SELECT * FROM executions WHERE id = ?", (store.record_outcome(outcome, "/w"),)
    )[0]
    assert (first["model"], json.loads(first["error_codes"])) == (
        "gemini-2.5-pro",
        ["E006", "EXIT_1"],
    )
    # The end is stored as naive local time, the conductor's form, at the same instant.
    assert "+" not in first["completed_at"]
    assert datetime.fromisoformat(first["completed_at"]).astimezone(UTC) == ended
    assert first["started_at"] == "2026-11-23T07:59:00+00:00"
    overridden = store.record_outcome(outcome, "/w", model="m", error_codes=[])
    second = raw_rows(learning_db, "SELECT * FROM executions WHERE id = ?", (overridden,))[0]
    assert (second["model"], second["error_codes"]) == ("m", "[]")


def test_bad_outcomes_are_refused_before_anything_is_written(learning_db: Path) -> None:
    for fields in (
        {"final_status": "exploded"},
        {"validation_pass_rate": math.nan},
        {"validation_pass_rate": -0.1},
        {"execution_duration": -1.0},
        {"retry_count": -1},
        {"job_id": ""},
    ):
        with pytest.raises(ValueError):
            SheetOutcome.model_validate(
                {"job_id": "j", "sheet_id": "1", "final_status": "completed", **fields}
            )
    outcome = SheetOutcome(job_id="j", sheet_id="1", final_status="completed")
    with pytest.raises(ValueError):
        LearningStore(learning_db).record_outcome(outcome, "/w", error_codes=[3])  # type: ignore[list-item]
    assert count(learning_db, "executions") == 6


def test_a_recorded_recovery_is_the_conductors_row_column_for_column(
    learning_db: Path, learning_readback: dict[str, Any]
) -> None:
    [raw] = learning_readback["raw"]["error_recoveries"]
    original = _typed_row(learning_db, "error_recoveries", "id", RECOVERY_ID)
    store = LearningStore(learning_db, now=clock(raw["recorded_at"]))
    new_id = store.record_error_recovery(
        raw["error_code"],
        raw["suggested_wait"],
        raw["actual_wait"],
        bool(raw["recovery_success"]),
        raw["model"],
    )
    assert uuid.UUID(new_id).version == 4
    ours = _typed_row(learning_db, "error_recoveries", "id", new_id)
    for column in (
        "error_code",
        "suggested_wait",
        "actual_wait",
        "recovery_success",
        "recorded_at",
        "model",
        "time_of_day",
    ):
        assert ours[column] == original[column], column
        assert ours[f"type_{column}"] == original[f"type_{column}"], column
    records = {record.id: record for record in store.read_error_recoveries()}
    assert records[new_id].model_copy(update={"id": RECOVERY_ID}) == records[RECOVERY_ID]
    assert store.get_error_recovery_sample_count("E101") == 2


def test_bad_recoveries_are_refused(learning_db: Path) -> None:
    store = LearningStore(learning_db)
    for arguments in (
        ("", 1.0, 1.0),
        ("E1", -1.0, 1.0),
        ("E1", 1.0, math.inf),
        ("E1", 1.0, math.nan),
    ):
        with pytest.raises(ValueError):
            store.record_error_recovery(*arguments, recovery_success=True)
    assert count(learning_db, "error_recoveries") == 1


def test_an_assigned_cluster_is_the_conductors_row(
    learning_db: Path, learning_readback: dict[str, Any]
) -> None:
    [raw] = learning_readback["raw"]["workspace_clusters"]
    store = LearningStore(learning_db, now=clock(raw["assigned_at"], "2026-11-24T09:00:00"))
    store.assign_workspace_cluster(raw["workspace_hash"], raw["cluster_id"])
    assert raw_rows(learning_db, "SELECT * FROM workspace_clusters") == [raw]
    # A second assignment replaces the first; the latest assigned comes first.
    store.assign_workspace_cluster("99ddfe1df21e899c", "cluster-a")
    assert store.get_similar_workspaces("cluster-a") == ["99ddfe1df21e899c", raw["workspace_hash"]]
    assert store.get_similar_workspaces("cluster-a", limit=1) == ["99ddfe1df21e899c"]
    assert store.get_workspace_cluster("99ddfe1df21e899c") == "cluster-a"
    with pytest.raises(ValueError):
        store.assign_workspace_cluster(" ", "c")


def test_recording_into_a_missing_file_creates_only_our_tables(tmp_path: Path) -> None:
    path = tmp_path / "home" / "global-learning.db"
    store = LearningStore(path)
    store.record_error_recovery("E101", 30.0, 40.0, True)
    store.record_outcome(SheetOutcome(job_id="j", sheet_id="1", final_status="completed"), tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    tables = {
        row["name"] for row in raw_rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    assert tables == {
        "schema_version",
        "executions",
        "patterns",
        "error_recoveries",
        "workspace_clusters",
    }
    assert raw_rows(path, "SELECT * FROM schema_version") == []
    assert store.get_execution_stats().total_executions == 1


def test_a_newer_schema_is_readable_but_never_written(learning_db: Path) -> None:
    set_schema_version(learning_db, 16)
    store = LearningStore(learning_db)
    assert store.get_execution_stats().total_executions == 6
    outcome = SheetOutcome(job_id="j", sheet_id="1", final_status="completed")
    for write in (
        lambda: store.record_outcome(outcome, "/w"),
        lambda: store.record_error_recovery("E101", 1.0, 1.0, True),
        lambda: store.assign_workspace_cluster("abc", "cluster-b"),
    ):
        with pytest.raises(NewerSchemaError) as raised:
            write()
        assert "\n" not in str(raised.value)
    assert (count(learning_db, "executions"), count(learning_db, "error_recoveries")) == (6, 1)
    assert count(learning_db, "workspace_clusters") == 1


def test_a_record_waits_out_the_conductors_lock_and_lands(learning_db: Path) -> None:
    store = LearningStore(learning_db, busy_timeout_seconds=0.01, write_attempts=8)
    store.ensure_schema()  # WAL, as the conductor keeps it
    holder = hold_write_lock(learning_db, 0.4)
    started = time.monotonic()
    store.record_outcome(SheetOutcome(job_id="j", sheet_id="1", final_status="completed"), "/w")
    store.record_error_recovery("E101", 30.0, 40.0, True)
    waited = time.monotonic() - started
    holder.join(5.0)
    assert waited >= 0.2, "the writes should have had to wait for the lock"
    assert (count(learning_db, "executions"), count(learning_db, "error_recoveries")) == (7, 2)


def test_a_lock_that_outlasts_every_retry_is_an_error_not_a_lost_record(learning_db: Path) -> None:
    store = LearningStore(learning_db, busy_timeout_seconds=0.01, write_attempts=2)
    store.ensure_schema()
    holder = hold_write_lock(learning_db, 0.4)
    with pytest.raises(StoreError) as raised:
        store.record_error_recovery("E101", 30.0, 40.0, True)
    holder.join(5.0)
    assert "locked" in str(raised.value) and "\n" not in str(raised.value)
    assert count(learning_db, "error_recoveries") == 1
