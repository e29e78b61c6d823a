"""The timeline's history: colours by kind, anomalies keep their line when they close."""

from __future__ import annotations

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.models import EventType, ProcessEvent
from mzt_tui.ui.timeline_log import TimelineLog, event_entry
from tests.ui.factories import NOW, busy_anomalies, busy_events


def test_styles_follow_the_kind_and_exit_code() -> None:
    styles = {(entry.kind, entry.pid): entry.style for entry in map(event_entry, busy_events())}
    assert styles[("spawn", 1102)] == "bright_black"
    assert styles[("exit", 1010)] == "green"
    assert styles[("exit", 1050)] == "red"
    assert styles[("kill", 1150)] == "red"
    assert styles[("oom", 1160)] == "bold red"


def test_entries_come_newest_first() -> None:
    log = TimelineLog()
    log.record(busy_events(), busy_anomalies())
    times = [entry.timestamp for entry in log.newest_first()]
    assert times == sorted(times, reverse=True)
    assert len(log) == 7


def test_a_closed_anomaly_replaces_its_open_line() -> None:
    log = TimelineLog()
    opened = busy_anomalies().opened[0]
    log.record((), AnomalyChanges(opened=(opened,)))
    closed = opened.model_copy(update={"ended_at": NOW + 30.0})
    log.record((), AnomalyChanges(closed=(closed,)))
    (entry,) = log.newest_first()
    assert entry.text.endswith("(ended)")
    assert entry.style == "bright_black"
    assert entry.timestamp == opened.started_at


def test_the_oldest_entries_go_first_beyond_the_limit() -> None:
    log = TimelineLog(max_entries=3)
    events = tuple(
        ProcessEvent(timestamp=NOW + n, pid=100 + n, event_type=EventType.SPAWN) for n in range(5)
    )
    log.record(events, AnomalyChanges())
    assert [entry.pid for entry in log.newest_first()] == [104, 103, 102]


def test_score_keeps_that_jobs_entries_only() -> None:
    log = TimelineLog(score="lint-repo")
    log.record(busy_events(), busy_anomalies())
    assert {entry.job_id for entry in log.newest_first()} == {"lint-repo"}
