"""The demo's registry has the conductor's exact `jobs` schema and checkpoint shape."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from mzt_tui.demo.checkpoint import JobRun, iso_utc
from mzt_tui.demo.plan import job_rng, plan_job
from mzt_tui.demo.registry_writer import RegistryWriter
from mzt_tui.models import JobRecord, SheetState


def table_info(path: Path) -> list[tuple[Any, ...]]:
    """(name, type, notnull, default, pk) of every `jobs` column, in order."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return [tuple(row[1:]) for row in connection.execute("PRAGMA table_info(jobs)")]


def index_columns(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        names = [row[1] for row in connection.execute("PRAGMA index_list(jobs)")]
        return {
            name: [row[2] for row in connection.execute(f"PRAGMA index_info({name})")]
            for name in names
            if not name.startswith("sqlite_autoindex")
        }


def fixture_checkpoint(upstream_dir: Path, job_id: str) -> dict[str, Any]:
    with sqlite3.connect(f"file:{upstream_dir / 'registry.db'}?mode=ro", uri=True) as connection:
        row = connection.execute(
            "SELECT checkpoint_json FROM jobs WHERE job_id = ?", (job_id,)
        ).fetchone()
    checkpoint: dict[str, Any] = json.loads(row[0])
    return checkpoint


def sample_job(tmp_path: Path) -> JobRun:
    plan = plan_job(job_rng(5, 1))
    job = JobRun(
        job_id=f"{plan.score_name}-001",
        plan=plan,
        config_path=str(tmp_path / "scores" / f"{plan.score_name}.yaml"),
        workspace=str(tmp_path / "workspaces" / f"{plan.score_name}-001"),
        pid=4242,
        submitted_at=time.time() - 30,
        status="running",
        started_at=time.time() - 29,
    )
    first = job.sheets[1]
    first.status, first.attempt_count = "completed", 1
    first.started_at, first.completed_at = time.time() - 28, time.time() - 20
    first.record_exit(0, timed_out=False)
    second = job.sheets[2]
    second.status, second.attempt_count, second.started_at = "in_progress", 2, time.time() - 5
    return job


def test_jobs_table_matches_the_conductors_columns_and_indexes(
    tmp_path: Path, upstream_dir: Path
) -> None:
    RegistryWriter(tmp_path / "daemon-state.db").close()
    fixture = upstream_dir / "registry.db"
    assert table_info(tmp_path / "daemon-state.db") == table_info(fixture)
    assert index_columns(tmp_path / "daemon-state.db") == index_columns(fixture)
    recorded = json.loads((upstream_dir / "registry.read.json").read_text())
    assert [row[0] for row in table_info(tmp_path / "daemon-state.db")] == recorded["jobs_columns"]


def test_registry_is_in_wal_mode(tmp_path: Path) -> None:
    RegistryWriter(tmp_path / "daemon-state.db").close()
    with sqlite3.connect(tmp_path / "daemon-state.db") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_written_job_round_trips_with_the_conductors_checkpoint_keys(
    tmp_path: Path, upstream_dir: Path
) -> None:
    # GIVEN a job with one completed and one running sheet
    job = sample_job(tmp_path)
    writer = RegistryWriter(tmp_path / "daemon-state.db")
    # WHEN it is written
    writer.write_job(job, now=1_800_000_000.25)
    writer.close()
    with sqlite3.connect(tmp_path / "daemon-state.db") as connection:
        connection.row_factory = sqlite3.Row
        row = dict(connection.execute("SELECT * FROM jobs").fetchone())
    # THEN the row holds the job's fields and a checkpoint with the conductor's keys
    assert row["job_id"] == job.job_id
    assert row["status"] == "running"
    assert row["pid"] == 4242
    assert row["current_sheet"] == 2
    assert row["total_sheets"] == job.total_sheets
    assert isinstance(row["submitted_at"], float)
    checkpoint = json.loads(row["checkpoint_json"])
    assert json.loads(json.dumps(checkpoint)) == checkpoint
    upstream = fixture_checkpoint(upstream_dir, "beta-build")
    assert set(checkpoint) == set(upstream)
    assert set(checkpoint["sheets"]) == {"1", "2"}
    assert set(checkpoint["sheets"]["1"]) == set(upstream["sheets"]["3"])
    assert checkpoint["updated_at"] == "2027-01-15T08:00:00.250000Z"
    assert checkpoint["job_id"] == checkpoint["job_name"] == job.job_id
    assert checkpoint["last_completed_sheet"] == 1
    assert checkpoint["sheets_in_progress"] == [2]
    assert checkpoint["total_retry_count"] == 1
    done = checkpoint["sheets"]["1"]
    assert (done["status"], done["exit_code"], done["exit_signal"], done["exit_reason"]) == (
        "completed",
        0,
        None,
        "completed",
    )
    assert done["completed_at"].endswith("Z")
    # AND the checkpoint parses into our own models
    record = JobRecord.model_validate(
        {**row, "sheets": {int(num): sheet for num, sheet in checkpoint["sheets"].items()}}
    )
    assert record.sheets[2].active
    assert SheetState.model_validate(done).finished


def test_iso_timestamps_look_like_the_conductors() -> None:
    assert iso_utc(0.5) == "1970-01-01T00:00:00.500000Z"
    assert iso_utc(None) is None


def test_killed_and_failed_attempts_record_exit_fields_and_history(tmp_path: Path) -> None:
    job = sample_job(tmp_path)
    sheet = job.sheets[2]
    sheet.record_exit(2, timed_out=False)
    assert (sheet.exit_code, sheet.exit_signal, sheet.exit_reason) == (2, None, "failed")
    sheet.reset_outcome()
    sheet.record_exit(-15, timed_out=True)
    assert (sheet.exit_code, sheet.exit_signal, sheet.exit_reason) == (None, 15, "killed")
    assert sheet.error_code == "E001"
    assert [entry["exit_code"] for entry in sheet.error_history] == [2, None]


def test_open_jobs_of_an_earlier_demo_are_cancelled(tmp_path: Path) -> None:
    # GIVEN a running job written by a demo whose PID was 4242
    writer = RegistryWriter(tmp_path / "daemon-state.db")
    writer.write_job(sample_job(tmp_path))
    # WHEN a new demo (another PID) opens the registry
    cancelled = writer.cancel_stale_jobs(own_pid=999_999)
    writer.close()
    # THEN the job and its running sheet are cancelled
    with sqlite3.connect(tmp_path / "daemon-state.db") as connection:
        status, checkpoint_text = connection.execute(
            "SELECT status, checkpoint_json FROM jobs"
        ).fetchone()
    assert len(cancelled) == 1
    assert status == "cancelled"
    checkpoint = json.loads(checkpoint_text)
    assert checkpoint["status"] == "cancelled"
    assert checkpoint["sheets"]["2"]["status"] == "cancelled"
    assert checkpoint["sheets"]["1"]["status"] == "completed"
