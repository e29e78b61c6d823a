"""A full disk holds each tick's anomaly changes and ended sheet runs too, and writes each once."""

from __future__ import annotations

import io
import sqlite3
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.headless.engine import TickResult
from mzt_tui.headless.recorder import Recorder
from mzt_tui.models import Anomaly, ConductorStatus, ProcessEvent, ProcessMetric, SystemSnapshot
from mzt_tui.models.errors import StoreError
from mzt_tui.models.events import EventType
from mzt_tui.models.sheet_runs import SheetRunSummary
from mzt_tui.store import MonitorStore
from tests.store.factories import BASE_TIME, anomaly, event, process, raw_rows, snapshot

ROOT = process(5001, job_id="job-a", sheet_num=1, start_time=BASE_TIME - 60).model_copy(
    update={"ppid": 4242}
)
"""The root of sheet 1 of job-a: a child of the conductor (PID 4242)."""


class FlakyDisk(MonitorStore):
    """A real store whose writes fail as on a full disk: all of them, or chosen calls.

    Attributes:
        full: Every write fails while set.
        fail_calls: Per method, the numbers (from 1) of the calls that fail once.
        written: Per method, how many calls succeeded.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path, jsonl_path=path.with_suffix(".jsonl"))
        self.full = False
        self.fail_calls: dict[str, set[int]] = {}
        self.calls: Counter[str] = Counter()
        self.written: Counter[str] = Counter()

    def _attempt(self, method: str) -> None:
        self.calls[method] += 1
        if self.full or self.calls[method] in self.fail_calls.get(method, set()):
            raise StoreError(f"{self.db_path}: writing failed: database or disk is full")

    def write_snapshot(self, snapshot: SystemSnapshot) -> int:
        self._attempt("write_snapshot")
        row_id = super().write_snapshot(snapshot)
        self.written["write_snapshot"] += 1
        return row_id

    def write_events(self, events: Iterable[ProcessEvent]) -> int:
        self._attempt("write_events")
        count = super().write_events(events)
        self.written["write_events"] += 1
        return count

    def write_anomaly(self, anomaly: Anomaly) -> int:
        self._attempt("write_anomaly")
        row_id = super().write_anomaly(anomaly)
        self.written["write_anomaly"] += 1
        return row_id

    def end_anomaly(self, anomaly_id: int, ended_at: float) -> None:
        self._attempt("end_anomaly")
        super().end_anomaly(anomaly_id, ended_at)
        self.written["end_anomaly"] += 1

    def write_sheet_runs(self, summaries: Iterable[SheetRunSummary]) -> int:
        self._attempt("write_sheet_runs")
        count = super().write_sheet_runs(summaries)
        self.written["write_sheet_runs"] += 1
        return count

    def append_jsonl(self, snapshot: SystemSnapshot) -> None:
        if self.full:
            raise StoreError("cannot append to monitor.jsonl: No space left on device")
        super().append_jsonl(snapshot)


def spike(started_at: float, pid: int = 5001, ended_at: float | None = None) -> Anomaly:
    """A memory spike of job-a's sheet 1 on `pid`."""
    return anomaly(started_at, ended_at).model_copy(
        update={"pid": pid, "description": f"PID {pid} RSS grew 1.8x in 30 s"}
    )


def tick(
    stamp: float,
    *,
    opened: tuple[Anomaly, ...] = (),
    closed: tuple[Anomaly, ...] = (),
    events: tuple[ProcessEvent, ...] = (),
    root: bool = False,
) -> TickResult:
    """A tick at `stamp`, with the sheet's root process when `root`."""
    processes: tuple[ProcessMetric, ...] = (ROOT,) if root else ()
    shot = snapshot(stamp, processes)
    return TickResult(
        snapshot=shot,
        all_processes=shot.processes,
        events=events,
        anomalies=AnomalyChanges(opened=opened, closed=closed),
        jobs=(),
        conductor=ConductorStatus(pid=4242, source="pid_file"),
        gpu_reason="no GPU",
    )


class Run:
    """A recorder on a `FlakyDisk` with a clock that each tick sets."""

    def __init__(self, tmp_path: Path, backlog_ticks: int = 360) -> None:
        self.db = tmp_path / "monitor.db"
        self.store = FlakyDisk(self.db)
        self.status = io.StringIO()
        self.now = BASE_TIME
        self.recorder = Recorder(
            store=self.store,
            status_out=self.status,
            clock=lambda: self.now,
            backlog_ticks=backlog_ticks,
        )

    def handle(self, result: TickResult) -> None:
        """Record `result` at its own time."""
        self.now = result.snapshot.timestamp
        self.recorder.handle(result)

    def said(self) -> list[str]:
        """The status lines so far."""
        return self.status.getvalue().splitlines()

    def anomalies(self) -> list[tuple[object, ...]]:
        """(pid, started_at, ended_at) of every anomaly row, in id order."""
        return raw_rows(self.db, "SELECT pid, started_at, ended_at FROM mzt_anomalies ORDER BY id")


def test_anomalies_opened_and_closed_while_full_land_once_with_their_times(
    tmp_path: Path,
) -> None:
    run = Run(tmp_path)
    # GIVEN an anomaly open before the disk fills up
    run.handle(tick(BASE_TIME, opened=(spike(BASE_TIME, pid=7001),)))
    run.store.full = True
    # WHEN, while nothing can be written, one anomaly opens and closes, another opens,
    # the first one's close has no end time (the recorder's clock gives it), and the
    # anomaly from before closes
    run.handle(tick(BASE_TIME + 1, opened=(spike(BASE_TIME + 1, pid=7002),)))
    run.handle(tick(BASE_TIME + 2, opened=(spike(BASE_TIME + 2, pid=7003),)))
    run.handle(
        tick(BASE_TIME + 3, closed=(spike(BASE_TIME + 1, pid=7002, ended_at=BASE_TIME + 3),))
    )
    run.handle(tick(BASE_TIME + 4, closed=(spike(BASE_TIME, pid=7001),)))
    assert run.anomalies() == [(7001, BASE_TIME, None)]
    run.store.full = False
    run.handle(tick(BASE_TIME + 5))
    run.handle(
        tick(BASE_TIME + 6, closed=(spike(BASE_TIME + 2, pid=7003, ended_at=BASE_TIME + 6),))
    )
    # THEN each is in monitor.db once, with the times of the ticks that saw it open and close
    assert run.anomalies() == [
        (7001, BASE_TIME, BASE_TIME + 4),
        (7002, BASE_TIME + 1, BASE_TIME + 3),
        (7003, BASE_TIME + 2, BASE_TIME + 6),
    ]
    assert run.store.written["write_anomaly"] == 3
    assert run.store.written["end_anomaly"] == 3
    assert run.recorder.ticks_waiting == 0
    assert (
        "mzt: monitor.db written again: 5 held ticks written; dropped while it could not be"
        " written: nothing"
    ) in run.said()


def test_a_sheet_run_that_ended_while_full_is_written_once_with_its_anomaly(
    tmp_path: Path,
) -> None:
    run = Run(tmp_path)
    run.handle(tick(BASE_TIME, root=True))
    run.store.full = True
    # The run's root has a memory spike and then goes, all while the disk is full.
    run.handle(tick(BASE_TIME + 1, root=True, opened=(spike(BASE_TIME + 1),)))
    run.handle(
        tick(BASE_TIME + 2, root=True, closed=(spike(BASE_TIME + 1, ended_at=BASE_TIME + 2),))
    )
    run.handle(tick(BASE_TIME + 3))
    assert raw_rows(run.db, "SELECT COUNT(*) FROM mzt_sheet_runs") == [(0,)]
    run.store.full = False
    run.handle(tick(BASE_TIME + 4))
    run.handle(tick(BASE_TIME + 5))
    rows = raw_rows(
        run.db,
        "SELECT job_id, sheet_num, root_pid, first_seen, ended_at, samples, anomaly_types"
        " FROM mzt_sheet_runs",
    )
    # Written after the anomaly it overlaps, so the anomaly is attached to it.
    assert rows == [("job-a", 1, 5001, BASE_TIME, BASE_TIME + 2, 3, '["memory_spike"]')]
    assert run.store.written["write_sheet_runs"] == 1


def test_a_write_failing_midway_through_a_tick_is_retried_from_there(tmp_path: Path) -> None:
    run = Run(tmp_path)
    # GIVEN the second of three anomaly writes of one tick fails, once
    run.store.fail_calls = {"write_anomaly": {2}}
    opened = tuple(spike(BASE_TIME, pid=pid) for pid in (7001, 7002, 7003))
    exits = (event(BASE_TIME, EventType.EXIT, pid=7009, exit_code=1),)
    # WHEN the tick is recorded, then the next one
    run.handle(tick(BASE_TIME, opened=opened, events=exits))
    assert run.anomalies() == [(7001, BASE_TIME, None)]
    assert run.recorder.ticks_waiting == 1
    run.handle(tick(BASE_TIME + 1, closed=(spike(BASE_TIME, pid=7002, ended_at=BASE_TIME + 1),)))
    # THEN only what had not been written is written: no row twice
    assert run.anomalies() == [
        (7001, BASE_TIME, None),
        (7002, BASE_TIME, BASE_TIME + 1),
        (7003, BASE_TIME, None),
    ]
    assert run.store.written == Counter(
        write_snapshot=2, write_events=1, write_anomaly=3, end_anomaly=1
    )
    assert raw_rows(run.db, "SELECT COUNT(*) FROM snapshots") == [(2,)]
    assert raw_rows(run.db, "SELECT pid FROM process_events") == [(7009,)]


def test_the_bound_drops_whole_ticks_counts_what_they_held_and_skips_their_closes(
    tmp_path: Path,
) -> None:
    run = Run(tmp_path, backlog_ticks=3)
    run.store.full = True
    # GIVEN the first two ticks, each opening an anomaly, are dropped beyond a bound of three
    # (the tick at which space returns counts among the three)
    run.handle(tick(BASE_TIME, opened=(spike(BASE_TIME, pid=7001),)))
    run.handle(
        tick(
            BASE_TIME + 1,
            opened=(spike(BASE_TIME + 1, pid=7002),),
            events=(event(BASE_TIME + 1, EventType.SPAWN, pid=7002),),
        )
    )
    run.handle(tick(BASE_TIME + 2, opened=(spike(BASE_TIME + 2, pid=7003),)))
    run.handle(tick(BASE_TIME + 3, closed=(spike(BASE_TIME, pid=7001, ended_at=BASE_TIME + 3),)))
    assert run.recorder.ticks_dropped == 1
    # WHEN space returns and the anomaly whose opening was dropped closes again at exit
    run.store.full = False
    run.handle(tick(BASE_TIME + 4))
    run.recorder.finish(AnomalyChanges(closed=(spike(BASE_TIME + 2, pid=7003),)))
    # THEN the held ticks are written, the dropped ones are said with what they held,
    # and the close of a dropped opening changes nothing
    assert raw_rows(run.db, "SELECT timestamp FROM snapshots") == [
        (BASE_TIME + 2,),
        (BASE_TIME + 3,),
        (BASE_TIME + 4,),
    ]
    assert run.anomalies() == [(7003, BASE_TIME + 2, BASE_TIME + 4)]
    assert raw_rows(run.db, "SELECT COUNT(*) FROM process_events") == [(0,)]
    said = run.said()
    assert (
        "mzt: warning: monitor.db not written: " + str(run.db) + ": writing failed: database or"
        " disk is full; keeping the newest 1 ticks in memory (at most 3); dropped so far:"
        " nothing; retrying each tick"
    ) in said
    assert (
        "mzt: monitor.db written again: 3 held ticks written; dropped while it could not be"
        " written: 2 ticks, 1 event and 2 anomaly openings"
    ) in said


def test_what_cannot_be_written_at_exit_is_said_in_one_line(tmp_path: Path) -> None:
    run = Run(tmp_path)
    run.handle(tick(BASE_TIME, opened=(spike(BASE_TIME, pid=7001),)))
    run.store.full = True
    run.handle(tick(BASE_TIME + 1, opened=(spike(BASE_TIME + 1, pid=7002),)))
    run.handle(tick(BASE_TIME + 2, events=(event(BASE_TIME + 2, EventType.EXIT, pid=7009),)))
    before = len(run.said())
    run.recorder.finish(
        AnomalyChanges(closed=(spike(BASE_TIME, pid=7001), spike(BASE_TIME + 1, pid=7002)))
    )
    assert run.said()[before:] == [
        "mzt: warning: not written at exit, lost: 2 ticks, 1 event, 1 anomaly opening and"
        f" 2 anomaly closings to monitor.db ({run.db}: writing failed: database or disk is"
        " full); 2 lines to JSONL (cannot append to monitor.jsonl: No space left on device)"
    ]
    assert run.anomalies() == [(7001, BASE_TIME, None)]


def test_closes_at_exit_follow_the_held_ticks_when_space_has_returned(tmp_path: Path) -> None:
    run = Run(tmp_path)
    run.store.full = True
    run.handle(tick(BASE_TIME, opened=(spike(BASE_TIME, pid=7001),)))
    run.handle(tick(BASE_TIME + 1))
    run.store.full = False
    run.now = BASE_TIME + 2
    run.recorder.finish(AnomalyChanges(closed=(spike(BASE_TIME, pid=7001),)))
    assert run.anomalies() == [(7001, BASE_TIME, BASE_TIME + 2)]
    assert raw_rows(run.db, "SELECT COUNT(*) FROM snapshots") == [(2,)]
    assert not [line for line in run.said() if "lost" in line]
    jsonl = (tmp_path / "monitor.jsonl").read_text().splitlines()
    assert len(jsonl) == 2  # the JSONL lines held are written at exit too


def test_an_anomaly_row_deleted_meanwhile_does_not_hold_up_later_writes(tmp_path: Path) -> None:
    run = Run(tmp_path)
    run.handle(tick(BASE_TIME, opened=(spike(BASE_TIME, pid=7001),)))
    conn = sqlite3.connect(run.db)
    with conn:
        conn.execute("DELETE FROM mzt_anomalies")
    conn.close()
    run.handle(tick(BASE_TIME + 1, closed=(spike(BASE_TIME, pid=7001, ended_at=BASE_TIME + 1),)))
    run.handle(tick(BASE_TIME + 2))
    assert run.recorder.ticks_waiting == 0
    assert raw_rows(run.db, "SELECT COUNT(*) FROM snapshots") == [(3,)]
    assert [line for line in run.said() if "anomaly not closed" in line] == [
        f"mzt: warning: anomaly not closed: {run.db}: no anomaly with id 1"
    ]
