"""`MonitorStore`: monitor.db and monitor.jsonl behind one synchronous, thread-safe API.

The tick loop calls it from a thread (never from the event loop). One long-lived writer
connection, guarded by a lock, runs one short transaction per snapshot; readers use
their own read-only connections from a small pool, one read transaction per call.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType

from mzt_tui.models.config import RetentionConfig
from mzt_tui.models.errors import MissingRowError, StoreError
from mzt_tui.models.events import Anomaly, ProcessEvent
from mzt_tui.models.process import ProcessMetric, SystemSnapshot
from mzt_tui.models.report import CleanupResult, JobMinute, JobResourceProfile, SystemMinute
from mzt_tui.models.sheet_runs import SheetRunSummary
from mzt_tui.store import dump, history, reader, sheet_runs, times
from mzt_tui.store.collector import collector_paused
from mzt_tui.store.database import Database
from mzt_tui.store.downsample import Downsampler
from mzt_tui.store.jsonl import JsonlAppender
from mzt_tui.store.profile import read_job_resource_profile
from mzt_tui.store.repairs import ReadRepairs, RepairLog
from mzt_tui.store.report import format_resource_report
from mzt_tui.store.retention import run_cleanup
from mzt_tui.store.text import ModelT, without_surrogates
from mzt_tui.store.writer import (
    INSERT_ANOMALY,
    INSERT_EVENT,
    anomaly_row,
    event_row,
    insert_snapshot,
)

DEFAULT_JSONL_MAX_BYTES = 52_428_800
REPORT_EVENT_LIMIT = 10_000


class MonitorStore:
    """Reads and writes monitor.db (and optionally monitor.jsonl) as the conductor does, and more.

    Every method is synchronous and safe to call from several threads. Methods initialise
    the store on first use; call `initialize()` to surface a bad file early.
    """

    def __init__(
        self,
        db_path: Path | str,
        *,
        jsonl_path: Path | str | None = None,
        jsonl_max_bytes: int = DEFAULT_JSONL_MAX_BYTES,
        readonly: bool = False,
    ) -> None:
        """Remember the files; nothing is opened until `initialize()` or first use.

        Args:
            db_path: monitor.db (created with mode 0600 when missing, unless `readonly`).
            jsonl_path: monitor.jsonl for `append_jsonl`, or None for no NDJSON file.
            jsonl_max_bytes: The size at which monitor.jsonl is rotated to `.1`, `.2`.
            readonly: Open with `mode=ro`: never create, migrate or write anything.
        """
        self._db_path = Path(db_path).expanduser()
        self._readonly = readonly
        self._jsonl = (
            JsonlAppender(Path(jsonl_path).expanduser(), jsonl_max_bytes) if jsonl_path else None
        )
        self._database = Database(self._db_path, readonly=readonly)
        self._repairs = RepairLog()
        self._downsampler = Downsampler(self._database.transaction)

    @property
    def db_path(self) -> Path:
        """The monitor.db path."""
        return self._db_path

    @property
    def readonly(self) -> bool:
        """Whether the store was opened read-only."""
        return self._readonly

    # -- life cycle -------------------------------------------------------------------------

    def initialize(self) -> None:
        """Open (and, for writing, create or upgrade) the database; idempotent.

        Raises:
            StoreError: The file cannot be used; the message is one line naming it.
            NewerSchemaError: The file was written by a newer mzt_tui.
        """
        self._database.open()

    def close(self) -> None:
        """Close every connection. Later calls raise StoreError."""
        self._database.close()

    def __enter__(self) -> MonitorStore:
        """Initialise and return the store."""
        self.initialize()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the store."""
        self.close()

    # -- writing ----------------------------------------------------------------------------

    def write_snapshot(self, snapshot: SystemSnapshot) -> int:
        """Write a snapshot, its processes and our extras in one transaction.

        Once ten closed minutes are waiting, they are then summarised into the 1-minute
        history, in their own transaction (about 0.6 µs per process row summarised).

        Returns:
            The new `snapshots.id`.
        """
        try:
            snapshot_id = self._insert_snapshot(snapshot)
        except UnicodeEncodeError:
            # A command line with undecodable bytes: write it with them replaced.
            snapshot_id = self._insert_snapshot(without_surrogates(snapshot))
        self._downsampler.after_write(snapshot.timestamp)
        return snapshot_id

    def _insert_snapshot(self, snapshot: SystemSnapshot) -> int:
        with self._database.transaction() as conn:
            return insert_snapshot(conn, snapshot)

    def write_event(self, event: ProcessEvent) -> int:
        """Write one lifecycle event; returns its row id."""
        return self._insert_one(INSERT_EVENT, event, event_row)

    def write_events(self, events: Iterable[ProcessEvent]) -> int:
        """Write several events in one transaction; returns how many."""
        batch = list(events)
        if batch:
            try:
                self._insert_events(batch)
            except UnicodeEncodeError:
                self._insert_events([without_surrogates(event) for event in batch])
        return len(batch)

    def _insert_events(self, events: list[ProcessEvent]) -> None:
        with self._database.transaction() as conn:
            conn.executemany(INSERT_EVENT, [event_row(event) for event in events])

    def write_anomaly(self, anomaly: Anomaly) -> int:
        """Write an anomaly (active while `ended_at` is None); returns its id for `end_anomaly`."""
        return self._insert_one(INSERT_ANOMALY, anomaly, anomaly_row)

    def _insert_one(
        self, statement: str, model: ModelT, to_row: Callable[[ModelT], tuple[object, ...]]
    ) -> int:
        try:
            return self._insert_row(statement, to_row(model))
        except UnicodeEncodeError:
            return self._insert_row(statement, to_row(without_surrogates(model)))

    def _insert_row(self, statement: str, row: tuple[object, ...]) -> int:
        with self._database.transaction() as conn:
            return int(conn.execute(statement, row).lastrowid or 0)

    def end_anomaly(self, anomaly_id: int, ended_at: float) -> None:
        """Record that anomaly `anomaly_id` stopped holding at `ended_at`.

        Raises:
            ValueError: `ended_at` is negative or not finite.
            MissingRowError: No anomaly has that id.
            StoreError: The database cannot be written.
        """
        if not (math.isfinite(ended_at) and ended_at >= 0):
            raise ValueError(f"ended_at must be a non-negative time, not {ended_at!r}")
        with self._database.transaction() as conn:
            updated = conn.execute(
                "UPDATE mzt_anomalies SET ended_at = ? WHERE id = ?", (float(ended_at), anomaly_id)
            ).rowcount
        if not updated:
            raise MissingRowError(f"{self._db_path}: no anomaly with id {anomaly_id}")

    def append_jsonl(self, snapshot: SystemSnapshot) -> None:
        """Append the snapshot to monitor.jsonl (no-op without a JSONL path).

        Raises:
            StoreError: The store is read-only, or the file cannot be written.
        """
        if self._jsonl is None:
            return
        if self._readonly:
            raise StoreError(f"{self._jsonl.path}: the store is open read-only")
        self._jsonl.append(snapshot)

    # -- reading ----------------------------------------------------------------------------

    def read_snapshots(
        self,
        since: float,
        limit: int = 100,
        *,
        until: float | None = None,
        job_id: str | None = None,
    ) -> list[SystemSnapshot]:
        """The newest `limit` snapshots with `since <= timestamp < until`, in time order.

        Processes come from one more query (not one per snapshot). With `job_id`, only
        snapshots holding a process of that job, each with only that job's processes.
        """
        with self._database.read() as (conn, has_extras), collector_paused():
            return reader.read_snapshots(
                conn,
                has_extras=has_extras,
                since=since,
                limit=limit,
                until=until,
                job_id=job_id,
                repairs=self._repairs,
            )

    def count_snapshots(self, since: float = 0.0, until: float | None = None) -> int:
        """How many snapshots have `since <= timestamp < until`."""
        with self._database.read() as (conn, _):
            return reader.count_snapshots(conn, since, until)

    def read_snapshot_times(self, since: float, until: float | None = None) -> list[float]:
        """The timestamps of the snapshots with `since <= timestamp < until`, in time order."""
        with self._database.read() as (conn, _):
            return times.snapshot_times(conn, since, until)

    def read_event_times(self, since: float, until: float | None = None) -> list[float]:
        """The timestamps of the events with `since <= timestamp < until`, in time order."""
        with self._database.read() as (conn, _):
            return times.event_times(conn, since, until)

    def read_anomaly_start_times(self, since: float, until: float | None = None) -> list[float]:
        """When the anomalies that started in `[since, until)` started, in time order."""
        with self._database.read() as (conn, has_extras):
            return times.anomaly_start_times(conn, since, until) if has_extras else []

    def read_events(
        self,
        since: float,
        limit: int = 100,
        *,
        until: float | None = None,
        job_id: str | None = None,
    ) -> list[ProcessEvent]:
        """The newest `limit` events with `since <= timestamp < until`, in time order."""
        with self._database.read() as (conn, _):
            return reader.read_events(conn, since, limit, until, job_id, repairs=self._repairs)

    def count_events(
        self, since: float = 0.0, until: float | None = None, *, job_id: str | None = None
    ) -> int:
        """How many events have `since <= timestamp < until` (of `job_id` when given)."""
        with self._database.read() as (conn, _):
            return reader.count_events(conn, since, until, job_id)

    def read_process_history(
        self,
        pid: int,
        since: float,
        *,
        until: float | None = None,
        start_time: float | None = None,
    ) -> list[ProcessMetric]:
        """A process's samples in the window, in time order (as the conductor's reader)."""
        return [
            metric
            for _, metric in self.read_process_samples(
                pid, since, until=until, start_time=start_time
            )
        ]

    def read_process_samples(
        self,
        pid: int,
        since: float,
        *,
        until: float | None = None,
        start_time: float | None = None,
    ) -> list[tuple[float, ProcessMetric]]:
        """Like `read_process_history`, with each sample's snapshot timestamp.

        Args:
            pid: The process id.
            since: Window start (inclusive), unix seconds.
            until: Window end (exclusive), or None for no end.
            start_time: Only samples of the process started then (PIDs are reused); only
                rows we wrote record it.
        """
        with self._database.read() as (conn, has_extras):
            return reader.read_process_samples(
                conn,
                has_extras=has_extras,
                pid=pid,
                since=since,
                until=until,
                start_time=start_time,
                repairs=self._repairs,
            )

    def iter_sample_chunks(self, query: dump.SampleQuery) -> Iterator[list[dump.SampleRow]]:
        """Stream the window's process samples in chunks, in one read transaction.

        Rows are tuples in `dump.SAMPLE_FIELDS` order; each chunk holds at most
        `query.chunk_rows` of them. Close the generator (or exhaust it) to end the read.
        """
        with self._database.read() as (conn, has_extras):
            yield from dump.iter_sample_chunks(
                conn, has_extras=has_extras, query=query, repairs=self._repairs
            )

    def read_anomalies(
        self,
        since: float,
        *,
        until: float | None = None,
        job_id: str | None = None,
        limit: int = 1000,
    ) -> list[Anomaly]:
        """Anomalies overlapping the window (active ones included), newest `limit`, in order."""
        with self._database.read() as (conn, has_extras):
            if not has_extras:
                return []
            return history.read_anomalies(conn, since, until, job_id, limit, repairs=self._repairs)

    def read_job_minutes(
        self, job_id: str, since: float, *, until: float | None = None
    ) -> list[JobMinute]:
        """A job's 1-minute downsampled history (kept for `downsampled_days`), in time order."""
        with self._database.read() as (conn, has_extras):
            return history.read_job_minutes(conn, job_id, since, until) if has_extras else []

    def read_system_minutes(
        self, since: float, *, until: float | None = None
    ) -> list[SystemMinute]:
        """The system's 1-minute downsampled history, in time order."""
        with self._database.read() as (conn, has_extras):
            return history.read_system_minutes(conn, since, until) if has_extras else []

    def job_ids(self) -> list[str]:
        """Every job id recorded (process rows, events, 1-minute history), sorted."""
        with self._database.read() as (conn, has_extras):
            return history.job_ids(conn, has_extras)

    def read_job_resource_profile(self, job_id: str) -> JobResourceProfile:
        """The job's resource profile: the conductor's keys, computed correctly, plus ours."""
        with self._database.read() as (conn, has_extras):
            return read_job_resource_profile(conn, job_id, has_extras, self._repairs)

    def generate_resource_report(self, job_id: str) -> str:
        """The text report of `mzt diagnose JOB --resources` (the conductor's layout)."""
        with self._database.read() as (conn, has_extras):
            profile = read_job_resource_profile(conn, job_id, has_extras, self._repairs)
            events = reader.read_events(
                conn, 0.0, REPORT_EVENT_LIMIT, None, job_id, repairs=self._repairs
            )
            anomalies = (
                history.read_anomalies(
                    conn, 0.0, None, job_id, REPORT_EVENT_LIMIT, repairs=self._repairs
                )
                if has_extras
                else []
            )
        return format_resource_report(profile, events, anomalies)

    def repairs(self) -> ReadRepairs:
        """What this store's reads repaired or skipped in rows another writer stored.

        Cumulative since the store was made (or last `take_repairs`); a value read twice
        counts once. `ReadRepairs.summary()` says it in one line.
        """
        return self._repairs.peek()

    def take_repairs(self) -> ReadRepairs:
        """Like `repairs`, and start counting afresh."""
        return self._repairs.take()

    # -- sheet runs ---------------------------------------------------------------------------

    def write_sheet_run(self, summary: SheetRunSummary) -> bool:
        """Store one ended sheet run (see `store.sheet_runs`); returns whether a row changed.

        Its anomalies are looked up in `mzt_anomalies` and added. A row for the same attempt
        is replaced unless it was built from more ticks than this one.
        """
        return self.write_sheet_runs([summary]) > 0

    def write_sheet_runs(self, summaries: Iterable[SheetRunSummary]) -> int:
        """Store several ended sheet runs in one transaction; returns how many rows changed."""
        batch = list(summaries)
        if not batch:
            return 0
        with self._database.transaction() as conn:
            return sheet_runs.write(conn, batch)

    def summarize_sheet_runs(self, since: float | None = None) -> list[SheetRunSummary]:
        """Build the summaries of the runs recorded in monitor.db, without storing them.

        Args:
            since: Only runs seen at or after this time (read whole even if they started
                before it); None for every run recorded.

        Returns:
            Ended runs, numbered by attempt among themselves, oldest start first.
        """
        with self._database.read() as (conn, has_extras):
            return sheet_runs.number_attempts(
                sheet_runs.summarize(
                    conn, has_extras=has_extras, since=since, repairs=self._repairs
                )
            )

    def rebuild_sheet_runs(self, since: float | None = None) -> int:
        """Rebuild `mzt_sheet_runs` from the recorded ticks; returns how many rows changed.

        Rows whose ticks are gone (deleted by retention) are kept; a row built live from
        more ticks than the rebuild still sees is kept as it is.
        """
        return self.write_sheet_runs(self.summarize_sheet_runs(since))

    def read_sheet_runs(self, since: float | None = None) -> list[SheetRunSummary]:
        """Stored sheet runs that ended at or after `since` (None: all), oldest start first."""
        with self._database.read() as (conn, _):
            return sheet_runs.read(conn, since)

    # -- maintenance ------------------------------------------------------------------------

    def downsample(self, now: float | None = None) -> int:
        """Summarise every closed minute into the 1-minute history; returns minutes summarised.

        `write_snapshot` and `cleanup` do this already; call it to close minutes on demand.

        Args:
            now: Minutes ending before `now` minus a grace period count as closed
                (default: the newest snapshot's time).
        """
        return self._downsampler.close_minutes(now)

    def cleanup(self, retention: RetentionConfig, now: float | None = None) -> CleanupResult:
        """Apply retention: summarise closed minutes, delete by age, then by the byte cap.

        Every step runs in batches of `cleanup_batch_rows` rows, one short transaction each,
        so a concurrent `write_snapshot` waits for one batch at most.

        Args:
            retention: Ages, byte cap and batch size.
            now: The current time (default `time.time()`).
        """
        now = time.time() if now is None else now
        return run_cleanup(self._database.transaction, self._downsampler, retention, now)
