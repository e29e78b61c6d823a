"""The recorder: anomalies into monitor.db and, once each, into the learning store."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.headless.engine import TickResult
from mzt_tui.headless.recorder import Recorder, anomaly_pattern_name
from mzt_tui.marianne.learning import LearningStore
from mzt_tui.models import Anomaly, AnomalyType, ConductorStatus, SystemSnapshot
from mzt_tui.store import MonitorStore
from tests.store.factories import BASE_TIME, process, snapshot

SPIKE = Anomaly(
    anomaly_type=AnomalyType.MEMORY_SPIKE,
    severity="critical",
    started_at=BASE_TIME + 5,
    pid=6002,
    job_id="beta-build",
    sheet_num=3,
    description="PID 6002 RSS grew 132% (900\u21922088 MB) in 30s",
)


def result(stamp: float, changes: AnomalyChanges) -> TickResult:
    shot: SystemSnapshot = snapshot(stamp, (process(6002, job_id="beta-build", sheet_num=3),))
    return TickResult(
        snapshot=shot,
        all_processes=shot.processes,
        events=(),
        anomalies=changes,
        jobs=(),
        conductor=ConductorStatus(pid=4242, source="pid_file"),
        gpu_reason="no GPU",
    )


def test_an_anomaly_is_stored_once_with_its_start_and_end(
    tmp_path: Path, upstream_copy: Path
) -> None:
    learning = LearningStore(upstream_copy / "learning.db")
    store = MonitorStore(tmp_path / "monitor.db", jsonl_path=tmp_path / "monitor.jsonl")
    status = io.StringIO()
    recorder = Recorder(store=store, learning=learning, status_out=status)
    before = {p.id: p.occurrence_count for p in learning.read_patterns("resource_anomaly")}

    recorder.handle(result(BASE_TIME + 5, AnomalyChanges(opened=(SPIKE,))))
    recorder.handle(result(BASE_TIME + 10, AnomalyChanges()))
    ended = SPIKE.model_copy(update={"ended_at": BASE_TIME + 15})
    recorder.handle(result(BASE_TIME + 15, AnomalyChanges(closed=(ended,))))
    recorder.finish(AnomalyChanges())
    store.close()

    with MonitorStore(tmp_path / "monitor.db", readonly=True) as reader:
        assert reader.count_snapshots() == 3
        anomalies = reader.read_anomalies(0.0)
    assert [(a.anomaly_type, a.started_at, a.ended_at) for a in anomalies] == [
        (AnomalyType.MEMORY_SPIKE, BASE_TIME + 5, BASE_TIME + 15)
    ]
    # The conductor's fixture already holds this very anomaly: our record updates its row.
    after = {p.id: p for p in learning.read_patterns("resource_anomaly")}
    assert set(after) == set(before)
    (pattern,) = [p for p in after.values() if p.pattern_name == anomaly_pattern_name(SPIKE)]
    assert pattern.occurrence_count == before[pattern.id] + 1
    assert set(pattern.context_tags) == {
        "anomaly_type:memory_spike",
        "severity:critical",
        "job:beta-build",
        "sheet:3",
        "pid:6002",
    }
    lines = (tmp_path / "monitor.jsonl").read_text().splitlines()
    assert len(lines) == 3
    assert all(json.loads(line)["processes"][0]["pid"] == 6002 for line in lines)


def test_anomalies_still_open_at_shutdown_are_closed(tmp_path: Path) -> None:
    store = MonitorStore(tmp_path / "monitor.db")
    recorder = Recorder(store=store)
    recorder.handle(result(BASE_TIME, AnomalyChanges(opened=(SPIKE,))))
    recorder.finish(AnomalyChanges(closed=(SPIKE.model_copy(update={"ended_at": BASE_TIME + 1}),)))
    store.close()
    rows = (
        sqlite3.connect(tmp_path / "monitor.db")
        .execute("SELECT ended_at FROM mzt_anomalies")
        .fetchall()
    )
    assert rows == [(BASE_TIME + 1,)]


def test_a_failing_store_warns_once_a_minute_and_keeps_going(tmp_path: Path) -> None:
    store = MonitorStore(tmp_path / "monitor.db")
    store.initialize()
    store.close()  # every later write raises StoreError
    status = io.StringIO()
    now = [BASE_TIME]
    recorder = Recorder(store=store, status_out=status, clock=lambda: now[0])
    for step in range(5):
        now[0] = BASE_TIME + step * 20
        recorder.handle(result(now[0], AnomalyChanges()))
    warnings = [line for line in status.getvalue().splitlines() if "warning" in line]
    assert len(warnings) == 2  # at 0 s and at 60 s, not once per tick
    assert all(line.startswith("mzt: warning: monitor.db not written:") for line in warnings)
