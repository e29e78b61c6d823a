"""The registry reader returns what the conductor's registry returned, and survives bad files."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mzt_tui.marianne.registry import RegistryReader, sheet_started_at_or_before
from mzt_tui.models.errors import StoreError
from mzt_tui.models.jobs import JobRecord


def _alive(*pids: int) -> Callable[[int], bool]:
    """A liveness check that knows exactly which PIDs are alive."""
    return lambda pid: pid in set(pids)


def _set_checkpoint(path: Path, job_id: str, checkpoint_json: str | None) -> None:
    """Overwrite one job's checkpoint_json in a copy of the registry."""
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "UPDATE jobs SET checkpoint_json = ? WHERE job_id = ?", (checkpoint_json, job_id)
        )
    connection.close()


def _job(reader: RegistryReader, job_id: str) -> JobRecord:
    job = reader.get_job(job_id)
    assert job is not None
    return job


# Compatibility with the conductor's own reader ----------------------------------------


def test_list_jobs_matches_the_conductors_order_and_values(
    upstream_dir: Path, registry_readback: dict[str, Any]
) -> None:
    jobs = RegistryReader(upstream_dir / "registry.db", is_alive=_alive(4242)).list_jobs()
    expected: list[dict[str, Any]] = registry_readback["list_jobs"]
    assert [job.job_id for job in jobs] == [row["job_id"] for row in expected]
    for job, row in zip(jobs, expected, strict=True):
        for key, value in row.items():
            assert getattr(job, key) == value, (job.job_id, key)
        # The conductor leaves error_message out when there is none.
        if "error_message" not in row:
            assert job.error_message is None


def test_reading_never_changes_the_file(upstream_dir: Path) -> None:
    path = upstream_dir / "registry.db"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    names_before = sorted(p.name for p in upstream_dir.iterdir())
    reader = RegistryReader(path, is_alive=_alive())
    reader.list_jobs()
    reader.get_job("beta-build")
    reader.running_pids()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in upstream_dir.iterdir()) == names_before


def test_beta_sheet_3_matches_the_checkpoint(
    upstream_dir: Path, registry_readback: dict[str, Any]
) -> None:
    beta = _job(RegistryReader(upstream_dir / "registry.db"), "beta-build")
    expected = registry_readback["beta_sheet_3"]
    sheet = beta.sheets[3]
    assert sheet.sheet_num == expected["sheet_num"]
    assert sheet.status == expected["status"]
    assert sheet.attempt_count == expected["attempt_count"]
    assert sheet.instrument_name == expected["instrument_name"]
    assert sheet.started_at == datetime.fromisoformat(expected["started_at"])
    assert sheet.started_at is not None
    assert sheet.started_at.utcoffset() is not None and not sheet.started_at.utcoffset()
    assert sheet.completed_at is None
    assert sheet.active and not sheet.finished


def test_checkpoint_counters_match_the_excerpt(
    upstream_dir: Path, registry_readback: dict[str, Any]
) -> None:
    beta = _job(RegistryReader(upstream_dir / "registry.db"), "beta-build")
    excerpt = registry_readback["beta_checkpoint_excerpt"]
    assert beta.checkpoint_total_sheets == excerpt["total_sheets"] == 5
    assert beta.last_completed_sheet == excerpt["last_completed_sheet"] == 0
    assert beta.current_sheet == excerpt["current_sheet"]
    assert beta.status == excerpt["status"]
    assert beta.pid == excerpt["pid"]
    assert sorted(beta.sheets) == [3, 4]
    assert beta.checkpoint_error is None


def test_a_finished_job_has_its_final_sheet_outcomes(upstream_dir: Path) -> None:
    gamma = _job(RegistryReader(upstream_dir / "registry.db"), "gamma-docs")
    assert gamma.checkpoint_total_sheets == 8
    assert gamma.last_completed_sheet == 8
    assert gamma.sheets_done == gamma.sheet_total == 8
    assert {sheet.exit_code for sheet in gamma.sheets.values()} == {0}
    assert all(sheet.validation_passed for sheet in gamma.sheets.values())
    assert gamma.sheets[1].execution_duration_seconds == 42.0
    assert gamma.sheets[8].completed_at == datetime(2026, 11, 23, 7, 13, 10, 322563, tzinfo=UTC)


def test_a_job_without_a_checkpoint_has_no_sheets_and_no_error(upstream_dir: Path) -> None:
    delta = _job(RegistryReader(upstream_dir / "registry.db"), "delta-old")
    assert delta.sheets == {}
    assert delta.checkpoint_error is None
    assert delta.error_message == "boom"


def test_get_job_of_an_unknown_id_is_none(upstream_dir: Path) -> None:
    assert RegistryReader(upstream_dir / "registry.db").get_job("nope") is None


def test_list_jobs_filters_and_limits(upstream_dir: Path) -> None:
    reader = RegistryReader(upstream_dir / "registry.db", is_alive=_alive(4242))
    assert [job.job_id for job in reader.list_jobs(status="running")] == [
        "beta-build",
        "alpha-review",
    ]
    assert [job.job_id for job in reader.list_jobs(limit=2)] == ["delta-old", "gamma-docs"]


# Running jobs, stale rows and sheets ---------------------------------------------------


def test_running_jobs_and_active_sheets_under_a_live_conductor(upstream_dir: Path) -> None:
    checked: list[int] = []

    def alive(pid: int) -> bool:
        checked.append(pid)
        return pid == 4242

    reader = RegistryReader(upstream_dir / "registry.db", is_alive=alive)
    running = reader.running_jobs()
    assert [job.job_id for job in running] == ["beta-build", "alpha-review"]
    assert all(job.conductor_alive and job.running for job in running)
    assert checked == [4242], "each distinct PID is checked once per read"
    pairs = [(job.job_id, sheet.sheet_num) for job, sheet in reader.active_sheets()]
    # Latest start first within a job (sheet 4 started after sheet 3).
    assert pairs == [("beta-build", 4), ("beta-build", 3), ("alpha-review", 2)]


def test_running_rows_of_a_dead_conductor_are_stale(upstream_dir: Path) -> None:
    reader = RegistryReader(upstream_dir / "registry.db", is_alive=_alive())
    jobs = {job.job_id: job for job in reader.list_jobs()}
    assert jobs["beta-build"].status == "running"
    assert not jobs["beta-build"].conductor_alive
    assert not jobs["beta-build"].running
    assert not jobs["alpha-review"].conductor_alive
    # Finished jobs are not judged by their conductor.
    assert jobs["gamma-docs"].conductor_alive
    assert reader.running_jobs() == []
    assert reader.active_sheets() == []
    assert reader.running_pids() == [4242]


def test_the_sheet_a_process_belongs_to(upstream_dir: Path) -> None:
    beta = _job(RegistryReader(upstream_dir / "registry.db"), "beta-build")
    sheet_3_start = datetime(2026, 11, 23, 7, 6, 10, 319965, tzinfo=UTC).timestamp()
    sheet_4_start = sheet_3_start + 60.0

    def pick(when: float, tolerance: float = 0.0) -> int | None:
        sheet = sheet_started_at_or_before(beta, when, tolerance_seconds=tolerance)
        return None if sheet is None else sheet.sheet_num

    assert pick(sheet_3_start - 1.0) is None
    assert pick(sheet_3_start) == 3
    assert pick(sheet_3_start + 30.0) == 3
    assert pick(sheet_4_start) == 4
    assert pick(sheet_4_start + 3600.0) == 4
    assert pick(sheet_3_start - 0.5, tolerance=1.0) == 3
    at = datetime.fromtimestamp(sheet_3_start + 5.0, tz=UTC)
    assert sheet_started_at_or_before(beta, at) == beta.sheets[3]


def test_finished_sheets_are_never_picked(upstream_dir: Path) -> None:
    gamma = _job(RegistryReader(upstream_dir / "registry.db"), "gamma-docs")
    assert sheet_started_at_or_before(gamma, 4_000_000_000.0) is None


# Bad checkpoints and bad files ---------------------------------------------------------


@pytest.mark.parametrize(
    ("checkpoint_json", "error_part"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2, 3]", "JSON list, not an object"),
        ('{"sheets": 7}', "'sheets' is not an object"),
        ('{"sheets": {"x": {"status": "failed"}}}', "not a sheet number"),
        ('{"sheets": {"2": "nope"}}', "sheet 2 is not an object"),
    ],
)
def test_a_garbage_checkpoint_keeps_the_job_listed(
    upstream_copy: Path, checkpoint_json: str, error_part: str
) -> None:
    path = upstream_copy / "registry.db"
    _set_checkpoint(path, "beta-build", checkpoint_json)
    jobs = {job.job_id: job for job in RegistryReader(path, is_alive=_alive(4242)).list_jobs()}
    assert len(jobs) == 4
    beta = jobs["beta-build"]
    assert beta.status == "running"
    assert beta.sheets == {}
    assert beta.checkpoint_error is not None
    assert error_part in beta.checkpoint_error
    assert "\n" not in beta.checkpoint_error
    assert jobs["alpha-review"].checkpoint_error is None
    assert sorted(jobs["alpha-review"].sheets) == [1, 2]


def test_odd_values_inside_a_sheet_are_dropped_not_fatal(upstream_copy: Path) -> None:
    path = upstream_copy / "registry.db"
    _set_checkpoint(
        path,
        "beta-build",
        '{"total_sheets": "5", "last_completed_sheet": true, "sheets": {'
        '"1": {"status": "completed", "attempt_count": "junk", "started_at": "yesterday",'
        ' "exit_code": 1.0, "validation_passed": "maybe", "completed_at": "2026-11-23T07:00:00"},'
        '"2": {"sheet_num": 2}, "bad": 3}}',
    )
    beta = _job(RegistryReader(path), "beta-build")
    sheet = beta.sheets[1]
    assert (sheet.status, sheet.attempt_count, sheet.started_at) == ("completed", 0, None)
    assert sheet.exit_code == 1
    assert sheet.validation_passed is None
    # A naive timestamp is UTC, as the conductor writes them.
    assert sheet.completed_at == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    assert beta.sheets[2].status == "pending"
    assert beta.checkpoint_total_sheets == 5
    assert beta.last_completed_sheet is None
    assert beta.checkpoint_error == "sheet bad is not an object"


def test_a_missing_registry_is_one_clear_line(tmp_path: Path) -> None:
    reader = RegistryReader(tmp_path / "daemon-state.db")
    assert not reader.exists()
    with pytest.raises(StoreError) as raised:
        reader.list_jobs()
    message = str(raised.value)
    assert message == f"conductor registry {tmp_path / 'daemon-state.db'} does not exist"
    assert not (tmp_path / "daemon-state.db").exists(), "reading must not create the file"


def test_a_corrupt_registry_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "daemon-state.db"
    path.write_bytes(b"garbage, not SQLite\n" * 200)
    with pytest.raises(StoreError) as raised:
        RegistryReader(path).list_jobs()
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"cannot read conductor registry {path}")
    assert "not a database" in message


def test_a_database_without_jobs_table_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "daemon-state.db"
    sqlite3.connect(path).close()
    with pytest.raises(StoreError, match="has no jobs table"):
        RegistryReader(path).get_job("x")


def test_a_wal_registry_is_read_while_the_conductor_writes(upstream_copy: Path) -> None:
    # GIVEN the conductor's file in WAL mode with a committed row still in the WAL
    path = upstream_copy / "registry.db"
    conductor = sqlite3.connect(path, isolation_level=None)
    try:
        assert conductor.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
        conductor.execute("PRAGMA wal_autocheckpoint=0")
        conductor.execute(
            "INSERT INTO jobs (job_id, config_path, workspace, status, pid, submitted_at) "
            "VALUES ('epsilon', '/s/e.yaml', '/w/e', 'queued', NULL, 1795417999.0)"
        )
        # AND an open write transaction the reader must neither see nor wait for
        conductor.execute("BEGIN IMMEDIATE")
        conductor.execute("UPDATE jobs SET status = 'cancelled' WHERE job_id = 'beta-build'")

        # WHEN we read
        jobs = RegistryReader(path, is_alive=_alive(4242), timeout_seconds=0.1).list_jobs()

        # THEN the committed WAL row is there and the uncommitted change is not
        assert jobs[0].job_id == "epsilon"
        assert {job.job_id: job.status for job in jobs}["beta-build"] == "running"
        conductor.execute("COMMIT")
    finally:
        conductor.close()


def test_a_path_with_uri_special_characters_opens(upstream_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "odd home #1 ?x=y%20"
    folder.mkdir()
    path = folder / "daemon-state.db"
    path.write_bytes((upstream_dir / "registry.db").read_bytes())
    assert len(RegistryReader(path).list_jobs()) == 4
