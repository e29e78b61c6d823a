"""Reading global-learning.db returns what the conductor's own readers returned."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mzt_tui.marianne.learning import LearningStore
from mzt_tui.marianne.learning_hashes import hash_job
from mzt_tui.models.errors import StoreError
from mzt_tui.models.learning import LearnedPattern


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _assert_pattern_matches_readback(pattern: LearnedPattern, expected: dict[str, Any]) -> None:
    """Compare one pattern with the conductor's readback entry (which uses short keys)."""
    assert pattern.id == expected["id"]
    assert pattern.pattern_name == expected["name"]
    assert list(pattern.context_tags) == expected["tags"]
    assert pattern.effectiveness_score == expected["effectiveness"]
    assert pattern.priority_score == expected["priority"]
    for long_key, short_key in (
        ("pattern_type", "type"),
        ("occurrence_count", "occurrence_count"),
        ("content_hash", "content_hash"),
    ):
        if short_key in expected:
            assert getattr(pattern, long_key) == expected[short_key]


def test_patterns_of_a_job_match_the_readback(
    upstream_dir: Path, learning_readback: dict[str, Any]
) -> None:
    patterns = LearningStore(upstream_dir / "learning.db").read_patterns(job_id="beta-build")
    expected: list[dict[str, Any]] = learning_readback["readback"]["patterns_job_beta"]
    assert len(patterns) == len(expected) == 2
    for pattern, row in zip(patterns, expected, strict=True):
        _assert_pattern_matches_readback(pattern, row)


def test_resource_correlation_patterns_match_the_readback(
    upstream_dir: Path, learning_readback: dict[str, Any]
) -> None:
    store = LearningStore(upstream_dir / "learning.db")
    patterns = store.read_patterns("resource_correlation")
    expected: list[dict[str, Any]] = learning_readback["readback"]["resource_correlation_patterns"]
    assert len(patterns) == len(expected) == 1
    _assert_pattern_matches_readback(patterns[0], expected[0])
    assert patterns[0].tag("memory_bin") == "1-2GB"


def test_every_raw_pattern_row_is_read_field_by_field(
    upstream_dir: Path, learning_readback: dict[str, Any]
) -> None:
    store = LearningStore(upstream_dir / "learning.db")
    by_id = {pattern.id: pattern for pattern in store.read_patterns()}
    rows: list[dict[str, Any]] = learning_readback["raw"]["patterns"]
    assert set(by_id) == {row["id"] for row in rows}
    for row in rows:
        pattern = by_id[row["id"]]
        for key in (
            "pattern_type",
            "pattern_name",
            "description",
            "occurrence_count",
            "led_to_success_count",
            "led_to_failure_count",
            "effectiveness_score",
            "variance",
            "suggested_action",
            "priority_score",
            "quarantine_status",
            "trust_score",
            "content_hash",
            "instrument_name",
        ):
            assert getattr(pattern, key) == row[key], (row["id"], key)
        assert pattern.active is bool(row["active"])
        for key in ("first_seen", "last_seen", "last_confirmed"):
            assert _iso(getattr(pattern, key)) == row[key]


def test_patterns_come_highest_priority_first(upstream_dir: Path) -> None:
    patterns = LearningStore(upstream_dir / "learning.db").read_patterns()
    priorities = [pattern.priority_score for pattern in patterns]
    assert priorities == sorted(priorities, reverse=True)
    assert patterns[-1].id == "0eb088b73986dd59"  # 0.33, the only one below 0.5
    assert len(LearningStore(upstream_dir / "learning.db").read_patterns(limit=2)) == 2


def test_similar_executions_match_the_readback(
    upstream_dir: Path, learning_readback: dict[str, Any]
) -> None:
    store = LearningStore(upstream_dir / "learning.db")
    records = store.read_executions(job_hash=hash_job("beta-build"), limit=10)
    expected: list[dict[str, Any]] = learning_readback["readback"]["similar_executions_beta"]
    assert len(records) == len(expected) == 2
    for record, row in zip(records, expected, strict=True):
        assert _iso(record.started_at) == row["started_at"]
        assert _iso(record.completed_at) == row["completed_at"]
        assert list(record.error_codes) == row["error_codes"]
        for key, value in row.items():
            if key not in {"started_at", "completed_at", "error_codes"}:
                assert getattr(record, key) == value, (record.id, key)


def test_the_stored_pass_rate_is_kept_beside_the_clamped_one(upstream_dir: Path) -> None:
    store = LearningStore(upstream_dir / "learning.db")
    cancelled = store.read_executions(sheet_num=4)[0]
    assert cancelled.id == "b9626b89-f151-4a73-b486-49f57a961349"
    assert cancelled.validation_pass_rate == 1.0  # what the conductor's reader returns
    assert cancelled.validation_pass_rate_stored == 50.0  # what the row holds


def test_recent_executions_are_newest_completed_first(
    upstream_dir: Path, learning_readback: dict[str, Any]
) -> None:
    rows: list[dict[str, Any]] = learning_readback["raw"]["executions"]
    newest_first = [row["id"] for row in sorted(rows, key=lambda r: r["completed_at"])][::-1]
    store = LearningStore(upstream_dir / "learning.db")
    assert [record.id for record in store.read_executions()] == newest_first
    assert [record.id for record in store.read_executions(limit=2)] == newest_first[:2]
    first = store.read_executions(limit=1)[0]
    assert first.success_without_retry is False
    assert first.status == "skipped"


def test_filters_combine(upstream_dir: Path, learning_readback: dict[str, Any]) -> None:
    store = LearningStore(upstream_dir / "learning.db")
    workspace_hash = learning_readback["readback"]["hash_workspace"]["alpha-review"]
    records = store.read_executions(workspace_hash=workspace_hash, sheet_num=2)
    assert [record.id for record in records] == ["f8178978-2ac7-4d55-bdc9-d9899eebc905"]
    assert records[0].retry_count == 1


def test_reading_never_changes_the_file(upstream_dir: Path) -> None:
    path = upstream_dir / "learning.db"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    store = LearningStore(path)
    store.read_patterns()
    store.read_executions()
    assert store.schema_version() == 15
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_active_only_leaves_out_inactive_patterns(upstream_copy: Path) -> None:
    store = LearningStore(upstream_copy / "learning.db")
    assert store.set_pattern_active("372a09a218948724", False)
    assert "372a09a218948724" in {p.id for p in store.read_patterns()}
    assert "372a09a218948724" not in {p.id for p in store.read_patterns(active_only=True)}
    assert [p.id for p in store.read_patterns(active_only=True, job_id="beta-build")] == [
        "84eaf1815cc5768d"
    ]


def test_a_missing_file_reads_as_empty_and_is_not_created(tmp_path: Path) -> None:
    store = LearningStore(tmp_path / "global-learning.db")
    assert store.read_patterns() == []
    assert store.read_executions() == []
    assert store.get_pattern("84eaf1815cc5768d") is None
    assert store.schema_version() is None
    assert not store.exists()


def test_a_corrupt_file_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "global-learning.db"
    path.write_bytes(b"not sqlite at all " * 300)
    with pytest.raises(StoreError) as raised:
        LearningStore(path).read_patterns()
    assert "\n" not in str(raised.value)
    assert str(raised.value).startswith(f"cannot read learning store {path}")


def test_odd_rows_are_read_without_crashing(upstream_copy: Path) -> None:
    path = upstream_copy / "learning.db"
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "INSERT INTO patterns (id, pattern_type, pattern_name, context_tags, first_seen,"
            " effectiveness_score, priority_score, active) VALUES"
            " ('odd', 'resource_anomaly', 'odd one', '{broken', 'not a date', 7.0, NULL, NULL)"
        )
        connection.execute(
            "INSERT INTO executions (id, workspace_hash, job_hash, sheet_num, completed_at,"
            " error_codes, duration_seconds, retry_count) VALUES"
            " ('odd', 'w', 'j', 1, '9999-12-31T00:00:00', 'nope', -3.0, -1)"
        )
    connection.close()
    store = LearningStore(path)
    odd = store.get_pattern("odd")
    assert odd is not None
    assert odd.context_tags == ()
    assert odd.first_seen is None
    assert odd.effectiveness_score == 1.0  # clamped, as the conductor's reader does
    assert odd.priority_score == 0.5
    assert odd.active is True
    assert "odd" not in {p.id for p in store.read_patterns(job_id="beta-build")}
    newest = store.read_executions(limit=1)[0]
    assert (newest.id, newest.error_codes) == ("odd", ())
    assert (newest.duration_seconds, newest.retry_count) == (0.0, 0)
