"""On the conductor's own file, the execution API returns what the conductor's readers did."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from mzt_tui.marianne.learning import LearningStore
from mzt_tui.marianne.learning_hashes import hash_job, hash_workspace
from mzt_tui.models.learning import ExecutionRecord
from tests.learning.helpers import WORKSPACES


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _as_readback(record: ExecutionRecord) -> dict[str, Any]:
    """A record in the shape of the conductor's readback entries."""
    return {
        "id": record.id,
        "workspace_hash": record.workspace_hash,
        "job_hash": record.job_hash,
        "sheet_num": record.sheet_num,
        "started_at": _iso(record.started_at),
        "completed_at": _iso(record.completed_at),
        "duration_seconds": record.duration_seconds,
        "status": record.status,
        "retry_count": record.retry_count,
        "success_without_retry": record.success_without_retry,
        "validation_pass_rate": record.validation_pass_rate,
        "confidence_score": record.confidence_score,
        "model": record.model,
        "error_codes": list(record.error_codes),
    }


def test_execution_stats_match_the_readback(
    upstream_dir: Path, learning_readback: dict[str, Any]
) -> None:
    stats = LearningStore(upstream_dir / "learning.db").get_execution_stats()
    expected = learning_readback["readback"]["execution_stats"]
    assert stats.model_dump() == expected
    assert stats.success_without_retry_rate == 2 / 6


def test_similar_executions_match_the_readback(
    upstream_dir: Path, learning_readback: dict[str, Any]
) -> None:
    store = LearningStore(upstream_dir / "learning.db")
    records = store.get_similar_executions(job_hash=hash_job("beta-build"))
    expected = learning_readback["readback"]["similar_executions_beta"]
    assert [_as_readback(record) for record in records] == expected


def test_similar_executions_filter_by_workspace_and_sheet(
    upstream_dir: Path, learning_readback: dict[str, Any]
) -> None:
    store = LearningStore(upstream_dir / "learning.db")
    beta_workspace = hash_workspace(WORKSPACES["beta-build"])
    assert beta_workspace == learning_readback["readback"]["hash_workspace"]["beta-build"]
    by_workspace = store.get_similar_executions(workspace_hash=beta_workspace)
    assert [record.sheet_num for record in by_workspace] == [4, 3]
    only_three = store.get_similar_executions(workspace_hash=beta_workspace, sheet_num=3)
    assert [record.id for record in only_three] == ["035137f1-3754-45bf-ac2d-c07935f44220"]
    assert store.get_similar_executions(job_hash=hash_job("beta-build"), limit=1)[0].sheet_num == 4
    assert store.get_similar_executions(job_hash="0" * 16) == []


def test_recent_executions_are_every_raw_row_newest_first(
    upstream_dir: Path, learning_readback: dict[str, Any]
) -> None:
    rows: list[dict[str, Any]] = learning_readback["raw"]["executions"]
    store = LearningStore(upstream_dir / "learning.db")
    records = store.get_recent_executions()
    newest_first = sorted(rows, key=lambda row: row["completed_at"], reverse=True)
    assert [record.id for record in records] == [row["id"] for row in newest_first]
    for record, row in zip(records, newest_first, strict=True):
        readback = _as_readback(record)
        for key in ("started_at", "completed_at", "duration_seconds", "status", "model"):
            assert readback[key] == row[key], (row["id"], key)
        assert readback["success_without_retry"] is bool(row["success_without_retry"])
        # The conductor's reader clamps old 0–100 pass rates into 0–1.
        assert readback["validation_pass_rate"] == min(row["validation_pass_rate"], 1.0)
    assert [record.id for record in store.get_recent_executions(limit=2)] == [
        row["id"] for row in newest_first[:2]
    ]


def test_recent_executions_of_one_workspace(
    upstream_dir: Path, learning_readback: dict[str, Any]
) -> None:
    store = LearningStore(upstream_dir / "learning.db")
    alpha = learning_readback["readback"]["hash_workspace"]["alpha-review"]
    assert [record.sheet_num for record in store.get_recent_executions(10, alpha)] == [2, 1]
    # An empty workspace hash filters nothing, as in the conductor (`if workspace_hash:`).
    assert len(store.get_recent_executions(10, "")) == 6


def test_the_window_and_waits_of_one_recovery(upstream_dir: Path) -> None:
    store = LearningStore(upstream_dir / "learning.db")
    window = store.get_optimal_execution_window()
    # One recovery, at 07h: too few to judge the hour, confidence 1/50.
    assert window.model_dump() == {
        "optimal_hours": (),
        "avoid_hours": (),
        "confidence": 0.02,
        "sample_count": 1,
    }
    assert store.get_optimal_execution_window("E101").sample_count == 1
    assert store.get_optimal_execution_window("E999").sample_count == 0
    assert store.get_error_recovery_sample_count("E101") == 1
    assert store.get_learned_wait_time("E101") is None
    assert store.get_learned_wait_time("E101", min_samples=1) == 45.0
    assert tuple(store.get_learned_wait_time_with_fallback("E101", 60.0)) == (
        60.0,
        0.0,
        "static_fallback",
    )
    assert store.recovery_error_codes() == ["E101"]
    [recovery] = store.read_error_recoveries()
    assert (recovery.id, recovery.actual_wait, recovery.time_of_day) == (
        "c31c82c7-6e5c-4540-97c3-9ebf865921af",
        45.0,
        7,
    )


def test_workspace_clusters_of_the_file(
    upstream_dir: Path, learning_readback: dict[str, Any]
) -> None:
    store = LearningStore(upstream_dir / "learning.db")
    alpha = learning_readback["readback"]["hash_workspace"]["alpha-review"]
    assert store.get_workspace_cluster(alpha) == "cluster-a"
    assert store.get_workspace_cluster("0" * 16) is None
    assert store.get_similar_workspaces("cluster-a") == [alpha]
    assert store.get_similar_workspaces("no-such-cluster") == []
    [cluster] = store.read_workspace_clusters()
    assert (
        _iso(cluster.assigned_at)
        == learning_readback["raw"]["workspace_clusters"][0]["assigned_at"]
    )


def test_reading_never_changes_the_file(upstream_dir: Path) -> None:
    path = upstream_dir / "learning.db"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    store = LearningStore(path)
    store.get_execution_stats()
    store.get_recent_executions()
    store.get_optimal_execution_window()
    store.get_learned_wait_time_with_fallback("E101", 60.0)
    store.read_workspace_clusters()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_missing_file_reads_as_nothing_and_is_not_created(tmp_path: Path) -> None:
    store = LearningStore(tmp_path / "global-learning.db")
    assert store.get_execution_stats().model_dump() == {
        "total_executions": 0,
        "success_without_retry_rate": 0.0,
        "total_patterns": 0,
        "avg_pattern_effectiveness": 0.0,
        "total_error_recoveries": 0,
        "unique_workspaces": 0,
    }
    assert store.get_recent_executions() == []
    assert store.get_optimal_execution_window().sample_count == 0
    assert store.get_learned_wait_time_with_fallback("E101", 30.0).strategy == "static_fallback"
    assert store.get_workspace_cluster("x") is None
    assert not store.exists()
