"""`mzt top --headless --record-outcomes` over the demo: each finished sheet once in executions."""

from __future__ import annotations

import io
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

from mzt_tui.demo.runner import start_demo_background
from mzt_tui.headless.run import HeadlessOptions, run_headless
from mzt_tui.marianne.learning_hashes import hash_job
from mzt_tui.marianne.paths import MarianneHome, resolve_home
from mzt_tui.marianne.registry import RegistryReader
from mzt_tui.models import MonitorConfig


def _options(home: MarianneHome, *, once: bool) -> HeadlessOptions:
    return HeadlessOptions(
        home=home,
        db_path=home.monitor_db,
        config=MonitorConfig(interval_seconds=0.5),
        record=True,
        stream_json=False,
        once=once,
        record_outcomes=True,
    )


def test_every_finished_sheet_is_recorded_once(tmp_path: Path) -> None:
    demo = start_demo_background(tmp_path / "demo", seed=35, speed=10.0)
    home = resolve_home(demo.home, pid_file=demo.pid_file)
    stop = threading.Event()
    status = io.StringIO()
    recorder = threading.Thread(
        target=run_headless,
        args=(_options(home, once=False),),
        kwargs={"stop": stop, "stderr": status},
    )
    try:
        recorder.start()
        time.sleep(15.0)
    finally:
        stop.set()
        recorder.join(timeout=30)
        demo.stop()
    # A second recorder catches up with what ended since (the stopped demo cancels the rest),
    # and must not record anything twice.
    assert run_headless(_options(home, once=True), stderr=status) == 0
    assert run_headless(_options(home, once=True), stderr=status) == 0
    assert "warning" not in status.getvalue()

    finished = {
        (hash_job(job.job_id), sheet.sheet_num): sheet.status
        for job in RegistryReader(home.registry_db).list_jobs()
        for sheet in job.sheets.values()
        if sheet.finished
    }
    assert len(finished) >= 8
    assert {"completed", "failed"} <= set(finished.values())
    rows = (
        sqlite3.connect(home.learning_db)
        .execute("SELECT job_hash, sheet_num, status FROM executions")
        .fetchall()
    )
    counts = Counter((job_hash, sheet_num) for job_hash, sheet_num, _ in rows)
    assert set(counts) == set(finished)
    assert set(counts.values()) == {1}
    assert {(j, s): status for j, s, status in rows} == finished
