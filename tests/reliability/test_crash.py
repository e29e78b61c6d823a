"""Crash: `kill -9` the recorder 20 times while it writes; the files stay whole and go on."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.reliability.helpers import figure, integrity

pytestmark = pytest.mark.slow

KILLS = 20
RECORD = "import sys; from mzt_tui.cli import main; sys.argv[0] = 'mzt'; sys.exit(main())"


def _stamps(db: Path) -> list[float]:
    import sqlite3

    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [float(r[0]) for r in conn.execute("SELECT timestamp FROM snapshots ORDER BY id")]
    finally:
        conn.close()


def test_kill_9_at_random_moments_loses_at_most_the_tick_in_flight(tmp_path: Path) -> None:
    home = tmp_path / "home"
    db = home / "monitor.db"
    chance = random.Random(8)
    recorded_before: list[float] = []
    lost_in_flight = 0
    for run in range(KILLS):
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                RECORD,
                "top",
                "--headless",
                "--json",
                "--record-system",
                "--interval",
                "0.05",
                "--marianne-home",
                str(home),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        streamed: list[bytes] = []
        assert child.stdout is not None
        reader = threading.Thread(target=streamed.extend, args=(child.stdout,))
        reader.start()
        deadline = time.monotonic() + 30.0
        while not streamed and time.monotonic() < deadline:
            time.sleep(0.01)
        assert streamed, f"run {run}: the recorder never wrote a tick"
        time.sleep(chance.uniform(0.0, 0.5))  # somewhere in a tick: sampling or writing
        child.send_signal(signal.SIGKILL)
        child.wait()
        reader.join()
        assert child.stderr is not None
        assert b"Traceback" not in child.stderr.read()
        child.stderr.close()
        assert integrity(db) == "ok", f"run {run}"
        stamps = _stamps(db)
        # The next start carried on in the same file: everything before is still there.
        assert stamps[: len(recorded_before)] == recorded_before
        new = stamps[len(recorded_before) :]
        # Every tick that reached stdout was committed first; at most the tick in flight
        # (committed, killed before it was streamed) is extra.
        seen = [json.loads(line)["timestamp"] for line in streamed if line.endswith(b"\n")]
        assert new[: len(seen)] == seen, f"run {run}"
        assert len(new) - len(seen) <= 1, f"run {run}"
        lost_in_flight += len(new) - len(seen)
        recorded_before = stamps
    jsonl = [json.loads(line) for line in (home / "monitor.jsonl").read_text().splitlines()]
    # No half line in the JSONL file either, and one line per committed tick at most.
    assert len(jsonl) <= len(recorded_before)
    assert len(jsonl) >= len(recorded_before) - KILLS
    figure(
        "crash",
        f"{KILLS} kill -9, integrity ok each time, {len(recorded_before)} ticks in one file, "
        f"{lost_in_flight} killed between commit and stdout, {len(jsonl)} JSONL lines whole",
    )
