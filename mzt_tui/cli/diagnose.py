"""`mzt diagnose JOB --resources [--json]`: a job's resource report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from mzt_tui.cli.repairs import warn_repairs
from mzt_tui.models.errors import NoDataError


def print_resource_report(
    db_path: Path, job_id: str, *, as_json: bool, out: TextIO | None = None
) -> None:
    """Write the resource report of `job_id` as text or JSON.

    What the read repaired or skipped in rows another writer stored is said on stderr.

    Raises:
        StoreError: The database is missing or unreadable.
        NoDataError: The job has no recorded processes or events.
    """
    from mzt_tui.store import MonitorStore

    stream = out if out is not None else sys.stdout
    store = MonitorStore(db_path, readonly=True)
    try:
        store.initialize()
        profile = store.read_job_resource_profile(job_id)
        if profile.unique_pid_count == 0 and profile.process_spawn_count == 0:
            known = store.job_ids()
            hint = f"; jobs with data: {', '.join(known[:10])}" if known else ""
            raise NoDataError(f"no resource data for job {job_id!r} in {db_path}{hint}")
        if as_json:
            json.dump(profile.model_dump(mode="json"), stream, indent=2)
            stream.write("\n")
        else:
            stream.write(store.generate_resource_report(job_id))
    finally:
        store.close()
    warn_repairs(store.take_repairs(), db_path)
