"""The demo records its own sheets' outcomes and recoveries, so `mzt learning` has data."""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from mzt_tui.cli import run
from mzt_tui.demo.runner import start_demo_background


def test_mzt_learning_on_the_demo_home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = start_demo_background(tmp_path / "demo", seed=35, speed=10.0)
    try:
        time.sleep(25.0)
    finally:
        demo.stop()
    assert run(["learning", "--json", "--marianne-home", str(demo.home)]) == 0
    document = json.loads(capsys.readouterr().out)
    stats = document["stats"]
    assert stats["total_executions"] >= 10
    assert stats["total_error_recoveries"] >= 3
    window = document["optimal_window"]
    assert window["sample_count"] == stats["total_error_recoveries"]
    assert window["confidence"] > 0
    # Whether this hour is optimal, to avoid or neither depends on how the retries went.
    assert set(window["optimal_hours"]) | set(window["avoid_hours"]) <= {
        time.localtime().tm_hour,
        (time.localtime().tm_hour - 1) % 24,
    }
    assert document["wait_times"]
    assert all(entry["delay_seconds"] > 0 for entry in document["wait_times"].values())
    assert document["recent"]
    # Each sheet's final outcome is recorded once, never twice.
    rows = (
        sqlite3.connect(demo.home / "global-learning.db")
        .execute("SELECT job_hash, sheet_num FROM executions")
        .fetchall()
    )
    assert set(Counter(rows).values()) == {1}
    # And the text report shows the same store.
    assert run(["learning", "--marianne-home", str(demo.home)]) == 0
    assert "Statistics" in capsys.readouterr().out
