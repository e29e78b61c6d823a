"""What the job screen reads from disk, in a thread: recorded history and learned patterns.

Plain functions (no widgets): the screen's thread workers call them and post the results.
A missing monitor.db or learning store is normal (nothing was recorded yet): the result is
empty, with a quiet note, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from mzt_tui.marianne.learning import LearningStore
from mzt_tui.marianne.paths import MarianneHome
from mzt_tui.models import Anomaly, ProcessEvent, SystemSnapshot
from mzt_tui.models.errors import MztError
from mzt_tui.models.learning import LearnedPattern
from mzt_tui.models.report import JobResourceProfile
from mzt_tui.store.monitor import MonitorStore

BACKFILL_SECONDS = 3600.0
"""How far back the recorded points of a job are read when its screen opens."""
BACKFILL_SNAPSHOTS = 3600
"""At most this many recorded snapshots are read."""
BACKFILL_EVENTS = 300
"""At most this many recorded events are read."""


@dataclass(frozen=True)
class RecordedJob:
    """A job's history as monitor.db holds it.

    Attributes:
        job_id: The job.
        snapshots: Its snapshots (its processes only), oldest first.
        anomalies: Its anomalies in the window.
        events: Its lifecycle events in the window.
        profile: Its resource profile (per-sheet peaks, syscall hotspots), or None.
        note: One line saying why nothing was read, or None.
        repairs: One line saying what the read repaired or skipped in rows another writer
            stored, or None.
    """

    job_id: str
    snapshots: tuple[SystemSnapshot, ...] = ()
    anomalies: tuple[Anomaly, ...] = ()
    events: tuple[ProcessEvent, ...] = ()
    profile: JobResourceProfile | None = None
    note: str | None = None
    repairs: str | None = None


def read_recorded_job(home: MarianneHome, job_id: str, until: float) -> RecordedJob:
    """Read the hour of `job_id` before `until` from the home's monitor.db, if there is one.

    Args:
        home: The Marianne home (its `monitor.db`).
        job_id: The job.
        until: The end of the window (the time of the tick shown).
    """
    path = home.monitor_db
    if not path.is_file():
        return RecordedJob(job_id, note=f"no {path.name}: nothing recorded")
    since = until - BACKFILL_SECONDS
    try:
        with MonitorStore(path, readonly=True) as store:
            snapshots = store.read_snapshots(
                since, BACKFILL_SNAPSHOTS, until=until + 1e-6, job_id=job_id
            )
            anomalies = store.read_anomalies(since, until=until + 1e-6, job_id=job_id)
            events = store.read_events(since, BACKFILL_EVENTS, until=until + 1e-6, job_id=job_id)
            profile = store.read_job_resource_profile(job_id)
            repairs = store.take_repairs().summary(path.name)
    except MztError as error:
        return RecordedJob(job_id, note=f"recorded history not read: {error}")
    return RecordedJob(
        job_id,
        snapshots=tuple(snapshots),
        anomalies=tuple(anomalies),
        events=tuple(events),
        profile=profile if profile.has_data or profile.syscall_hotspots else None,
        repairs=repairs,
    )


@dataclass(frozen=True)
class LearnedPatterns:
    """Every active learned pattern, or the reason there are none."""

    patterns: tuple[LearnedPattern, ...] = ()
    note: str | None = None


def read_learned_patterns(home: MarianneHome) -> LearnedPatterns:
    """Read the active patterns of the home's learning store."""
    store = LearningStore(home.learning_db)
    if not store.exists():
        return LearnedPatterns(note=f"no learning store at {store.path}")
    try:
        return LearnedPatterns(tuple(store.read_patterns(active_only=True)))
    except MztError as error:
        return LearnedPatterns(note=str(error))
