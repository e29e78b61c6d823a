"""Headless recording: ticks into monitor.db and monitor.jsonl, NDJSON to stdout, a status line.

`Recorder.handle` is the `emit` of the tick loop: it runs in the collection thread, writes
one transaction per tick, and never raises into the loop for a failure it can report
(a full disk, a locked file): it says so on the status stream, at most once a minute per kind
of failure, and keeps sampling. While monitor.db cannot be written, each tick's writes (its
snapshot, events, anomaly changes and ended sheet runs) wait in a bounded backlog and are
written in order, each row once, when writes succeed again.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO, TypeVar

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.headless.backlog import DEFAULT_BACKLOG_TICKS, Backlog
from mzt_tui.headless.engine import TickResult
from mzt_tui.headless.pending import (
    CloseAnomaly,
    OpenAnomaly,
    PendingWrites,
    RowCounts,
    WriteEvents,
    WriteSheetRuns,
    WriteSnapshot,
    WriteStep,
)
from mzt_tui.marianne.learning import LearningStore
from mzt_tui.models import Anomaly, RetentionConfig, SystemSnapshot
from mzt_tui.models.errors import MissingRowError, MztError
from mzt_tui.store import MonitorStore
from mzt_tui.store.sheet_runs import SheetRunTracker, tick_from_snapshot

T = TypeVar("T")

RESOURCE_ANOMALY = "resource_anomaly"
_REPEAT_WARNING_SECONDS = 60.0
_CLEANUP_EVERY_SECONDS = 300.0
_STATUS_EVERY_SECONDS_NOT_TTY = 60.0


def anomaly_pattern_name(anomaly: Anomaly) -> str:
    """The conductor's pattern name for an anomaly: `[type] description[:100]`."""
    return f"[{anomaly.anomaly_type.value}] {anomaly.description[:100]}"


def anomaly_pattern_tags(anomaly: Anomaly) -> list[str]:
    """The conductor's tags for an anomaly pattern."""
    tags = [f"anomaly_type:{anomaly.anomaly_type.value}", f"severity:{anomaly.severity}"]
    if anomaly.job_id is not None:
        tags.append(f"job:{anomaly.job_id}")
    if anomaly.sheet_num is not None:
        tags.append(f"sheet:{anomaly.sheet_num}")
    if anomaly.pid is not None:
        tags.append(f"pid:{anomaly.pid}")
    return tags


@dataclass
class Recorder:
    """Takes each tick's result to the store, the JSONL file, stdout and the status line.

    Args:
        store: monitor.db (with its JSONL file), or None to record nothing.
        learning: global-learning.db for anomaly patterns, or None.
        ndjson_out: Where to stream one JSON snapshot per line (`--json`), or None.
        score: Keep only this job's processes in what is streamed.
        status_out: Where the one-line status goes (stderr), or None.
        status_is_tty: Rewrite the status in place instead of printing a line a minute.
        retention: The clean-up policy run every few minutes in its own thread.
        backlog_ticks: While writes fail (a full disk), how many of the newest ticks are
            kept in memory (each with its events, anomaly changes and ended sheet runs) and
            retried each tick; older ones are dropped and counted.
    """

    store: MonitorStore | None = None
    learning: LearningStore | None = None
    ndjson_out: TextIO | None = None
    score: str | None = None
    status_out: TextIO | None = None
    status_is_tty: bool = False
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    clock: Callable[[], float] = time.time
    ticks_recorded: int = 0
    events_recorded: int = 0
    correlations_run: int = 0
    """Periodic correlation analyses finished (counted by the headless runner)."""
    backlog_ticks: int = DEFAULT_BACKLOG_TICKS
    _db_backlog: Backlog[PendingWrites] = field(init=False)
    _db_dropped: RowCounts = field(default_factory=RowCounts)
    """What the ticks dropped from `_db_backlog` held (since it last emptied)."""
    _jsonl_backlog: Backlog[SystemSnapshot] = field(init=False)
    _anomaly_ids: dict[tuple[str, float, int | None, str], int] = field(default_factory=dict)
    _warned_at: dict[str, float] = field(default_factory=dict)
    _last_status_at: float = 0.0
    _last_cleanup_at: float = 0.0
    _cleanup_thread: threading.Thread | None = None
    _sheet_runs: SheetRunTracker = field(default_factory=SheetRunTracker)

    def __post_init__(self) -> None:
        self._db_backlog = Backlog(self.backlog_ticks)
        self._jsonl_backlog = Backlog(self.backlog_ticks)
        self._last_cleanup_at = self.clock()  # the first clean-up a few minutes in

    @property
    def ticks_waiting(self) -> int:
        """Ticks held in memory because monitor.db could not be written."""
        return len(self._db_backlog)

    @property
    def ticks_dropped(self) -> int:
        """Ticks dropped from the full backlog while monitor.db could not be written."""
        return self._db_backlog.dropped

    def handle(self, result: TickResult) -> None:
        """Record one tick (the tick loop's `emit`)."""
        snapshot = result.snapshot
        if self.store is not None:
            self._write(result)
        if self.ndjson_out is not None:
            self._stream(self.ndjson_out, snapshot)
        for note in result.notes:
            self.warn(note, note)
        self._status(result)
        self._maybe_cleanup()

    def _stream(self, out: TextIO, snapshot: SystemSnapshot) -> None:
        """One NDJSON line; a failing stdout (a full disk) ends streaming, never recording.

        Raises:
            BrokenPipeError: The reader closed the pipe (`| head`): the CLI ends quietly.
            MztError: stdout cannot be written and nothing is being recorded.
        """
        streamed = snapshot.only_job(self.score) if self.score else snapshot
        line = json.dumps(streamed.model_dump(mode="json"), separators=(",", ":")) + "\n"
        try:
            out.write(line)
            out.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            reason = error.strerror or str(error)
            if self.store is None:
                raise MztError(f"cannot write to stdout: {reason}") from error
            self.ndjson_out = None
            self._say(f"mzt: warning: stdout cannot be written ({reason}); recording goes on")

    def finish(self, closing: AnomalyChanges) -> None:
        """Close the anomalies still open, write what is held, wait for a running clean-up.

        What still cannot be written is said in one line with its counts. The status line
        is ended last.
        """
        if self.store is not None:
            self._write_at_exit(closing)
        if self._cleanup_thread is not None:
            self._cleanup_thread.join()
        if self.status_out is not None and self.status_is_tty:
            self.status_out.write("\n")
            self.status_out.flush()

    def _write(self, result: TickResult) -> None:
        store = self.store
        assert store is not None
        changes = result.anomalies
        for anomaly in changes.opened:
            self._record_pattern(anomaly)
        # Each sheet attempt is summarised once it ends (`rebuild_sheet_runs` redoes it).
        ended = self._sheet_runs.observe(tick_from_snapshot(result.snapshot))
        self._hold(
            PendingWrites.of_tick(
                result.snapshot,
                result.events,
                changes.opened,
                [self._closing(anomaly) for anomaly in changes.closed],
                ended,
            )
        )
        self._drain("store", "monitor.db", self._db_backlog, self._write_pending)
        self._jsonl_backlog.add(result.snapshot)
        self._drain("jsonl", "JSONL", self._jsonl_backlog, store.append_jsonl)

    def _hold(self, pending: PendingWrites) -> None:
        """Queue a tick's writes, counting what the ticks dropped beyond the bound held."""
        for lost in self._db_backlog.add(pending):
            self._db_dropped += lost.counts()

    def _closing(self, anomaly: Anomaly) -> CloseAnomaly:
        ended_at = anomaly.ended_at if anomaly.ended_at is not None else self.clock()
        return CloseAnomaly(anomaly, ended_at)

    def _write_at_exit(self, closing: AnomalyChanges) -> None:
        """Close the open anomalies after the held writes; say in one line what is lost."""
        store = self.store
        assert store is not None
        closings = [self._closing(anomaly) for anomaly in closing.closed]
        newest = self._db_backlog.newest
        if newest is not None:
            newest.steps.extend(closings)
        elif closings:
            self._hold(PendingWrites(deque[WriteStep](closings)))
        lost: list[str] = []
        error = self._flush("monitor.db", self._db_backlog, self._write_pending)
        if error is not None:
            held = sum((pending.counts() for pending in self._db_backlog), RowCounts())
            lost.append(f"{held.in_words()} to monitor.db ({error})")
        error = self._flush("JSONL", self._jsonl_backlog, store.append_jsonl)
        if error is not None:
            lines = len(self._jsonl_backlog)
            lost.append(f"{lines} line{'' if lines == 1 else 's'} to JSONL ({error})")
        if lost:
            self._say(f"mzt: warning: not written at exit, lost: {'; '.join(lost)}")

    def _write_pending(self, pending: PendingWrites) -> None:
        """Write the steps in order, each taken off only once written (a retry never repeats)."""
        while pending.steps:
            self._write_step(pending.steps[0])
            pending.steps.popleft()

    def _write_step(self, step: WriteStep) -> None:
        store = self.store
        assert store is not None
        match step:
            case WriteSnapshot(snapshot=snapshot):
                store.write_snapshot(snapshot)
                self.ticks_recorded += 1
            case WriteEvents(events=events):
                store.write_events(events)
                self.events_recorded += len(events)
            case OpenAnomaly(anomaly=anomaly):
                self._anomaly_ids[_anomaly_key(anomaly)] = store.write_anomaly(anomaly)
            case CloseAnomaly(anomaly=anomaly, ended_at=ended_at):
                self._end_anomaly(anomaly, ended_at)
            case WriteSheetRuns(runs=runs):
                store.write_sheet_runs(runs)

    def _end_anomaly(self, anomaly: Anomaly, ended_at: float) -> None:
        store = self.store
        assert store is not None
        key = _anomaly_key(anomaly)
        anomaly_id = self._anomaly_ids.get(key)
        if anomaly_id is None:
            return  # its opening was never written (dropped from a full backlog)
        try:
            store.end_anomaly(anomaly_id, ended_at)
        except MissingRowError as error:  # deleted meanwhile: retrying would never succeed
            self.warn("anomalies", f"anomaly not closed: {error}")
        del self._anomaly_ids[key]

    def _drain(self, kind: str, what: str, backlog: Backlog[T], write: Callable[[T], None]) -> None:
        """Write what waits in `backlog`; on failure keep it, and say so once a minute."""
        error = self._flush(what, backlog, write)
        if error is not None:
            self.warn(
                kind,
                f"{what} not written: {error}; keeping the newest {len(backlog)} ticks in"
                f" memory (at most {backlog.limit}); dropped so far: {self._dropped(backlog)};"
                " retrying each tick",
            )

    def _flush(self, what: str, backlog: Backlog[T], write: Callable[[T], None]) -> MztError | None:
        """Write what waits in `backlog` and say when held ticks are written again.

        Returns:
            The error that stopped the writing (what is left stays held), or None.
        """
        held_before = len(backlog) > 1 or backlog.dropped > 0
        dropped = self._dropped(backlog)
        try:
            written = backlog.flush(write)
        except MztError as error:
            return error
        if held_before:
            self._say(
                f"mzt: {what} written again: {written} held ticks written;"
                f" dropped while it could not be written: {dropped}"
            )
        backlog.dropped = 0
        if backlog is self._db_backlog:
            self._db_dropped = RowCounts()
        return None

    def _dropped(self, backlog: Backlog[T]) -> str:
        """What `backlog` dropped: for monitor.db every row the dropped ticks held."""
        if backlog is self._db_backlog:
            return self._db_dropped.in_words() or "nothing"
        return RowCounts(ticks=backlog.dropped).in_words() or "nothing"

    def _record_pattern(self, anomaly: Anomaly) -> None:
        if self.learning is None:
            return
        try:
            self.learning.record_pattern(
                RESOURCE_ANOMALY,
                anomaly_pattern_name(anomaly),
                anomaly.description,
                context_tags=anomaly_pattern_tags(anomaly),
            )
        except MztError as error:
            self.warn("learning", f"anomaly pattern not recorded: {error}")

    def warn(self, kind: str, message: str) -> None:
        """Say `message` on the status stream, at most once a minute per `kind`."""
        now = self.clock()
        if now - self._warned_at.get(kind, -_REPEAT_WARNING_SECONDS) < _REPEAT_WARNING_SECONDS:
            return
        self._warned_at[kind] = now
        self._say(f"mzt: warning: {message}")

    def _say(self, line: str) -> None:
        if self.status_out is not None:
            prefix = "\n" if self.status_is_tty else ""
            self.status_out.write(f"{prefix}{line}\n")
            self.status_out.flush()

    def _status(self, result: TickResult) -> None:
        if self.status_out is None:
            return
        now = self.clock()
        if not self.status_is_tty and now - self._last_status_at < _STATUS_EVERY_SECONDS_NOT_TTY:
            return
        self._last_status_at = now
        line = status_line(result.snapshot, self.ticks_recorded, self.events_recorded)
        if self.status_is_tty:
            self.status_out.write(f"\r\x1b[2K{line}")
        else:
            self.status_out.write(f"{line}\n")
        self.status_out.flush()

    def _maybe_cleanup(self) -> None:
        store = self.store
        if store is None or self.clock() - self._last_cleanup_at < _CLEANUP_EVERY_SECONDS:
            return
        if self._cleanup_thread is not None and self._cleanup_thread.is_alive():
            return
        self._last_cleanup_at = self.clock()

        def cleanup() -> None:
            try:
                store.cleanup(self.retention, now=self.clock())
            except MztError as error:
                self.warn("cleanup", f"clean-up failed: {error}")

        self._cleanup_thread = threading.Thread(target=cleanup, name="mzt-cleanup", daemon=True)
        self._cleanup_thread.start()


def status_line(snapshot: SystemSnapshot, ticks: int, events: int) -> str:
    """One line: what the last tick saw, what has been recorded, and how the ticks keep time."""
    jobs = snapshot.running_jobs
    job_processes = sum(1 for process in snapshot.processes if process.job_id is not None)
    conductor = f"conductor {snapshot.daemon_pid}" if snapshot.daemon_pid else "no conductor"
    return (
        f"mzt top: {time.strftime('%H:%M:%S', time.localtime(snapshot.timestamp))} "
        f"{conductor}, {jobs} jobs, {snapshot.active_sheets} sheets, "
        f"{job_processes} job processes, {len(snapshot.gpus)} GPUs; "
        f"recorded {ticks} ticks, {events} events; "
        f"monitor {snapshot.monitor.cpu_percent:.1f}% CPU {snapshot.monitor.rss_mb:.0f} MB, "
        f"tick {snapshot.monitor.tick_seconds * 1000:.0f} ms, {snapshot.monitor.late_ticks} late"
    )


def _anomaly_key(anomaly: Anomaly) -> tuple[str, float, int | None, str]:
    return (anomaly.anomaly_type.value, anomaly.started_at, anomaly.pid, anomaly.description)
