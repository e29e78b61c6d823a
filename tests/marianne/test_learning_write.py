"""Writing patterns follows the conductor's rules, creates files safely and survives locks."""

from __future__ import annotations

import json
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mzt_tui.marianne.learning import LearningStore
from mzt_tui.marianne.sqlite_files import retry_busy
from mzt_tui.models.errors import NewerSchemaError, StoreError

ANOMALY_ID = "84eaf1815cc5768d"
CORRELATION_ID = "0eb088b73986dd59"


def _clock(*stamps: str) -> Callable[[], datetime]:
    """A clock that returns these ISO times in turn."""
    times: Iterator[datetime] = iter(datetime.fromisoformat(stamp) for stamp in stamps)
    return lambda: next(times)


def _raw_rows(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[dict[str, Any]]:
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute(sql, params).fetchall()]
    finally:
        connection.close()


def _raw_pattern(path: Path, pattern_id: str) -> dict[str, Any]:
    rows = _raw_rows(path, "SELECT * FROM patterns WHERE id = ?", (pattern_id,))
    assert len(rows) == 1
    return rows[0]


def _count_patterns(path: Path) -> int:
    return int(_raw_rows(path, "SELECT COUNT(*) AS n FROM patterns")[0]["n"])


# The conductor's insert and update rules ------------------------------------------------


def test_inserts_reproduce_the_conductors_rows_column_for_column(
    upstream_copy: Path, learning_readback: dict[str, Any]
) -> None:
    # GIVEN the conductor's anomaly row and one of its insight rows, deleted from a copy
    path = upstream_copy / "learning.db"
    raw = {row["id"]: row for row in learning_readback["raw"]["patterns"]}
    anomaly, insight = raw[ANOMALY_ID], raw["c605ef068506b075"]
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("DELETE FROM patterns WHERE id IN (?, ?)", (ANOMALY_ID, insight["id"]))
    connection.close()

    # WHEN we record them as the conductor did (the anomaly twice), at the same times
    store = LearningStore(
        path, now=_clock(insight["first_seen"], anomaly["first_seen"], anomaly["last_seen"])
    )
    insight_id = store.record_pattern(
        insight["pattern_type"],
        insight["pattern_name"],
        insight["description"],
        suggested_action=insight["suggested_action"],
        context_tags=json.loads(insight["context_tags"]),
    )
    for _ in range(2):
        anomaly_id = store.record_pattern(
            anomaly["pattern_type"],
            anomaly["pattern_name"],
            anomaly["description"],
            context_tags=json.loads(anomaly["context_tags"]),
        )

    # THEN every column equals what the conductor wrote
    assert (insight_id, anomaly_id) == (insight["id"], ANOMALY_ID)
    assert _raw_pattern(path, insight_id) == insight
    assert _raw_pattern(path, ANOMALY_ID) == anomaly


def test_recording_an_existing_pattern_updates_that_row(upstream_copy: Path) -> None:
    path = upstream_copy / "learning.db"
    before = _raw_pattern(path, ANOMALY_ID)
    rows_before = _count_patterns(path)
    store = LearningStore(path, now=_clock("2026-11-24T10:00:00.123456"))

    pattern_id = store.record_pattern(
        "resource_anomaly",
        "[MEMORY_SPIKE]  pid 6002 RSS grew 132% (900→2088 MB)\tin 30s",  # same normalized name
        "a new description",
        context_tags=["anomaly_type:memory_spike", "job:beta-build"],
    )

    after = _raw_pattern(path, ANOMALY_ID)
    assert pattern_id == ANOMALY_ID
    assert _count_patterns(path) == rows_before
    assert after["occurrence_count"] == before["occurrence_count"] + 1 == 3
    assert after["last_seen"] == "2026-11-24T10:00:00.123456"
    assert after["description"] == "a new description"
    assert json.loads(after["context_tags"]) == ["anomaly_type:memory_spike", "job:beta-build"]
    assert after["content_hash"] == LearningStore.content_hash(
        "resource_anomaly", before["pattern_name"], "a new description"
    )
    assert after["active"] == 1
    # What an update does not touch stays as it was.
    for key in ("pattern_name", "first_seen", "last_confirmed", "trust_calculation_date"):
        assert after[key] == before[key], key
    assert (after["effectiveness_score"], after["priority_score"]) == (0.5, 0.5)


def test_an_update_keeps_the_suggested_action_unless_a_new_one_is_given(
    upstream_copy: Path,
) -> None:
    path = upstream_copy / "learning.db"
    original = _raw_pattern(path, CORRELATION_ID)
    store = LearningStore(path)
    name, description = original["pattern_name"], original["description"]
    store.record_pattern("resource_correlation", name, description)
    assert _raw_pattern(path, CORRELATION_ID)["suggested_action"] == original["suggested_action"]
    store.record_pattern("resource_correlation", name, description, suggested_action="cap RSS")
    assert _raw_pattern(path, CORRELATION_ID)["suggested_action"] == "cap RSS"


def test_scores_are_set_when_given_and_kept_when_not(upstream_copy: Path) -> None:
    path = upstream_copy / "learning.db"
    store = LearningStore(path)
    new_id = store.record_pattern(
        "resource_correlation",
        "[rss_vs_failure] peak RSS 1-2GB",
        "80% fail",
        context_tags=["memory_bin:1-2GB"],
        effectiveness_score=0.9,
        priority_score=0.95,
    )
    row = _raw_pattern(path, new_id)
    assert (row["effectiveness_score"], row["priority_score"]) == (0.9, 0.95)
    store.record_pattern("resource_correlation", "[rss_vs_failure] peak RSS 1-2GB", "81% fail")
    row = _raw_pattern(path, new_id)
    assert (row["effectiveness_score"], row["priority_score"]) == (0.9, 0.95)
    store.record_pattern(
        "resource_correlation", "[rss_vs_failure] peak RSS 1-2GB", "82% fail", priority_score=0.7
    )
    assert _raw_pattern(path, new_id)["priority_score"] == 0.7


def test_recording_reactivates_an_inactive_pattern(upstream_copy: Path) -> None:
    path = upstream_copy / "learning.db"
    store = LearningStore(path)
    assert store.set_pattern_active(ANOMALY_ID, False)
    assert _raw_pattern(path, ANOMALY_ID)["active"] == 0
    store.record_pattern(
        "resource_anomaly", _raw_pattern(path, ANOMALY_ID)["pattern_name"], "seen again"
    )
    assert _raw_pattern(path, ANOMALY_ID)["active"] == 1


def test_set_pattern_active_keeps_the_row(upstream_copy: Path, tmp_path: Path) -> None:
    path = upstream_copy / "learning.db"
    store = LearningStore(path)
    rows_before = _count_patterns(path)
    assert store.set_pattern_active(CORRELATION_ID, False)
    assert _count_patterns(path) == rows_before
    pattern = store.get_pattern(CORRELATION_ID)
    assert pattern is not None and pattern.active is False
    assert store.set_pattern_active(CORRELATION_ID, True)
    assert _raw_pattern(path, CORRELATION_ID)["active"] == 1
    assert not store.set_pattern_active("0000000000000000", False)
    missing = LearningStore(tmp_path / "absent.db")
    assert not missing.set_pattern_active(CORRELATION_ID, False)
    assert not missing.exists()


def test_a_new_pattern_follows_every_schema_rule(tmp_path: Path) -> None:
    path = tmp_path / "global-learning.db"
    store = LearningStore(path)
    pattern_id = store.record_pattern(
        "resource_anomaly",
        "[zombie] 2 zombies under sheet 3",
        "2 zombie processes",
        context_tags=("anomaly_type:zombie", "severity:high", "job:beta-build", "sheet:3"),
        provenance_job_hash=LearningStore.hash_job("beta-build"),
        provenance_sheet_num=3,
    )
    row = _raw_pattern(path, pattern_id)
    assert pattern_id == LearningStore.pattern_id("resource_anomaly", row["pattern_name"])
    assert row["content_hash"] == LearningStore.content_hash(
        "resource_anomaly", row["pattern_name"], "2 zombie processes"
    )
    assert row["last_confirmed"] is not None
    stamps = {row[key] for key in ("first_seen", "last_seen", "last_confirmed")}
    assert len(stamps) == 1
    stamp = datetime.fromisoformat(stamps.pop())
    assert stamp.tzinfo is None  # naive local, like the conductor's rows
    assert abs((datetime.now() - stamp).total_seconds()) < 60
    assert row["trust_calculation_date"] == row["first_seen"]
    assert json.loads(row["context_tags"]) == [
        "anomaly_type:zombie",
        "severity:high",
        "job:beta-build",
        "sheet:3",
    ]
    expected_defaults = {
        "occurrence_count": 1,
        "led_to_success_count": 0,
        "led_to_failure_count": 0,
        "effectiveness_score": 0.5,
        "variance": 0.0,
        "priority_score": 0.5,
        "quarantine_status": "pending",
        "trust_score": 0.5,
        "active": 1,
        "provenance_sheet_num": 3,
        "quarantined_at": None,
        "validated_at": None,
        "success_factors": None,
        "suggested_action": None,
    }
    assert {key: row[key] for key in expected_defaults} == expected_defaults
    types = _raw_rows(
        path,
        "SELECT typeof(first_seen) AS a, typeof(last_seen) AS b, typeof(last_confirmed) AS c"
        " FROM patterns WHERE id = ?",
        (pattern_id,),
    )[0]
    assert set(types.values()) == {"text"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"pattern_type": " ", "name": "n"}, "pattern_type"),
        ({"pattern_type": "t", "name": " \t"}, "name"),
        ({"pattern_type": "t", "name": "n", "context_tags": "job:x"}, "not one string"),
        ({"pattern_type": "t", "name": "n", "context_tags": ["ok", 3]}, "not a string"),
        ({"pattern_type": "t", "name": "n", "priority_score": float("nan")}, "finite"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(
    tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    store = LearningStore(tmp_path / "global-learning.db")
    with pytest.raises(ValueError, match=message):
        store.record_pattern(description="d", **arguments)
    assert not store.exists()


# Files: creation, newer schemas, older schemas -------------------------------------------


def test_a_fresh_file_has_only_our_tables_an_empty_version_and_mode_0600(
    tmp_path: Path, upstream_dir: Path
) -> None:
    path = tmp_path / "nested" / "home" / "global-learning.db"
    store = LearningStore(path)
    store.record_pattern("resource_anomaly", "[zombie] x", "y")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for sidecar in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if sidecar.exists():
            assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600
    tables = {
        row["name"]
        for row in _raw_rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    assert tables == {
        "schema_version",
        "executions",
        "patterns",
        "error_recoveries",
        "workspace_clusters",
    }
    assert _raw_rows(path, "SELECT * FROM schema_version") == []
    assert store.schema_version() is None
    assert _raw_rows(path, "PRAGMA journal_mode")[0]["journal_mode"] == "wal"
    # Our tables have exactly the columns of the conductor's file.
    for table in ("executions", "patterns", "error_recoveries", "workspace_clusters"):
        sql = f"SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{table}')"
        assert _raw_rows(path, sql) == _raw_rows(upstream_dir / "learning.db", sql), table


def test_ensure_schema_on_the_conductors_file_changes_no_version(upstream_copy: Path) -> None:
    store = LearningStore(upstream_copy / "learning.db")
    store.ensure_schema()
    assert store.schema_version() == 15


def test_a_newer_schema_is_readable_but_never_written(upstream_copy: Path) -> None:
    path = upstream_copy / "learning.db"
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE schema_version SET version = 16")
    connection.close()
    before = _raw_rows(path, "SELECT * FROM patterns ORDER BY id")
    store = LearningStore(path)

    assert len(store.read_patterns()) == 5
    for write in (
        lambda: store.record_pattern("resource_anomaly", "[zombie] new", "d"),
        lambda: store.set_pattern_active(ANOMALY_ID, False),
        store.ensure_schema,
    ):
        with pytest.raises(NewerSchemaError) as raised:
            write()
        assert "\n" not in str(raised.value)
        assert "schema version 16" in str(raised.value)
    assert _raw_rows(path, "SELECT * FROM patterns ORDER BY id") == before
    assert _raw_rows(path, "PRAGMA journal_mode")[0]["journal_mode"] == "delete"


def test_an_older_conductors_file_takes_our_patterns(tmp_path: Path) -> None:
    # GIVEN a version-13 file whose patterns table predates soft delete and content hashes
    path = tmp_path / "global-learning.db"
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY)")
        connection.execute("INSERT INTO schema_version VALUES (13)")
        connection.execute(
            "CREATE TABLE patterns (id TEXT PRIMARY KEY, pattern_type TEXT NOT NULL,"
            " pattern_name TEXT NOT NULL, description TEXT, occurrence_count INTEGER DEFAULT 1,"
            " first_seen TIMESTAMP, last_seen TIMESTAMP, last_confirmed TIMESTAMP,"
            " context_tags TEXT, priority_score REAL DEFAULT 0.5)"
        )
    connection.close()

    # WHEN we record a pattern twice
    store = LearningStore(path)
    pattern_id = store.record_pattern(
        "resource_anomaly", "[zombie] old file", "d", context_tags=["a:b"]
    )
    store.record_pattern("resource_anomaly", "[zombie] old file", "d2")

    # THEN it is one row with the columns the file has, and the version is untouched
    row = _raw_pattern(path, pattern_id)
    assert (row["occurrence_count"], row["description"]) == (2, "d2")
    assert "content_hash" not in row
    assert store.schema_version() == 13
    pattern = store.get_pattern(pattern_id)
    assert pattern is not None and pattern.active


def test_a_corrupt_file_refuses_writes_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "global-learning.db"
    path.write_bytes(b"definitely not sqlite " * 300)
    with pytest.raises(StoreError) as raised:
        LearningStore(path).record_pattern("t", "n", "d")
    assert "\n" not in str(raised.value)
    assert str(raised.value).startswith(f"cannot write learning store {path}")


# Locks -----------------------------------------------------------------------------------


def _hold_write_lock(path: Path, seconds: float, locked: threading.Event) -> threading.Thread:
    """Hold `BEGIN IMMEDIATE` on `path` for `seconds` in a thread, like a busy conductor."""

    def hold() -> None:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(
                "UPDATE patterns SET variance = variance WHERE id = ?", (ANOMALY_ID,)
            )
            locked.set()
            time.sleep(seconds)
            connection.execute("COMMIT")
        finally:
            connection.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert locked.wait(5.0), "the lock holder did not start"
    return thread


@pytest.mark.parametrize(
    ("busy_timeout_seconds", "write_attempts"),
    [
        (5.0, 1),  # the busy timeout alone waits the lock out
        (0.01, 8),  # the back-off retry loop does, with almost no busy timeout
    ],
)
def test_a_write_waits_for_the_conductors_lock_and_lands(
    upstream_copy: Path, busy_timeout_seconds: float, write_attempts: int
) -> None:
    path = upstream_copy / "learning.db"
    store = LearningStore(
        path, busy_timeout_seconds=busy_timeout_seconds, write_attempts=write_attempts
    )
    store.ensure_schema()  # WAL mode, as the conductor keeps it
    holder = _hold_write_lock(path, 0.5, threading.Event())
    started = time.monotonic()
    pattern_id = store.record_pattern("resource_anomaly", "[zombie] under lock", "d")
    waited = time.monotonic() - started
    holder.join(5.0)
    assert waited >= 0.3, "the write should have had to wait for the lock"
    assert store.get_pattern(pattern_id) is not None
    assert _count_patterns(path) == 6


def test_without_retries_or_timeout_a_locked_write_fails_cleanly(upstream_copy: Path) -> None:
    path = upstream_copy / "learning.db"
    store = LearningStore(path, busy_timeout_seconds=0.01, write_attempts=1)
    store.ensure_schema()
    holder = _hold_write_lock(path, 0.3, threading.Event())
    with pytest.raises(StoreError) as raised:
        store.record_pattern("resource_anomaly", "[zombie] refused", "d")
    holder.join(5.0)
    assert "locked" in str(raised.value)
    assert _count_patterns(path) == 5


def test_retry_busy_backs_off_exponentially_and_only_on_locks() -> None:
    pauses: list[float] = []
    failures = iter([sqlite3.OperationalError("database is locked")] * 4)

    def flaky() -> str:
        error = next(failures, None)
        if error is not None:
            raise error
        return "done"

    result = retry_busy(
        flaky, attempts=6, first_delay_seconds=0.1, max_delay_seconds=0.5, sleep=pauses.append
    )
    assert result == "done"
    assert pauses == [0.1, 0.2, 0.4, 0.5]

    def broken() -> str:
        raise sqlite3.OperationalError("no such table: patterns")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        retry_busy(
            broken, attempts=6, first_delay_seconds=0.1, max_delay_seconds=0.5, sleep=pauses.append
        )
    assert len(pauses) == 4, "other errors are not retried"
