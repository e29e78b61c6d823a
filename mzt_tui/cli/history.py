"""`mzt top --history DUR --json`: recorded snapshots and events as one JSON document."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TextIO

from mzt_tui.cli.repairs import warn_repairs
from mzt_tui.models.durations import parse_duration
from mzt_tui.models.errors import NoDataError


def print_history_json(
    db_path: Path,
    duration_text: str,
    job_id: str | None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> None:
    """Write `{duration_seconds, snapshot_count, event_count, snapshots, events}` to `out`.

    The document has the conductor's shape. With `job_id`, snapshots keep only that job's
    processes and events only that job's events. What the read repaired or skipped in rows
    another writer stored is said on `err` (stderr by default), in one warning line.

    Raises:
        UsageError: The duration is not one.
        StoreError: The database is missing or unreadable.
        NoDataError: `job_id` has no data in the window.
    """
    from mzt_tui.store import MonitorStore

    duration = parse_duration(duration_text)
    stream = out if out is not None else sys.stdout
    since = time.time() - duration
    store = MonitorStore(db_path, readonly=True)
    try:
        store.initialize()
        snapshot_count = store.count_snapshots(since)
        snapshots = store.read_snapshots(since, limit=max(snapshot_count, 1), job_id=job_id)
        event_count = store.count_events(since, job_id=job_id)
        events = store.read_events(since, limit=max(event_count, 1), job_id=job_id)
    finally:
        store.close()
    warn_repairs(store.take_repairs(), db_path, err)
    if job_id is not None:
        snapshots = [snapshot.only_job(job_id) for snapshot in snapshots]
        if not events and not any(snapshot.processes for snapshot in snapshots):
            raise NoDataError(
                f"no data for job {job_id!r} in the last {duration_text} of {db_path}"
            )
    document = {
        "duration_seconds": duration,
        "snapshot_count": len(snapshots),
        "event_count": len(events),
        "snapshots": [snapshot.model_dump(mode="json") for snapshot in snapshots],
        "events": [event.model_dump(mode="json") for event in events],
    }
    json.dump(document, stream, indent=2)
    stream.write("\n")
