"""The 1-minute history: per job/sheet and system-wide summaries of closed minutes.

A minute is closed once a snapshot at least `GRACE_SECONDS` past its end exists (another
writer, the conductor, may still add a row a moment late). `write_snapshot` summarises
closed minutes as it goes, whenever ten are waiting, and `cleanup` summarises every closed
minute before it deletes anything, so the conductor's own hourly deletion of day-old
snapshots finds them already summarised. The history is kept for `downsampled_days`
(7 by default) in `mzt_minutes_job` and `mzt_minutes_system`.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from mzt_tui.models.errors import StoreError

_logger = logging.getLogger(__name__)

MINUTE = 60.0
GRACE_SECONDS = 10.0
"""Late rows of another writer still land in a minute this long after it ends."""
CHUNK_MINUTES = 5
"""Minutes summarised per transaction: ~40 ms with 1,000 processes per 5 s tick."""
BACKLOG_MINUTES = 10
"""`write_snapshot` summarises closed minutes once this many are waiting."""
MINUTES_PER_WRITE = 10
"""At most this many minutes are summarised after one `write_snapshot` (catch-up is spread)."""
PAUSE_SECONDS = 0.001
"""Pause between a clean-up's transactions, so a writer waiting for the lock gets it."""

Transaction = Callable[[], AbstractContextManager[sqlite3.Connection]]
"""Opens one short write transaction on the writer connection (holding the writer lock)."""

_DOWNSAMPLE_JOBS = """INSERT OR REPLACE INTO mzt_minutes_job (
    minute, job_id, sheet_num, samples, cpu_percent_mean, cpu_percent_max, rss_mb_max,
    process_rss_mb_max, open_fds_max, threads_max, process_count_mean, process_count_max,
    gpu_memory_mb_max)
SELECT minute, job_id, sheet_num, COUNT(*), AVG(cpu), MAX(cpu), MAX(rss), MAX(process_rss),
    MAX(fds), MAX(threads), AVG(processes), MAX(processes), MAX(gpu)
FROM (
    SELECT CAST(s.timestamp / 60 AS INTEGER) * 60.0 AS minute, pm.job_id AS job_id,
        COALESCE(pm.sheet_num, -1) AS sheet_num,
        SUM(MAX(COALESCE(pm.cpu_percent, 0.0), 0.0)) AS cpu,
        SUM(MAX(COALESCE(pm.rss_mb, 0.0), 0.0)) AS rss,
        MAX(MAX(COALESCE(pm.rss_mb, 0.0), 0.0)) AS process_rss,
        SUM(MAX(COALESCE(pm.open_fds, 0), 0)) AS fds,
        SUM(MAX(COALESCE(pm.threads, 1), 0)) AS threads,
        COUNT(*) AS processes,
        SUM(MAX(COALESCE(pm.mzt_gpu_memory_mb, 0.0), 0.0)) AS gpu
    FROM snapshots s CROSS JOIN process_metrics pm ON pm.snapshot_id = s.id
    WHERE s.timestamp >= ? AND s.timestamp < ? AND pm.job_id IS NOT NULL
    GROUP BY s.id, pm.job_id, COALESCE(pm.sheet_num, -1)
)
GROUP BY minute, job_id, sheet_num"""

_DOWNSAMPLE_SYSTEM = """INSERT OR REPLACE INTO mzt_minutes_system (
    minute, samples, cpu_percent_mean, cpu_percent_max, memory_used_mb_max,
    memory_available_mb_min, load_avg_1_max, daemon_rss_mb_max, process_count_max,
    zombie_count_max, running_jobs_max, active_sheets_max)
SELECT CAST(s.timestamp / 60 AS INTEGER) * 60.0 AS minute, COUNT(*),
    AVG(e.cpu_percent), MAX(e.cpu_percent),
    MAX(MAX(COALESCE(s.system_memory_used_mb, 0.0), 0.0)),
    MIN(MAX(COALESCE(s.system_memory_available_mb, 0.0), 0.0)),
    MAX(MAX(COALESCE(s.load_avg_1, 0.0), 0.0)), MAX(MAX(COALESCE(s.daemon_rss_mb, 0.0), 0.0)),
    MAX(MAX(COALESCE(s.child_count, 0), 0)), MAX(MAX(COALESCE(s.zombie_count, 0), 0)),
    MAX(MAX(COALESCE(s.running_jobs, 0), 0)), MAX(MAX(COALESCE(s.active_sheets, 0), 0))
FROM snapshots s LEFT JOIN mzt_snapshot_extras e ON e.snapshot_id = s.id
WHERE s.timestamp >= ? AND s.timestamp < ?
GROUP BY minute"""


def minute_start(timestamp: float) -> float:
    """The start of the minute holding `timestamp`."""
    return math.floor(timestamp / MINUTE) * MINUTE


def _watermark(conn: sqlite3.Connection) -> float | None:
    # Resume after the last summarised minute, else at the oldest snapshot's minute.
    last = conn.execute("SELECT MAX(minute) FROM mzt_minutes_system").fetchone()[0]
    if last is not None:
        return float(last) + MINUTE
    oldest = conn.execute("SELECT MIN(timestamp) FROM snapshots").fetchone()[0]
    return None if oldest is None else minute_start(float(oldest))


def _next_data_minute(conn: sqlite3.Connection, start: float, closed_until: float) -> float:
    # Skip minutes without snapshots (the monitor was off): jump to the next one recorded.
    row = conn.execute(
        "SELECT MIN(timestamp) FROM snapshots WHERE timestamp >= ?", (start,)
    ).fetchone()
    if row[0] is None:
        return closed_until
    return min(max(start, minute_start(float(row[0]))), closed_until)


class Downsampler:
    """Summarises closed minutes in order, remembering where it stopped (thread-safe)."""

    def __init__(self, transaction: Transaction) -> None:
        """Use `transaction` for every step; the position is read on first use."""
        self._transaction = transaction
        self._lock = threading.Lock()
        self._next_minute: float | None = None

    def after_write(self, timestamp: float) -> None:
        """Close a few minutes after a snapshot at `timestamp` was written, if any are due.

        Never raises: the snapshot is already written, and whatever is left is summarised
        after a later write or by `cleanup`.
        """
        closed_until = minute_start(timestamp - GRACE_SECONDS)
        # Summarising costs about 0.6 µs per process row, wherever it runs; doing it for
        # ten minutes at once keeps it off most ticks.
        next_minute = self._next_minute
        if next_minute is not None and closed_until - next_minute < BACKLOG_MINUTES * MINUTE:
            return
        try:
            self._run(closed_until, MINUTES_PER_WRITE, blocking=False, pause=0.0)
        except StoreError as exc:
            _logger.warning("downsampling postponed: %s", exc)

    def close_minutes(self, now: float | None) -> int:
        """Summarise every minute closed at `now` (default: the newest snapshot's time).

        Returns:
            How many minutes were summarised.
        """
        if now is None:
            with self._transaction() as conn:
                newest = conn.execute("SELECT MAX(timestamp) FROM snapshots").fetchone()[0]
            if newest is None:
                return 0
            now = float(newest)
        return self._run(
            minute_start(now - GRACE_SECONDS), None, blocking=True, pause=PAUSE_SECONDS
        )

    def _run(
        self, closed_until: float, max_minutes: int | None, *, blocking: bool, pause: float
    ) -> int:
        if not self._lock.acquire(blocking=blocking):
            return 0  # another thread is at it
        try:
            if self._next_minute is None:
                with self._transaction() as conn:
                    self._next_minute = _watermark(conn)
            minutes_done = 0
            while (
                self._next_minute is not None
                and self._next_minute < closed_until
                and (max_minutes is None or minutes_done < max_minutes)
            ):
                chunk = CHUNK_MINUTES
                if max_minutes is not None:
                    chunk = min(chunk, max_minutes - minutes_done)
                with self._transaction() as conn:
                    start = _next_data_minute(conn, self._next_minute, closed_until)
                    end = min(closed_until, start + chunk * MINUTE)
                    if start < closed_until:
                        conn.execute(_DOWNSAMPLE_JOBS, (start, end))
                        minutes_done += conn.execute(_DOWNSAMPLE_SYSTEM, (start, end)).rowcount
                self._next_minute = end
                time.sleep(pause)
            return minutes_done
        finally:
            self._lock.release()
