"""Per-job resource series for the job screen's charts: plain data, bounded, kept by the app.

Every tick adds one point per job (total RSS, CPU and GPU memory of the job's processes, and
which sheets had processes), the job's anomalies, the registry's sheet times and running
per-sheet peaks. Older points can be merged in later (from monitor.db): points are kept in
time order whatever order they arrive in, one per timestamp. Memory stays flat: each job keeps
the last `window_seconds` of points (at most `max_points`), and at most `max_jobs` jobs are
kept (the one updated longest ago goes first).

Sheet starts and ends are derived when a view is taken: a sheet starts at the first point
where it has processes and ends at the first point where it has none, unless a gap in the
points (the monitor was not running) lies between; the registry's own start and end times
are used where they fall in that interval, and for sheets never seen with processes.
"""

from __future__ import annotations

import bisect
import statistics
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Literal

from mzt_tui.headless.engine import TickResult
from mzt_tui.models import Anomaly, JobRecord, ProcessMetric, SystemSnapshot
from mzt_tui.ui.timeline_log import anomaly_key

WINDOW_SECONDS = 3600.0
"""How much history each job keeps, counted back from its newest point."""
MAX_POINTS_PER_JOB = 3600
"""At most this many points per job (one hour at one tick a second)."""
MAX_JOBS = 32
"""At most this many jobs are kept; the one updated longest ago is dropped first."""
MAX_ANOMALIES_PER_JOB = 200
"""At most this many anomalies per job; the oldest go first."""
GAP_FACTOR = 3.0
"""Points further apart than this many typical intervals have a gap between them."""
_DEFAULT_INTERVAL = 2.0

SheetEdge = Literal["start", "end"]


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """A job's totals at one tick.

    Attributes:
        timestamp: When the tick was taken (unix seconds).
        rss_mb: Resident memory of all the job's processes, MiB.
        cpu_percent: CPU of all the job's processes (100 = one core).
        gpu_memory_mb: GPU memory of all the job's processes, MiB.
        sheets: The sheets that had processes then, ascending.
    """

    timestamp: float
    rss_mb: float
    cpu_percent: float
    gpu_memory_mb: float
    sheets: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SheetMark:
    """A sheet starting or ending at a point in time."""

    timestamp: float
    sheet_num: int
    edge: SheetEdge


@dataclass(frozen=True, slots=True)
class AnomalyMark:
    """One anomaly of the job, open (`ended_at` None) or closed."""

    key: str
    anomaly_type: str
    severity: str
    started_at: float
    ended_at: float | None
    sheet_num: int | None
    description: str

    @staticmethod
    def of(anomaly: Anomaly) -> AnomalyMark:
        """The mark of an anomaly."""
        return AnomalyMark(
            key=anomaly_key(anomaly),
            anomaly_type=anomaly.anomaly_type.value,
            severity=anomaly.severity,
            started_at=anomaly.started_at,
            ended_at=anomaly.ended_at,
            sheet_num=anomaly.sheet_num,
            description=anomaly.description or anomaly.anomaly_type.value,
        )


@dataclass(frozen=True, slots=True)
class SheetPeak:
    """The highest totals one sheet's processes reached together, and its CPU time.

    Attributes:
        sheet_num: The sheet.
        peak_rss_mb: Highest total RSS of the sheet's processes in one tick.
        peak_cpu_percent: Highest total CPU of the sheet's processes in one tick.
        peak_gpu_memory_mb: Highest total GPU memory of the sheet's processes in one tick.
        cpu_seconds: CPU time between ticks (CPU % × the time since the previous tick).
        first_seen: The first tick the sheet had processes.
        last_seen: The last tick the sheet had processes.
    """

    sheet_num: int
    peak_rss_mb: float = 0.0
    peak_cpu_percent: float = 0.0
    peak_gpu_memory_mb: float = 0.0
    cpu_seconds: float = 0.0
    first_seen: float | None = None
    last_seen: float | None = None


@dataclass(frozen=True, slots=True)
class SeriesView:
    """What the job screen draws: a job's points and marks up to a moment, in time order."""

    job_id: str
    points: tuple[SeriesPoint, ...]
    sheet_marks: tuple[SheetMark, ...]
    anomalies: tuple[AnomalyMark, ...]

    @property
    def empty(self) -> bool:
        """Whether there is no point to draw."""
        return not self.points


@dataclass(frozen=True, slots=True)
class SheetTotals:
    """Totals of a group of processes in one tick (RSS MiB, CPU %, GPU MiB)."""

    rss_mb: float = 0.0
    cpu_percent: float = 0.0
    gpu_memory_mb: float = 0.0


def typical_interval(points: Sequence[SeriesPoint]) -> float:
    """The median time between consecutive points (2 s when there are too few)."""
    deltas = [b.timestamp - a.timestamp for a, b in pairwise(points)]
    return statistics.median(deltas) if deltas else _DEFAULT_INTERVAL


class JobSeries:
    """One job's points, anomalies, registry sheet times and per-sheet peaks."""

    def __init__(self, job_id: str, window_seconds: float, max_points: int) -> None:
        self.job_id = job_id
        self.window_seconds = window_seconds
        self.max_points = max_points
        self._points: list[SeriesPoint] = []
        self._times: list[float] = []
        self._anomalies: OrderedDict[str, AnomalyMark] = OrderedDict()
        self._registry_times: dict[int, tuple[float | None, float | None]] = {}
        self._peaks: dict[int, SheetPeak] = {}
        self.updated_at = 0.0

    @property
    def points(self) -> tuple[SeriesPoint, ...]:
        """Every point kept, in time order."""
        return tuple(self._points)

    @property
    def sheet_peaks(self) -> dict[int, SheetPeak]:
        """Per-sheet peaks seen live, by sheet number."""
        return dict(self._peaks)

    def add_point(self, point: SeriesPoint) -> None:
        """Add a point where it belongs in time (replacing one at the same time), then trim."""
        index = bisect.bisect_left(self._times, point.timestamp)
        if index < len(self._times) and self._times[index] == point.timestamp:
            self._points[index] = point
        else:
            self._points.insert(index, point)
            self._times.insert(index, point.timestamp)
        self._trim()

    def _trim(self) -> None:
        oldest_kept = self._times[-1] - self.window_seconds
        cut = max(bisect.bisect_left(self._times, oldest_kept), len(self._times) - self.max_points)
        if cut > 0:
            del self._points[:cut]
            del self._times[:cut]

    def last_busy(self, before: float) -> bool:
        """Whether the newest point is older than `before` and has a figure above zero."""
        if not self._points or self._points[-1].timestamp >= before:
            return False
        last = self._points[-1]
        return bool(last.rss_mb or last.cpu_percent or last.gpu_memory_mb or last.sheets)

    def add_anomaly(self, anomaly: Anomaly) -> None:
        """Add or update (when it closed) one of the job's anomalies."""
        mark = AnomalyMark.of(anomaly)
        previous = self._anomalies.get(mark.key)
        if previous is not None and previous.ended_at is not None and mark.ended_at is None:
            return  # a closed anomaly stays closed (the store's copy may be older)
        self._anomalies[mark.key] = mark
        while len(self._anomalies) > MAX_ANOMALIES_PER_JOB:
            oldest = min(self._anomalies.values(), key=lambda m: m.started_at)
            del self._anomalies[oldest.key]

    def note_registry(self, job: JobRecord) -> None:
        """Remember the registry's start and end time of each sheet of the job."""
        for sheet in job.sheets.values():
            started = sheet.started_at.timestamp() if sheet.started_at else None
            ended = sheet.completed_at.timestamp() if sheet.completed_at else None
            if started is not None or ended is not None:
                self._registry_times[sheet.sheet_num] = (started, ended)

    def note_sheet_totals(self, timestamp: float, totals: dict[int, SheetTotals]) -> None:
        """Raise each sheet's peaks to this tick's totals and add its CPU time."""
        longest = GAP_FACTOR * self._interval() if totals else 0.0
        for sheet_num, total in totals.items():
            peak = self._peaks.get(sheet_num) or SheetPeak(sheet_num)
            elapsed = 0.0
            if peak.last_seen is not None and timestamp > peak.last_seen:
                elapsed = min(timestamp - peak.last_seen, longest)
            self._peaks[sheet_num] = replace(
                peak,
                peak_rss_mb=max(peak.peak_rss_mb, total.rss_mb),
                peak_cpu_percent=max(peak.peak_cpu_percent, total.cpu_percent),
                peak_gpu_memory_mb=max(peak.peak_gpu_memory_mb, total.gpu_memory_mb),
                cpu_seconds=peak.cpu_seconds + total.cpu_percent / 100.0 * elapsed,
                first_seen=timestamp if peak.first_seen is None else peak.first_seen,
                last_seen=max(timestamp, peak.last_seen or timestamp),
            )

    def _interval(self) -> float:
        return typical_interval(self._points[-20:])

    def view(self, until: float | None = None) -> SeriesView:
        """The points and marks at or before `until` (everything when None)."""
        end = len(self._times) if until is None else bisect.bisect_right(self._times, until)
        points = tuple(self._points[:end])
        anomalies = tuple(
            sorted(
                (m for m in self._anomalies.values() if until is None or m.started_at <= until),
                key=lambda m: (m.started_at, m.key),
            )
        )
        if until is not None:
            anomalies = tuple(
                replace(m, ended_at=None) if m.ended_at is not None and m.ended_at > until else m
                for m in anomalies
            )
        return SeriesView(self.job_id, points, self._sheet_marks(points), anomalies)

    def _sheet_marks(self, points: Sequence[SeriesPoint]) -> tuple[SheetMark, ...]:
        if not points:
            return ()
        gap = GAP_FACTOR * typical_interval(points)
        marks: list[SheetMark] = []
        for sheet_num in sorted({num for point in points for num in point.sheets}):
            marks.extend(self._observed_marks(sheet_num, points, gap))
        first, last = points[0].timestamp, points[-1].timestamp
        for sheet_num, (started, ended) in self._registry_times.items():
            edges: tuple[tuple[SheetEdge, float | None], ...] = (("start", started), ("end", ended))
            for edge, when in edges:
                if when is None or not first - gap <= when <= last:
                    continue
                close = any(
                    m.sheet_num == sheet_num and m.edge == edge and abs(m.timestamp - when) <= gap
                    for m in marks
                )
                if not close:
                    marks.append(SheetMark(when, sheet_num, edge))
        return tuple(sorted(marks, key=lambda m: (m.timestamp, m.sheet_num, m.edge)))

    def _observed_marks(
        self, sheet_num: int, points: Sequence[SeriesPoint], gap: float
    ) -> Iterable[SheetMark]:
        started, ended = self._registry_times.get(sheet_num, (None, None))
        previous: SeriesPoint | None = None
        for point in points:
            present = sheet_num in point.sheets
            was_present = previous is not None and sheet_num in previous.sheets
            changed = previous is not None and present != was_present
            if previous is not None and changed and point.timestamp - previous.timestamp <= gap:
                known = started if present else ended
                inside = known is not None and previous.timestamp <= known <= point.timestamp
                when = known if inside and known is not None else point.timestamp
                yield SheetMark(when, sheet_num, "start" if present else "end")
            previous = point


class JobSeriesBuffer:
    """The series of every job seen, fed with each tick, bounded in jobs and points.

    Args:
        window_seconds: How much history each job keeps.
        max_points: At most this many points per job.
        max_jobs: At most this many jobs.
    """

    def __init__(
        self,
        window_seconds: float = WINDOW_SECONDS,
        max_points: int = MAX_POINTS_PER_JOB,
        max_jobs: int = MAX_JOBS,
    ) -> None:
        self.window_seconds = window_seconds
        self.max_points = max_points
        self.max_jobs = max_jobs
        self._jobs: dict[str, JobSeries] = {}

    def __len__(self) -> int:
        return len(self._jobs)

    @property
    def job_ids(self) -> list[str]:
        """The jobs kept."""
        return list(self._jobs)

    def get(self, job_id: str) -> JobSeries | None:
        """The series of `job_id`, if kept."""
        return self._jobs.get(job_id)

    def view(self, job_id: str, until: float | None = None) -> SeriesView:
        """What to draw for `job_id` up to `until` (empty for a job not seen)."""
        series = self._jobs.get(job_id)
        if series is None:
            return SeriesView(job_id, (), (), ())
        return series.view(until)

    def _series(self, job_id: str, timestamp: float) -> JobSeries:
        series = self._jobs.get(job_id)
        if series is None:
            series = JobSeries(job_id, self.window_seconds, self.max_points)
            while self._jobs and len(self._jobs) >= self.max_jobs:
                stalest = min(self._jobs.values(), key=lambda s: s.updated_at)
                del self._jobs[stalest.job_id]
            self._jobs[job_id] = series
        series.updated_at = max(series.updated_at, timestamp)
        return series

    def record(self, result: TickResult) -> None:
        """Add one tick: a point per job with processes or running, anomalies, sheet times."""
        snapshot = result.snapshot
        running = {job.job_id: job for job in result.jobs if job.running}
        points = _points(snapshot.timestamp, snapshot.processes, running)
        for job_id, (point, totals) in points.items():
            series = self._series(job_id, snapshot.timestamp)
            series.add_point(point)
            series.note_sheet_totals(snapshot.timestamp, totals)
        for job in result.jobs:
            known = self._jobs.get(job.job_id)
            if known is None:
                continue
            known.note_registry(job)
            if job.job_id not in points and known.last_busy(before=snapshot.timestamp):
                # the job just ended: one zero point so the charts drop where it stopped
                known.add_point(SeriesPoint(snapshot.timestamp, 0.0, 0.0, 0.0))
        for anomaly in (*result.anomalies.opened, *result.anomalies.closed):
            if anomaly.job_id is not None:
                self._series(anomaly.job_id, snapshot.timestamp).add_anomaly(anomaly)

    def backfill(
        self, job_id: str, snapshots: Iterable[SystemSnapshot], anomalies: Iterable[Anomaly]
    ) -> int:
        """Merge recorded snapshots (the job's processes only) and anomalies of one job.

        Returns:
            How many points were added or replaced.
        """
        added = 0
        for snapshot in snapshots:
            point, _ = _job_point(snapshot.timestamp, snapshot.processes, job_id)
            series = self._series(job_id, snapshot.timestamp)
            series.add_point(point)
            added += 1
        for anomaly in anomalies:
            if anomaly.job_id == job_id:
                self._series(job_id, anomaly.started_at).add_anomaly(anomaly)
        return added


def _job_point(
    timestamp: float, processes: Iterable[ProcessMetric], job_id: str
) -> tuple[SeriesPoint, dict[int, SheetTotals]]:
    return _points(timestamp, processes, (job_id,)).get(job_id) or _empty_point(timestamp)


def _empty_point(timestamp: float) -> tuple[SeriesPoint, dict[int, SheetTotals]]:
    return SeriesPoint(timestamp, 0.0, 0.0, 0.0), {}


def _points(
    timestamp: float, processes: Iterable[ProcessMetric], job_ids: Iterable[str]
) -> dict[str, tuple[SeriesPoint, dict[int, SheetTotals]]]:
    """A point (and per-sheet totals) for each job with processes and each of `job_ids`."""
    # One pass with plain float sums: this runs on every tick over every job process.
    sums: dict[str, dict[int | None, list[float]]] = {}
    for process in processes:
        job_id = process.job_id
        if job_id is None:
            continue
        job_sums = sums.get(job_id)
        if job_sums is None:
            job_sums = sums[job_id] = {}
        sheet_sums = job_sums.get(process.sheet_num)
        if sheet_sums is None:
            sheet_sums = job_sums[process.sheet_num] = [0.0, 0.0, 0.0]
        sheet_sums[0] += process.rss_mb
        sheet_sums[1] += process.cpu_percent
        sheet_sums[2] += process.gpu_memory_mb
    result = {job_id: _empty_point(timestamp) for job_id in job_ids}
    for job_id, job_sums in sums.items():
        by_sheet = {
            num: SheetTotals(*values)
            for num, values in sorted(job_sums.items(), key=_sheet_order)
            if num is not None
        }
        rss, cpu, gpu = (sum(values[i] for values in job_sums.values()) for i in range(3))
        result[job_id] = (SeriesPoint(timestamp, rss, cpu, gpu, tuple(by_sheet)), by_sheet)
    return dict(sorted(result.items()))


def _sheet_order(item: tuple[int | None, list[float]]) -> int:
    return -1 if item[0] is None else item[0]
