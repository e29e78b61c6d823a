"""The `mzt` command line: what users get back, on good and on bad input.

Every failure is one line on stderr starting `mzt: error:`, a non-zero exit, and the file
involved left byte for byte as it was.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mzt_tui.cli import run
from mzt_tui.models import EventType, ProcessEvent
from mzt_tui.store import SCHEMA_VERSION, MonitorStore
from tests.conftest import read_only
from tests.store.factories import process, snapshot


def fingerprint(path: Path) -> tuple[str, int]:
    if path.is_dir():
        return ("dir", path.stat().st_mtime_ns)
    return (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("mzt: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def recorded_db(tmp_path: Path) -> Path:
    """A monitor.db with two jobs' processes over the last minute, and events."""
    path = tmp_path / "monitor.db"
    now = time.time()
    with MonitorStore(path) as store:
        for offset in (50.0, 30.0, 10.0):
            store.write_snapshot(
                snapshot(
                    now - offset,
                    (
                        process(100, job_id="alpha", sheet_num=1, rss_mb=300.0 + offset),
                        process(200, job_id="beta", sheet_num=2, rss_mb=900.0),
                    ),
                )
            )
        store.write_event(
            ProcessEvent(timestamp=now - 20.0, pid=100, event_type=EventType.SPAWN, job_id="alpha")
        )
        store.write_event(
            ProcessEvent(
                timestamp=now - 5.0,
                pid=200,
                event_type=EventType.KILL,
                signal_num=9,
                job_id="beta",
                sheet_num=2,
            )
        )
    return path


def test_history_json_has_the_conductors_shape(
    recorded_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["top", "--history", "5m", "--json", "--db", str(recorded_db)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {
        "duration_seconds",
        "snapshot_count",
        "event_count",
        "snapshots",
        "events",
    }
    assert document["duration_seconds"] == 300.0
    assert document["snapshot_count"] == 3 == len(document["snapshots"])
    assert document["event_count"] == 2
    timestamps = [s["timestamp"] for s in document["snapshots"]]
    assert timestamps == sorted(timestamps)
    assert {p["job_id"] for p in document["snapshots"][0]["processes"]} == {"alpha", "beta"}


def test_history_score_keeps_only_that_job(
    recorded_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["top", "--history", "1h", "--json", "-s", "beta", "--db", str(recorded_db)]) == 0
    document = json.loads(capsys.readouterr().out)
    jobs = {p["job_id"] for s in document["snapshots"] for p in s["processes"]}
    assert jobs == {"beta"}
    assert [e["event_type"] for e in document["events"]] == ["kill"]


def test_history_window_leaves_older_snapshots_out(
    recorded_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["top", "--history", "40s", "--json", "--db", str(recorded_db)]) == 0
    assert json.loads(capsys.readouterr().out)["snapshot_count"] == 2


def test_diagnose_reports_a_jobs_resources(
    recorded_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["diagnose", "alpha", "--resources", "--db", str(recorded_db)]) == 0
    report = capsys.readouterr().out
    assert report.startswith("Resource Profile for job 'alpha':")
    assert "Peak memory: 350.0 MB" in report
    assert run(["diagnose", "beta", "--resources", "--json", "--db", str(recorded_db)]) == 0
    profile = json.loads(capsys.readouterr().out)
    assert profile["peak_rss_mb"] == 900.0
    assert profile["job_id"] == "beta"


@pytest.mark.parametrize(
    "argv",
    [
        ["diagnose", "no-such-job", "--resources"],
        ["top", "--history", "1h", "--json", "-s", "no-such-job"],
    ],
)
def test_a_job_with_no_data(
    recorded_db: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    before = fingerprint(recorded_db)
    assert run([*argv, "--db", str(recorded_db)]) == 1
    captured = capsys.readouterr()
    assert "no-such-job" in one_error_line(captured.err)
    assert captured.out == ""
    assert fingerprint(recorded_db) == before


@pytest.mark.parametrize("duration", ["5x", "", "0", "-1h", "1.5h"])
def test_a_bad_duration(
    recorded_db: Path, duration: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["top", "--history", duration, "--json", "--db", str(recorded_db)]) == 2
    assert "invalid duration" in one_error_line(capsys.readouterr().err)


def _corrupt(path: Path) -> None:
    # A valid header over fixed junk (random junk could now and then pass as a database).
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 16)


def _not_sqlite(path: Path) -> None:
    path.write_text("this is a text file, not a database\n")


def _directory(path: Path) -> None:
    path.mkdir()


def _newer(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE snapshots (id INTEGER PRIMARY KEY, timestamp REAL NOT NULL)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()


BAD_FILES = {"corrupt": _corrupt, "not-sqlite": _not_sqlite, "directory": _directory}
COMMANDS = {
    "history": ["top", "--history", "1h", "--json"],
    "diagnose": ["diagnose", "alpha", "--resources"],
    "headless": ["top", "--headless", "--once"],
}


@pytest.mark.parametrize("make_bad", [*BAD_FILES.values(), _newer], ids=[*BAD_FILES, "newer"])
@pytest.mark.parametrize("command", COMMANDS.values(), ids=list(COMMANDS))
def test_bad_database_files(
    tmp_path: Path,
    make_bad: object,
    command: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "monitor.db"
    assert callable(make_bad)
    make_bad(path)
    before = fingerprint(path)
    home = tmp_path / "home"
    code = run([*command, "--db", str(path), "--marianne-home", str(home)])
    captured = capsys.readouterr()
    assert code == 1
    line = one_error_line(captured.err)
    assert str(path) in line
    assert fingerprint(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["monitor.db"]


def test_a_missing_database_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "monitor.db"
    assert run(["top", "--history", "1h", "--json", "--db", str(path)]) == 1
    assert "no monitor database" in one_error_line(capsys.readouterr().err)
    assert not path.exists()


@pytest.fixture
def read_only_db(recorded_db: Path) -> Iterator[Path]:
    """The recorded database made unwritable (immutable when running as root)."""
    with read_only(recorded_db):
        yield recorded_db


def test_a_read_only_database(
    read_only_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = fingerprint(read_only_db)
    # Reading works ...
    assert run(["top", "--history", "1h", "--json", "--db", str(read_only_db)]) == 0
    assert json.loads(capsys.readouterr().out)["snapshot_count"] == 3
    # ... recording is refused in one line, before any tick.
    home = tmp_path / "home"
    code = run(
        ["top", "--headless", "--once", "--db", str(read_only_db), "--marianne-home", str(home)]
    )
    assert code == 1
    assert "read-only" in one_error_line(capsys.readouterr().err)
    assert fingerprint(read_only_db) == before


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["top", "--interval", "0", "--once"], "--interval"),
        (["top", "--interval", "nan", "--once"], "--interval"),
        (["top", "--bogus"], "--bogus"),
        (["nope"], "nope"),
        (["diagnose"], "job"),
        (["demo", "--speed", "0"], "--speed"),
    ],
)
def test_bad_flags_are_one_line_usage_errors(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(argv) == 2
    assert needle in one_error_line(capsys.readouterr().err)


def test_headless_once_records_a_readable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    assert run(["top", "--headless", "--once", "--marianne-home", str(home)]) == 0
    db = home / "monitor.db"
    assert (db.stat().st_mode & 0o777) == 0o600
    assert ((home / "monitor.jsonl").stat().st_mode & 0o777) == 0o600
    with MonitorStore(db, readonly=True) as store:
        assert store.count_snapshots() == 1
    line = (home / "monitor.jsonl").read_text().splitlines()
    assert len(line) == 1
    assert json.loads(line[0])["processes"] == []  # no conductor: nothing attributed


def test_json_once_streams_one_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["top", "--json", "--once", "--marianne-home", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["system_memory_total_mb"] > 0
    assert not (tmp_path / "monitor.db").exists()  # streaming records nothing


def test_the_installed_entry_points(tmp_path: Path) -> None:
    scripts = Path(sys.executable).parent
    for name, argv in (("mzt", ["top", "--help"]), ("mzt-top", ["--help"])):
        result = subprocess.run(
            [str(scripts / name), *argv], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert "--history" in result.stdout
        assert "--marianne-home" in result.stdout
    bad = subprocess.run(
        [str(scripts / "mzt-top"), "--history", "later", "--json", "--db", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    one_error_line(bad.stderr)
