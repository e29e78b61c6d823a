"""Concurrency: our recorder, a conductor-style writer and three readers on one monitor.db."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mzt_tui.models.errors import MztError
from mzt_tui.store import MonitorStore
from tests.reliability.conductor_writer import DAEMON_PID, JOB
from tests.reliability.helpers import figure, integrity, scaled

pytestmark = pytest.mark.slow

INTERVAL = 1.0
"""The recorder's interval: no read may take longer than one."""
MZT = "import sys; from mzt_tui.cli import main; sys.argv[0] = 'mzt'; sys.exit(main())"


class Reader(threading.Thread):
    """Calls `read` in a loop until `stop`; keeps the slowest call and every error."""

    def __init__(self, read: Callable[[], object], stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.read = read
        self.stop = stop
        self.calls = 0
        self.slowest = 0.0
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self.read()
            except (MztError, OSError, ValueError) as error:
                self.errors.append(str(error))
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.calls += 1
            self.stop.wait(0.05)


def test_recorder_conductor_and_three_readers_for_two_minutes(tmp_path: Path) -> None:
    seconds = scaled(120.0)
    home = tmp_path / "home"
    db = home / "monitor.db"
    MonitorStore(db).__enter__().close()  # the file exists before anyone reads it
    recorder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            MZT,
            "top",
            "--headless",
            "--json",
            "--record-system",
            "--interval",
            str(INTERVAL),
            "--marianne-home",
            str(home),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    streamed: list[bytes] = []
    out_reader = threading.Thread(target=lambda: streamed.extend(recorder.stdout or ()))
    out_reader.start()
    live = subprocess.Popen(  # `mzt top --json`: the live stream beside it all
        [
            sys.executable,
            "-c",
            MZT,
            "top",
            "--json",
            "--interval",
            str(INTERVAL),
            "--marianne-home",
            str(home),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    live_lines: list[bytes] = []
    live_reader = threading.Thread(target=live_lines.extend, args=(live.stdout,))
    live_reader.start()
    conductor = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.conductor_writer", str(db), str(seconds), "0.2"],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stop = threading.Event()
    store = MonitorStore(db, readonly=True)
    latest = Reader(lambda: store.read_snapshots(time.time() - 60.0, limit=10), stop)
    history = Reader(
        lambda: (
            store.read_events(0.0, limit=500),
            store.read_anomalies(0.0),
            store.job_ids(),
            store.count_snapshots(),
        ),
        stop,
    )
    cli_runs: list[tuple[int, float, bytes]] = []

    def cli_history() -> None:
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                MZT,
                "top",
                "--history",
                "1m",
                "--json",
                "--marianne-home",
                str(home),
            ],
            capture_output=True,
            check=False,
        )
        json.loads(done.stdout)
        cli_runs.append((done.returncode, time.monotonic() - started, done.stderr))

    cli = Reader(cli_history, stop)
    readers = (latest, history, cli)
    for reader in readers:
        reader.start()
    summary = json.loads(conductor.communicate(timeout=seconds + 60)[0])
    stop.set()
    for reader in readers:
        reader.join(timeout=60)
    recorder.send_signal(signal.SIGTERM)
    recorder_err = recorder.communicate(timeout=60)[1]
    out_reader.join(timeout=10)
    live.send_signal(signal.SIGTERM)
    live_err = live.communicate(timeout=60)[1]
    live_reader.join(timeout=10)
    store.close()

    assert recorder.returncode == 0
    assert b"warning" not in recorder_err and b"Traceback" not in recorder_err, recorder_err
    assert summary["errors"] == []
    assert live.returncode == 0 and not live_err, live_err
    live_stamps = [json.loads(line)["timestamp"] for line in live_lines]
    assert len(live_stamps) >= seconds / INTERVAL / 2
    live_gap = max(b - a for a, b in itertools.pairwise(live_stamps))
    for reader in readers:
        assert reader.errors == []
        assert reader.calls > 0
    assert all(code == 0 and not err for code, _, err in cli_runs), cli_runs
    # No row lost: every row each writer committed is there, counted by writer.
    assert integrity(db) == "ok"
    with MonitorStore(db, readonly=True) as check:
        theirs = check.read_snapshots(0.0, limit=100_000)
        events = check.count_events(job_id=JOB)
    conductor_rows = [s for s in theirs if s.daemon_pid == DAEMON_PID]
    ours = [s for s in theirs if s.daemon_pid != DAEMON_PID]
    assert len(conductor_rows) == summary["ticks"]
    assert all(len(s.processes) == 5 for s in conductor_rows)
    assert events == summary["ticks"]
    assert [s.timestamp for s in ours] == [json.loads(line)["timestamp"] for line in streamed]
    # No reader waited longer than one interval (the CLI reader's time includes Python start).
    assert latest.slowest < INTERVAL
    assert history.slowest < INTERVAL
    figure(
        "concurrency",
        f"{seconds:.0f} s: recorder {len(ours)} ticks, conductor-style writer "
        f"{summary['ticks']} snapshots + {events} events, 0 errors, 0 rows lost; "
        f"reads {latest.calls} + {history.calls} + {len(cli_runs)} CLI, slowest "
        f"{latest.slowest * 1000:.0f} / {history.slowest * 1000:.0f} ms, CLI slowest "
        f"{max(t for _, t, _ in cli_runs):.2f} s (process start included); `mzt top --json` "
        f"{len(live_stamps)} lines, widest gap {live_gap:.1f} s",
    )
