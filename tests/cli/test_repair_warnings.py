"""CLI readers say on stderr what they repaired in rows another writer stored; stdout stays data."""

from __future__ import annotations

import json
import math
import sqlite3
import time
from pathlib import Path

import pytest

from mzt_tui.cli import run
from mzt_tui.store import MonitorStore
from tests.store.factories import (
    CONDUCTOR_PROCESS,
    CONDUCTOR_SNAPSHOT,
    insert_row,
    process,
    snapshot,
)

WARNING = (
    "mzt: warning: monitor.db: repaired 2 values in rows another writer stored"
    " (process_metrics.cpu_percent 1 NaN or missing, process_metrics.rss_mb 1 negative)"
)


@pytest.fixture
def spoiled_db(tmp_path: Path) -> Path:
    """Our recording of job alpha, plus one snapshot another writer stored with a bad row."""
    path = tmp_path / "monitor.db"
    now = time.time()
    with MonitorStore(path) as store:
        store.write_snapshot(snapshot(now - 50.0, (process(100, job_id="alpha"),)))
    conn = sqlite3.connect(path)
    with conn:
        snapshot_id = insert_row(conn, "snapshots", {**CONDUCTOR_SNAPSHOT, "timestamp": now - 30})
        insert_row(
            conn,
            "process_metrics",
            {
                **CONDUCTOR_PROCESS,
                "snapshot_id": snapshot_id,
                "job_id": "alpha",
                "cpu_percent": math.nan,
                "rss_mb": -3.5,
            },
        )
    conn.close()
    return path


def test_history_json_warns_on_stderr_and_keeps_stdout_json(
    spoiled_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["top", "--history", "5m", "--json", "--db", str(spoiled_db)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["snapshot_count"] == 2
    assert captured.err.strip().splitlines() == [WARNING]


def test_dump_warns_once_whatever_the_format(
    spoiled_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for output in ("json", "openmetrics"):
        assert run(["dump", "--since", "5m", "-O", output, "--db", str(spoiled_db)]) == 0
        captured = capsys.readouterr()
        assert "mzt: warning" not in captured.out
        assert captured.err.strip().splitlines() == [WARNING]


def test_dump_of_fields_without_repairs_says_nothing(
    spoiled_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["dump", "--since", "5m", "--fields", "pid,open_fds", "--db", str(spoiled_db)]
    assert run(argv) == 0
    assert capsys.readouterr().err == ""


def test_diagnose_warns_once_after_the_report(
    spoiled_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["diagnose", "alpha", "--resources", "--db", str(spoiled_db)]) == 0
    captured = capsys.readouterr()
    assert "alpha" in captured.out
    assert captured.err.strip().splitlines() == [WARNING]


def test_our_own_recording_reads_without_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "monitor.db"
    with MonitorStore(path) as store:
        store.write_snapshot(snapshot(time.time() - 10.0, (process(100, job_id="alpha"),)))
    assert run(["top", "--history", "5m", "--json", "--db", str(path)]) == 0
    assert run(["dump", "--since", "5m", "--db", str(path)]) == 0
    assert run(["diagnose", "alpha", "--resources", "--db", str(path)]) == 0
    assert capsys.readouterr().err == ""


def test_correlate_warns_on_stderr_after_its_report(
    spoiled_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    code = run(
        ["correlate", "--dry-run", "--json", "--db", str(spoiled_db), "--marianne-home", str(home)]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert report["repairs"] == WARNING.removeprefix("mzt: warning: ")
    assert captured.err.strip().splitlines() == [WARNING]


def test_summarizing_sheet_runs_notes_what_it_repaired(spoiled_db: Path) -> None:
    with MonitorStore(spoiled_db, readonly=True) as store:
        store.summarize_sheet_runs(None)
        repairs = store.take_repairs()
    assert repairs.count("process_metrics", "cpu_percent", "NaN or missing") == 1
    assert repairs.count("process_metrics", "rss_mb", "negative") == 1
    assert repairs.count("process_metrics", "command", "over 500 characters") == 0
