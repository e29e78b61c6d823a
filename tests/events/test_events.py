"""Lifecycle events from tick differences, and OOM only with evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mzt_tui.collect.events import EventTracker
from mzt_tui.collect.oom import OomWatcher, parse_kmsg_oom_pids
from mzt_tui.models import EventType, JobRecord, ProcessMetric, SheetState

CONDUCTOR = 4242


def root(pid: int = 500, sheet: int = 3, start: float = 10.0) -> ProcessMetric:
    return ProcessMetric(
        pid=pid, ppid=CONDUCTOR, job_id="beta", sheet_num=sheet, start_time=start, command="claude"
    )


def job_with_sheet(**sheet_fields: object) -> dict[str, JobRecord]:
    values: dict[str, object] = {
        "sheet_num": 3,
        "status": "failed",
        "started_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    values.update(sheet_fields)
    sheet = SheetState.model_validate(values)
    return {"beta": JobRecord(job_id="beta", status="running", sheets={3: sheet})}


def test_first_tick_learns_and_later_ticks_report_spawns() -> None:
    tracker = EventTracker()
    assert tracker.update(0.0, [root()], CONDUCTOR, {}) == []
    events = tracker.update(5.0, [root(), root(pid=501, start=4.0)], CONDUCTOR, {})
    assert [(e.event_type, e.pid, e.job_id, e.sheet_num) for e in events] == [
        (EventType.SPAWN, 501, "beta", 3)
    ]


def test_a_reused_pid_is_an_exit_and_a_spawn() -> None:
    tracker = EventTracker(pending_ticks=0)
    tracker.update(0.0, [root(pid=700, start=1.0)], None, {})
    events = tracker.update(5.0, [root(pid=700, start=2.0)], None, {})
    assert sorted(e.event_type for e in events) == [EventType.EXIT, EventType.SPAWN]


def test_sheet_root_exit_waits_for_the_registry_exit_code() -> None:
    tracker = EventTracker(pending_ticks=2)
    tracker.update(0.0, [root()], CONDUCTOR, {})
    running = job_with_sheet(status="in_progress")
    assert tracker.update(5.0, [], CONDUCTOR, running) == []
    events = tracker.update(10.0, [], CONDUCTOR, job_with_sheet(exit_code=2))
    assert len(events) == 1
    event = events[0]
    assert event.event_type == EventType.EXIT
    assert event.exit_code == 2
    assert event.timestamp == 5.0  # when it vanished, not when the record came
    assert event.details == "Sheet 3 failed"


def test_exit_by_signal_is_a_kill_or_a_signal() -> None:
    for signal_number, expected in ((9, EventType.KILL), (15, EventType.SIGNAL)):
        tracker = EventTracker()
        tracker.update(0.0, [root()], CONDUCTOR, {})
        events = tracker.update(5.0, [], CONDUCTOR, job_with_sheet(exit_signal=signal_number))
        assert [(e.event_type, e.signal_num) for e in events] == [(expected, signal_number)]


def test_without_a_record_the_exit_goes_out_after_waiting() -> None:
    tracker = EventTracker(pending_ticks=1)
    tracker.update(0.0, [root()], CONDUCTOR, {})
    assert tracker.update(5.0, [], CONDUCTOR, {}) == []
    events = tracker.update(10.0, [], CONDUCTOR, {})
    assert [(e.event_type, e.exit_code) for e in events] == [(EventType.EXIT, None)]


def test_oom_only_with_evidence() -> None:
    evidence = {500: "Out of memory: Killed process 500 (python)"}
    tracker = EventTracker(oom_evidence=evidence.get)
    tracker.update(0.0, [root(), root(pid=501)], CONDUCTOR, {})
    events = tracker.update(5.0, [], CONDUCTOR, {})
    assert [(e.pid, e.event_type) for e in events] == [(500, EventType.OOM)]
    events += tracker.flush(CONDUCTOR, {})
    kinds = {e.pid: e.event_type for e in events}
    assert kinds == {500: EventType.OOM, 501: EventType.EXIT}


def test_kernel_log_records_are_parsed() -> None:
    records = [
        "6,1234,5678,-;Out of memory: Killed process 4321 (python) total-vm:100kB",
        "6,1235,5679,-;oom-kill:constraint=CONSTRAINT_MEMCG,task=node,pid=777,uid=0",
        "6,1236,5680,-;usb 1-1: new device",
    ]
    assert sorted(parse_kmsg_oom_pids(records)) == [777, 4321]


def test_cgroup_oom_kill_counter_is_evidence(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    cgroups = tmp_path / "cgroup"
    (proc / "42").mkdir(parents=True)
    (proc / "42" / "cgroup").write_text("0::/jobs/beta\n")
    (cgroups / "jobs" / "beta").mkdir(parents=True)
    events_file = cgroups / "jobs" / "beta" / "memory.events"
    events_file.write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    watcher = OomWatcher(kmsg_path=tmp_path / "no-kmsg", proc_root=proc, cgroup_root=cgroups)
    watcher.watch([42])
    assert watcher.reasons  # the missing kernel log is reported, not raised
    events_file.write_text("low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n")
    watcher.note_gone([42])
    evidence = watcher.evidence(42)
    assert evidence is not None
    assert "oom_kill 1 -> 2" in evidence
    assert watcher.evidence(42) is None


def test_unchanged_counter_is_not_evidence(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    (proc / "43").mkdir(parents=True)
    (proc / "43" / "cgroup").write_text("0::/\n")
    (tmp_path / "memory.events").write_text("oom_kill 5\n")
    watcher = OomWatcher(kmsg_path=tmp_path / "none", proc_root=proc, cgroup_root=tmp_path)
    watcher.watch([43])
    watcher.note_gone([43])
    assert watcher.evidence(43) is None
