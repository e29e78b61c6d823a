"""Recorded ticks as a source the dashboard can play: history over monitor.db.

`HistorySource` holds the timestamps of a window's snapshots (a few floats each) and the times of
its events and anomalies (for jumping), and builds a `TickResult` for any snapshot on demand,
reading whole snapshots (with their process rows) one small chunk at a time. Plain Python, run in
a thread; nothing imports Textual.
"""

from __future__ import annotations

import math
import re
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.headless.engine import TickResult
from mzt_tui.marianne.registry import RegistryReader
from mzt_tui.models import Anomaly, ConductorStatus, JobRecord, ProcessEvent, SystemSnapshot
from mzt_tui.models.durations import format_duration, parse_duration
from mzt_tui.models.errors import MztError, NoDataError, UsageError
from mzt_tui.store import MonitorStore
from mzt_tui.store.repairs import ReadRepairs

CHUNK_SNAPSHOTS = 16
"""Snapshots read per query (a chunk holds every process row of these snapshots)."""
CACHED_CHUNKS = 2
"""Chunks kept in memory: the one shown and its neighbour, so stepping back reads nothing."""
CONTEXT_ENTRIES = 300
"""Events and anomalies read per frame for the timeline (the timeline keeps as many)."""
HISTORY_NOTE = "history"
"""The conductor's reason in a recorded tick: it says where the tick came from."""
RECORD_HINT = "record with: mzt top --headless"
_REGISTRY_JOBS = 200
_CLOCK = re.compile(r"^([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?$")


@dataclass(frozen=True)
class HistoryFrame:
    """One recorded tick, ready to show.

    Attributes:
        index: Its position among the window's snapshots (0 is the oldest).
        count: How many snapshots the window holds.
        tick: The tick as the live collector would have posted it.
        recent_events: Events up to the tick's time (newest `CONTEXT_ENTRIES`), for the timeline.
        recent_anomalies: Anomalies up to the tick's time, as they stood then (one that ended
            later shows as still open).
        repairs: What every read of the window so far repaired or skipped in rows another
            writer stored (each value counted once).
    """

    index: int
    count: int
    tick: TickResult
    recent_events: tuple[ProcessEvent, ...]
    recent_anomalies: tuple[Anomaly, ...]
    repairs: ReadRepairs

    @property
    def timestamp(self) -> float:
        """When the tick was recorded."""
        return self.tick.snapshot.timestamp


class HistorySource:
    """The snapshots of `[since, until)` in one monitor.db, read on demand.

    Args:
        store: The monitor store (opened read-only by `open_history`).
        since: Window start, unix seconds.
        until: Window end (exclusive).
        jobs: The registry's jobs, shown with every tick (the registry keeps no history).
        chunk_size: Snapshots read per query.

    Raises:
        NoDataError: The window holds no snapshot.
    """

    def __init__(
        self,
        store: MonitorStore,
        since: float,
        until: float,
        *,
        jobs: tuple[JobRecord, ...] = (),
        chunk_size: int = CHUNK_SNAPSHOTS,
    ) -> None:
        self._store = store
        self.since = since
        self.until = until
        self.jobs = jobs
        self._chunk_size = max(chunk_size, 1)
        self.times: tuple[float, ...] = tuple(sorted(set(store.read_snapshot_times(since, until))))
        if not self.times:
            raise NoDataError(
                f"no snapshots recorded in the last {format_duration(until - since)}"
                f" of {store.db_path}; {RECORD_HINT}"
            )
        marks = store.read_event_times(since, until) + store.read_anomaly_start_times(since, until)
        self.marks: tuple[float, ...] = tuple(sorted(set(marks)))
        self._chunks: OrderedDict[int, dict[float, SystemSnapshot]] = OrderedDict()
        self.chunk_reads = 0
        """How many chunk queries ran (tests check the cache)."""
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        """How many snapshots the window holds."""
        return len(self.times)

    @property
    def db_name(self) -> str:
        """The recorded file's name (`monitor.db`), as warnings name it."""
        return self._store.db_path.name

    def close(self) -> None:
        """Close the store (after a frame being read, if one is)."""
        with self._lock:
            self._store.close()

    # -- positions ----------------------------------------------------------------------------

    def index_at(self, timestamp: float) -> int | None:
        """The last snapshot at or before `timestamp`; the first if it is just before it.

        Returns:
            The index, or None when `timestamp` is outside the recorded window.
        """
        if timestamp < self.since or timestamp >= self.until:
            return None
        return max(bisect_right(self.times, timestamp) - 1, 0)

    def next_mark(self, index: int) -> int | None:
        """The first later snapshot that shows a new event or anomaly, or None."""
        current = self.times[self._clamp(index)]
        position = bisect_right(self.marks, current)
        if position >= len(self.marks):
            return None
        target = bisect_left(self.times, self.marks[position])
        return target if target < self.count else None

    def previous_mark(self, index: int) -> int | None:
        """The last earlier snapshot that showed a new event or anomaly, or None."""
        index = self._clamp(index)
        if index == 0:
            return None
        position = bisect_right(self.marks, self.times[index - 1])
        if position == 0:
            return None
        return bisect_left(self.times, self.marks[position - 1])

    def _clamp(self, index: int) -> int:
        return min(max(index, 0), self.count - 1)

    # -- frames -------------------------------------------------------------------------------

    def frame(self, index: int) -> HistoryFrame:
        """The tick recorded at snapshot `index` (clamped to the window); thread-safe."""
        with self._lock:
            return self._frame(self._clamp(index))

    def _frame(self, index: int) -> HistoryFrame:
        timestamp = self.times[index]
        snapshot = self._snapshot(index)
        end = math.nextafter(timestamp, math.inf)
        events = tuple(self._store.read_events(self.since, CONTEXT_ENTRIES, until=end))
        anomalies = tuple(
            _as_of(anomaly, timestamp)
            for anomaly in self._store.read_anomalies(self.since, until=end, limit=CONTEXT_ENTRIES)
        )
        previous = self.times[index - 1] if index > 0 else math.nextafter(self.since, -math.inf)
        stored = self._store.read_anomalies(previous, until=end, limit=CONTEXT_ENTRIES)
        changes = AnomalyChanges(
            opened=tuple(_as_of(a, timestamp) for a in stored if previous < a.started_at),
            closed=tuple(
                a for a in stored if a.ended_at is not None and previous < a.ended_at <= timestamp
            ),
        )
        tick = TickResult(
            snapshot=snapshot,
            all_processes=snapshot.processes,
            events=tuple(event for event in events if previous < event.timestamp),
            anomalies=changes,
            jobs=self.jobs,
            conductor=_conductor(snapshot),
            gpu_reason=None if snapshot.gpus else "no GPU recorded",
        )
        return HistoryFrame(index, self.count, tick, events, anomalies, self._store.repairs())

    def _snapshot(self, index: int) -> SystemSnapshot:
        number = index // self._chunk_size
        chunk = self._chunks.get(number)
        if chunk is None:
            chunk = self._read_chunk(number)
            self._chunks[number] = chunk
            while len(self._chunks) > CACHED_CHUNKS:
                self._chunks.popitem(last=False)
        else:
            self._chunks.move_to_end(number)
        return chunk[self.times[index]]

    def _read_chunk(self, number: int) -> dict[float, SystemSnapshot]:
        first = number * self._chunk_size
        last = min(first + self._chunk_size, self.count) - 1
        self.chunk_reads += 1
        snapshots = self._store.read_snapshots(
            self.times[first],
            limit=(last - first + 1) * 2,
            until=math.nextafter(self.times[last], math.inf),
        )
        # Two snapshots with one timestamp: the later one stands for both.
        return {snapshot.timestamp: snapshot for snapshot in snapshots}


def _as_of(anomaly: Anomaly, timestamp: float) -> Anomaly:
    """The anomaly as it stood at `timestamp`: still open if it ended later."""
    if anomaly.ended_at is not None and anomaly.ended_at > timestamp:
        return anomaly.model_copy(update={"ended_at": None})
    return anomaly


def _conductor(snapshot: SystemSnapshot) -> ConductorStatus:
    if snapshot.daemon_pid:
        return ConductorStatus(pid=snapshot.daemon_pid, reasons=(HISTORY_NOTE,))
    return ConductorStatus(reasons=("none was running at this recorded time",))


def open_history(
    db_path: Path,
    duration: float,
    now: float,
    *,
    registry_db: Path | None = None,
    chunk_size: int = CHUNK_SNAPSHOTS,
) -> HistorySource:
    """Open monitor.db read-only over `[now - duration, now]`.

    Args:
        db_path: monitor.db.
        duration: Seconds of history.
        now: The window's end.
        registry_db: The registry whose jobs are shown with every tick (read once, now).
        chunk_size: Snapshots read per query.

    Raises:
        StoreError: The file is missing or cannot be read.
        NoDataError: The window holds no snapshot.
    """
    store = MonitorStore(db_path, readonly=True)
    try:
        store.initialize()
        return HistorySource(
            store,
            now - duration,
            math.nextafter(now, math.inf),
            jobs=_registry_jobs(registry_db),
            chunk_size=chunk_size,
        )
    except BaseException:
        store.close()
        raise


def _registry_jobs(registry_db: Path | None) -> tuple[JobRecord, ...]:
    if registry_db is None:
        return ()
    reader = RegistryReader(registry_db)
    if not reader.exists():
        return ()
    try:
        return tuple(reader.list_jobs(limit=_REGISTRY_JOBS))
    except MztError:
        return ()


def parse_seek(text: str, *, now: float, timezone: tzinfo | None = None) -> float:
    """The time a seek names: a clock time (`14:05`, `14:05:30`) or a duration ago (`-10m`).

    A clock time means its latest occurrence at or before `now` (today, else yesterday).

    Args:
        text: What the user typed.
        now: The current time, unix seconds.
        timezone: The zone of clock times (local time when None).

    Raises:
        UsageError: The text is neither.
    """
    cleaned = text.strip()
    match = _CLOCK.fullmatch(cleaned)
    if match is not None:
        hour, minute, second = (int(part) if part else 0 for part in match.groups())
        if hour > 23 or minute > 59 or second > 59:
            raise UsageError(f"invalid time {text!r}: expected HH:MM or HH:MM:SS")
        today = datetime.fromtimestamp(now, timezone)
        moment = today.replace(hour=hour, minute=minute, second=second, microsecond=0)
        if moment.timestamp() > now:
            moment -= timedelta(days=1)
        return moment.timestamp()
    ago = cleaned.removeprefix("-").strip()
    if not ago or (ago == cleaned and not ago[-1:].isalpha()):
        raise UsageError(
            f"invalid time {text!r}: expected HH:MM, HH:MM:SS or a duration ago (-10m, 90s)"
        )
    try:
        return now - parse_duration(ago)
    except UsageError:
        raise UsageError(
            f"invalid time {text!r}: expected HH:MM, HH:MM:SS or a duration ago (-10m, 90s)"
        ) from None
