"""Bad input everywhere at once: the recorder and the readers skip or repair, never crash."""

from __future__ import annotations

import io
import json
import math
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.cli import run
from mzt_tui.headless.engine import TickResult
from mzt_tui.headless.recorder import Recorder
from mzt_tui.marianne.learning import LearningStore
from mzt_tui.models import Anomaly, AnomalyType, ConductorStatus
from mzt_tui.store import MonitorStore
from tests.reliability.helpers import figure, integrity
from tests.store.factories import BASE_TIME, process, snapshot

pytestmark = pytest.mark.slow

BAD_BYTES = b"\xff\xfe-not-utf8-\xc3\x28"
LONG_ARGUMENT = "y" * 100_000


@pytest.fixture
def odd_processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """A process with non-UTF-8 bytes in its command line, one with a 100 KB command line."""
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    children = [
        subprocess.Popen([*(a.encode() for a in sleeper), BAD_BYTES]),
        subprocess.Popen([*sleeper, LONG_ARGUMENT]),
    ]
    time.sleep(0.3)
    yield children
    for child in children:
        child.kill()
        child.wait()


def _hostile_home(upstream_copy: Path) -> Path:
    """The conductor's files, each spoiled the way a bad day would."""
    (upstream_copy / "registry.db").rename(upstream_copy / "daemon-state.db")
    (upstream_copy / "learning.db").rename(upstream_copy / "global-learning.db")
    registry = sqlite3.connect(upstream_copy / "daemon-state.db")
    with registry:
        registry.execute(
            "UPDATE jobs SET checkpoint_json = '{not json' WHERE job_id = 'beta-build'"
        )
        # The running rows name a live conductor (this process): the PID file is junk.
        registry.execute("UPDATE jobs SET pid = ? WHERE status = 'running'", (os.getpid(),))
    registry.close()
    learning = sqlite3.connect(upstream_copy / "global-learning.db")
    with learning:
        learning.execute("UPDATE schema_version SET version = 99")
    learning.close()
    monitor = sqlite3.connect(upstream_copy / "monitor.db")
    with monitor:
        cursor = monitor.execute(
            "INSERT INTO snapshots (timestamp, daemon_pid, system_memory_total_mb, load_avg_1,"
            " gpu_count, gpu_utilization_pct, gpu_memory_used_mb, gpu_temperature)"
            " VALUES (?, -5, 'lots', -1.0, 2, '[150, -3]', 'not json', '{')",
            (time.time() - 30,),
        )
        monitor.execute(
            "INSERT INTO process_metrics (snapshot_id, pid, command, state, cpu_percent, rss_mb,"
            " vms_mb, threads, open_fds, job_id, syscall_counts, syscall_time_pct)"
            " VALUES (?, 99, ?, 'S', ?, -3.5, 1e999, -2, -1, 'beta-build', '{bad', '[1]')",
            (cursor.lastrowid, "z" * 100_000, math.nan),
        )
        monitor.execute(
            "INSERT INTO process_events (timestamp, pid, event_type, details)"
            " VALUES (?, -1, 'exploded', 'not json')",
            (time.time() - 20,),
        )
    monitor.close()
    (upstream_copy / "marianne.pid").write_bytes(b"\x00garbage 12ab\n")
    return upstream_copy


def test_a_hostile_home_is_recorded_and_read(
    upstream_copy: Path,
    odd_processes: list[subprocess.Popen[bytes]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = _hostile_home(upstream_copy)
    learning_before = (home / "global-learning.db").read_bytes()
    code = run(
        [
            "top",
            "--headless",
            "--once",
            "--record-system",
            "--marianne-home",
            str(home),
            "--pid-file",
            str(home / "marianne.pid"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Traceback" not in err
    assert f"conductor {os.getpid()}" in err  # found through the registry, past the junk
    assert "job beta-build: checkpoint skipped (" in err  # said, and the job still recorded
    assert (home / "global-learning.db").read_bytes() == learning_before  # newer schema: untouched
    assert integrity(home / "monitor.db") == "ok"
    with MonitorStore(home / "monitor.db", readonly=True) as store:
        snapshots = store.read_snapshots(0.0, limit=100_000)
        events = store.read_events(0.0, limit=100_000)
        report = store.generate_resource_report("beta-build")
    ours = snapshots[-1]
    by_pid = {p.pid: p for p in ours.processes}
    odd, long = (by_pid[child.pid] for child in odd_processes)
    assert "\ufffd" in odd.command or "\\x" in odd.command or "-not-utf8-" in odd.command
    assert len(long.command) <= 500
    foreign = next(s for s in snapshots if s.daemon_pid == 0 and s.processes)
    (row,) = foreign.processes
    assert row.cpu_percent == 0.0 and row.rss_mb == 0.0 and len(row.command) <= 500
    assert all(e.pid >= 0 for e in events)
    assert "beta-build" in report
    # The CLI's history reader says nothing but JSON on stdout, exits 0, and says on stderr,
    # in one line, what it repaired and skipped in the rows the recorder did not write.
    assert run(["top", "--history", "10m", "--json", "--marianne-home", str(home)]) == 0
    history = capsys.readouterr()
    document = json.loads(history.out)
    assert any(s["daemon_pid"] == 0 and s["processes"] for s in document["snapshots"])
    (warning,) = history.err.strip().splitlines()
    assert warning.startswith("mzt: warning: monitor.db: repaired "), warning
    assert "in rows another writer stored (" in warning
    assert warning.endswith("; skipped 1 row (process_events.event_type 1 unknown)"), warning
    figure("bad input", f"hostile home recorded and read back; status said: {err.strip()!r}")
    figure("bad input", f"the history reader said: {warning!r}")


@pytest.mark.parametrize("damage", ["corrupt", "truncated", "zeroed"])
def test_a_damaged_monitor_db_is_one_line_and_left_alone(
    upstream_copy: Path, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = upstream_copy / "monitor.db"
    data = db.read_bytes()
    if damage == "corrupt":
        data = data[:100] + bytes(range(256)) * ((len(data) - 100) // 256 + 1)
    elif damage == "truncated":
        data = data[: len(data) // 3]
    else:
        data = b"\x00" * len(data)
    db.write_bytes(data)
    for argv in (
        ["top", "--headless", "--once", "--db", str(db), "--marianne-home", str(upstream_copy)],
        ["top", "--history", "1h", "--json", "--db", str(db)],
        ["diagnose", "beta-build", "--resources", "--db", str(db)],
    ):
        code = run(argv)
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        if code != 0:
            assert len(lines) == 1 and lines[0].startswith("mzt: error: "), err
        assert "Traceback" not in err
    assert db.read_bytes() == data  # never "repaired" by overwriting what was there


def test_a_newer_learning_store_is_said_and_left_alone(upstream_copy: Path) -> None:
    path = upstream_copy / "learning.db"
    learning = sqlite3.connect(path)
    with learning:
        learning.execute("UPDATE schema_version SET version = 99")
    learning.close()
    before = path.read_bytes()
    store = MonitorStore(upstream_copy / "fresh-monitor.db")
    status = io.StringIO()
    recorder = Recorder(store=store, learning=LearningStore(path), status_out=status)
    shot = snapshot(BASE_TIME, (process(6002, job_id="beta-build", sheet_num=3),))
    spike = Anomaly(
        anomaly_type=AnomalyType.ZOMBIE,
        severity="high",
        started_at=BASE_TIME,
        pid=6002,
        description="PID 6002 is a zombie",
    )
    recorder.handle(
        TickResult(
            snapshot=shot,
            all_processes=shot.processes,
            events=(),
            anomalies=AnomalyChanges(opened=(spike,)),
            jobs=(),
            conductor=ConductorStatus(pid=4242, source="pid_file"),
            gpu_reason="no GPU",
        )
    )
    recorder.finish(AnomalyChanges())
    store.close()
    said = status.getvalue()
    assert "anomaly pattern not recorded" in said and "schema version 99" in said
    assert path.read_bytes() == before
    with MonitorStore(upstream_copy / "fresh-monitor.db", readonly=True) as reader:
        assert len(reader.read_anomalies(0.0)) == 1  # monitor.db still has it
