"""`run_correlation` on synthetic recordings: what it stores in a copy of the conductor's file."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from mzt_tui.analysis.correlation import backpressure_memory_estimate
from mzt_tui.headless.correlate import SOURCE_TAG, CorrelationReport, run_correlation
from mzt_tui.marianne.learning import LearningStore
from mzt_tui.marianne.learning_hashes import content_hash, pattern_id
from mzt_tui.marianne.paths import MarianneHome
from mzt_tui.models.config import CorrelationConfig
from mzt_tui.models.correlation import MEMORY_BIN_LABELS, RESOURCE_CORRELATION
from mzt_tui.models.errors import NoDataError
from tests.correlation_runs.builders import (
    MEMORY_FINDING,
    RUN_SPACING_SECONDS,
    PlannedRun,
    outcomes,
    planted_runs,
    record_runs,
    registry_for,
)
from tests.store.factories import raw_rows

CONFIG = CorrelationConfig()


@pytest.fixture
def home(upstream_copy: Path, tmp_path: Path) -> MarianneHome:
    """A Marianne home holding a copy of the conductor's learning store."""
    root = tmp_path / "home"
    root.mkdir()
    shutil.copy(upstream_copy / "learning.db", root / "global-learning.db")
    return MarianneHome(root=root, pid_file=root / "marianne.pid")


def planted(home: MarianneHome, *, high: int = 15, low: int = 45) -> list[PlannedRun]:
    """Record runs with a planted effect: 1.1 GB runs fail 80 %, 200 MB runs 10 %."""
    runs = planted_runs(outcomes(high * 4 // 5, high), outcomes(low // 10, low))
    record_runs(home.monitor_db, runs)
    registry_for(home.registry_db, runs)
    return runs


def now_after(runs: list[PlannedRun]) -> float:
    return max(run.start for run in runs) + 2 * RUN_SPACING_SECONDS


def pattern_rows(home: MarianneHome) -> list[dict[str, object]]:
    conn = sqlite3.connect(f"{home.learning_db.as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute("SELECT * FROM patterns ORDER BY rowid")]
    finally:
        conn.close()


def ours(home: MarianneHome) -> list[dict[str, object]]:
    return [row for row in pattern_rows(home) if SOURCE_TAG in str(row["context_tags"])]


def by_name(home: MarianneHome, name: str) -> dict[str, object]:
    (row,) = [row for row in pattern_rows(home) if row["pattern_name"] == name]
    return row


def test_a_planted_memory_effect_is_stored_as_the_conductor_stores_patterns(
    home: MarianneHome,
) -> None:
    # GIVEN 60 recorded runs where 1.1 GB runs fail 80 % and the others 10 %
    runs = planted(home)
    conductor_rows = pattern_rows(home)
    # WHEN correlated
    report = run_correlation(home, home.monitor_db, CONFIG, now=now_after(runs))
    # THEN every run was summarised and had its outcome from the registry
    assert report.summaries_rebuilt == 60 and report.runs_used == 60
    assert report.runs_without_outcome == 0
    assert report.outcome_sources["registry"] == 60
    assert report.skipped_reason is None and report.error is None
    finding = next(f for f in report.findings if f.name == MEMORY_FINDING)
    assert (finding.group_size, finding.total_size) == (15, 60)
    assert finding.failure_rate == pytest.approx(12 / 15)
    assert finding.q_value < 0.05 and finding.confidence == pytest.approx(1 - finding.q_value)
    # AND it is a new row beside the conductor's rows, which are untouched
    rows = pattern_rows(home)
    assert rows[: len(conductor_rows)] == conductor_rows
    assert report.patterns_written == len(rows) - len(conductor_rows) == len(report.findings)
    row = by_name(home, MEMORY_FINDING)
    assert_follows_the_schema(row)
    tags = json.loads(str(row["context_tags"]))
    assert "memory_bin:1-2GB" in tags and SOURCE_TAG in tags
    assert "failure_rate:0.80" in tags and "sample_size:15" in tags
    assert str(row["description"]).startswith("Sheets with peak RSS 1-2GB failed 80% of the time")
    # AND the conductor's back-pressure rule reads it as a high-risk bin
    stored = LearningStore(home.learning_db).read_patterns(RESOURCE_CORRELATION)
    flagged = {flag.label for flag in backpressure_memory_estimate(stored)}
    assert "1-2GB" in flagged


def assert_follows_the_schema(row: dict[str, object]) -> None:
    """Every rule SCHEMA.md gives for a `patterns` row the conductor will read."""
    assert row["pattern_type"] == RESOURCE_CORRELATION
    name = str(row["pattern_name"])
    assert row["id"] == pattern_id(RESOURCE_CORRELATION, name)
    assert row["content_hash"] == content_hash(RESOURCE_CORRELATION, name, str(row["description"]))
    assert not re.search(r"\d+%|n=|q[<=]", name), "the name carries no changing figures"
    for column in ("first_seen", "last_seen", "last_confirmed", "trust_calculation_date"):
        assert isinstance(row[column], str), column
        datetime.fromisoformat(str(row[column]))
    tags = json.loads(str(row["context_tags"]))
    assert isinstance(tags, list) and tags
    assert all(isinstance(tag, str) and re.fullmatch(r"[a-z_]+:\S.*", tag) for tag in tags)
    bins = [tag.removeprefix("memory_bin:") for tag in tags if tag.startswith("memory_bin:")]
    assert all(label in MEMORY_BIN_LABELS for label in bins)
    if bins:
        assert "RSS" in str(row["description"]) or "memory" in str(row["description"])
    assert row["quarantine_status"] == "pending"
    assert row["active"] == 1
    assert 0.0 <= float(str(row["effectiveness_score"])) <= 1.0
    assert 0.0 <= float(str(row["trust_score"])) <= 1.0
    assert row["suggested_action"]


def test_a_rerun_on_the_same_data_adds_no_rows_and_changed_data_updates_the_description(
    home: MarianneHome,
) -> None:
    runs = planted(home)
    first = run_correlation(home, home.monitor_db, CONFIG, now=now_after(runs))
    rows_after_first = len(pattern_rows(home))
    before = by_name(home, MEMORY_FINDING)
    # WHEN run again on the same data
    again = run_correlation(home, home.monitor_db, CONFIG, now=now_after(runs))
    # THEN the same rows are updated, none added
    assert len(pattern_rows(home)) == rows_after_first
    assert (again.patterns_written, again.patterns_updated) == (0, len(first.findings))
    same = by_name(home, MEMORY_FINDING)
    assert same["description"] == before["description"] and same["occurrence_count"] == 2
    # WHEN more runs are recorded (30 more 200 MB runs, 3 of them failed)
    more = planted_runs(
        [],
        outcomes(3, 30),
        first_start=max(run.start for run in runs) + RUN_SPACING_SECONDS,
    )
    more = [
        PlannedRun(run.job_id, run.sheet_num + 100, run.pid + 1000, run.start, 200.0, run.failed)
        for run in more
    ]
    record_runs(home.monitor_db, more)
    registry_for(home.registry_db, runs + more)
    changed = run_correlation(home, home.monitor_db, CONFIG, now=now_after(more))
    # THEN the same row now states the new figures
    assert changed.runs_used == 90
    updated = by_name(home, MEMORY_FINDING)
    assert updated["id"] == before["id"]
    assert updated["description"] != before["description"] and "n=15 of 90" in str(
        updated["description"]
    )
    assert updated["content_hash"] != before["content_hash"]
    assert changed.patterns_updated >= 1


def test_a_pattern_that_no_longer_holds_is_marked_inactive_not_deleted(
    home: MarianneHome,
) -> None:
    runs = planted(home)
    run_correlation(home, home.monitor_db, CONFIG, now=now_after(runs))
    stored = {str(row["id"]) for row in ours(home)}
    assert stored
    # WHEN the registry now says every 10th run failed, whatever its memory
    registry_for(home.registry_db, runs, failed=outcomes(6, 60))
    report = run_correlation(home, home.monitor_db, CONFIG, now=now_after(runs))
    # THEN nothing holds any more: our rows stay, inactive; the conductor's stay active
    assert report.findings == () and report.tests_run > 0
    assert report.patterns_deactivated == len(stored)
    rows = {str(row["id"]): row for row in pattern_rows(home)}
    assert stored <= set(rows)
    assert all(rows[pattern]["active"] == 0 for pattern in stored)
    assert all(row["active"] == 1 for pattern, row in rows.items() if pattern not in stored), (
        "patterns without our source tag are never deactivated"
    )
    # AND when the effect returns, the same rows become active again
    registry_for(home.registry_db, runs)
    back = run_correlation(home, home.monitor_db, CONFIG, now=now_after(runs))
    assert back.patterns_written == 0
    assert by_name(home, MEMORY_FINDING)["active"] == 1


def test_too_few_runs_store_nothing(home: MarianneHome) -> None:
    runs = planted_runs([True, False], [False, True])
    record_runs(home.monitor_db, runs)
    registry_for(home.registry_db, runs)
    before = pattern_rows(home)
    report = run_correlation(home, home.monitor_db, CONFIG, now=now_after(runs))
    assert report.runs_used == 4 and report.findings == ()
    assert report.skipped_reason == "4 sheet runs with a known outcome; at least 5 needed"
    assert (report.patterns_written, report.patterns_updated, report.patterns_deactivated) == (
        0,
        0,
        0,
    )
    assert pattern_rows(home) == before


def test_a_dry_run_stores_nothing_anywhere(home: MarianneHome) -> None:
    runs = planted(home)
    before = pattern_rows(home)
    monitor_bytes = home.monitor_db.read_bytes()
    report = run_correlation(home, home.monitor_db, CONFIG, dry_run=True, now=now_after(runs))
    # It found and counted what it would store ...
    assert report.dry_run and MEMORY_FINDING in {f.name for f in report.findings}
    assert report.patterns_written == len(report.findings) and report.summaries_rebuilt == 0
    # ... and stored nothing: no pattern, no summary row.
    assert pattern_rows(home) == before
    assert raw_rows(home.monitor_db, "SELECT COUNT(*) FROM mzt_sheet_runs") == [(0,)]
    assert home.monitor_db.read_bytes() == monitor_bytes


def test_runs_without_a_known_outcome_are_left_out_and_counted(home: MarianneHome) -> None:
    runs = planted(home)
    # The registry forgets job synth-2: its 20 runs have no outcome anywhere.
    registry_for(home.registry_db, [run for run in runs if run.job_id != "synth-2"])
    report = run_correlation(home, home.monitor_db, CONFIG, now=now_after(runs))
    assert (report.runs_total, report.runs_used, report.runs_without_outcome) == (60, 40, 20)


def test_runs_older_than_the_lookback_are_left_out(home: MarianneHome) -> None:
    runs = planted(home)
    later = now_after(runs) + CONFIG.lookback_days * 86_400.0
    report = run_correlation(home, home.monitor_db, CONFIG, now=later)
    assert report.runs_total == 0 and report.skipped_reason is not None


@pytest.fixture
def locked_learning(home: MarianneHome) -> Iterator[sqlite3.Connection]:
    """The learning store in WAL mode (as the conductor keeps it), held by another writer."""
    LearningStore(home.learning_db).ensure_schema()  # switches the copy to WAL
    conn = sqlite3.connect(home.learning_db, isolation_level=None, timeout=0.1)
    conn.execute("BEGIN IMMEDIATE")
    yield conn
    conn.execute("ROLLBACK")
    conn.close()


def test_a_locked_learning_store_is_one_line_error_and_nothing_is_lost(
    home: MarianneHome, locked_learning: sqlite3.Connection
) -> None:
    runs = planted(home)
    impatient = LearningStore(
        home.learning_db,
        busy_timeout_seconds=0.05,
        write_attempts=2,
        first_retry_delay_seconds=0.01,
    )
    report = run_correlation(home, home.monitor_db, CONFIG, now=now_after(runs), learning=impatient)
    # The findings are reported, the error is one line, the summaries are in monitor.db.
    assert MEMORY_FINDING in {f.name for f in report.findings}
    assert report.error is not None and "\n" not in report.error
    assert "learning store" in report.error
    assert raw_rows(home.monitor_db, "SELECT COUNT(*) FROM mzt_sheet_runs") == [(60,)]
    # Once the lock is gone, a re-run stores the patterns.
    locked_learning.execute("ROLLBACK")
    locked_learning.execute("BEGIN")
    retried = run_correlation(home, home.monitor_db, CONFIG, now=now_after(runs))
    assert retried.error is None
    assert by_name(home, MEMORY_FINDING)["active"] == 1


def test_without_a_monitor_database_it_says_so(home: MarianneHome) -> None:
    with pytest.raises(NoDataError, match="no monitor database"):
        run_correlation(home, home.monitor_db, CONFIG)
    assert not home.monitor_db.exists()


def test_the_report_serialises_to_json(home: MarianneHome) -> None:
    runs = planted(home)
    report = run_correlation(home, home.monitor_db, CONFIG, dry_run=True, now=now_after(runs))
    parsed = CorrelationReport.model_validate_json(report.model_dump_json())
    assert parsed == report
