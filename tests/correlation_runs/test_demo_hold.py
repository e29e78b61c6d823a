"""The demo's memory sheets hold their peak long enough for a 5-second sampler to see it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from mzt_tui.demo.instrument import MEMORY_RAMP_SHARE
from mzt_tui.demo.plan import job_rng, plan_job
from mzt_tui.demo.sheets import child_environment

HOLD_SECONDS_AT_SPEED_1 = 12.0


def test_every_planned_memory_sheet_holds_its_peak_at_least_12_seconds() -> None:
    holds = [
        sheet.seconds * (1.0 - MEMORY_RAMP_SHARE)
        for serial in range(1, 400)
        for sheet in plan_job(job_rng(5, serial)).sheets
        if sheet.kind == "memory"
    ]
    assert len(holds) > 100
    assert min(holds) >= HOLD_SECONDS_AT_SPEED_1


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_the_memory_workload_reaches_its_peak_early_and_holds_it(tmp_path: Path) -> None:
    # GIVEN a 3-second memory workload of 96 MB (ramp: the first 0.6 s)
    started = time.monotonic()
    workload = ["memory", "--seconds", "3", "--peak-mb", "96"]
    process = subprocess.Popen(
        [sys.executable, "-m", "mzt_tui.demo.instrument", *workload],
        cwd=tmp_path,
        env=child_environment(),
        stdout=subprocess.DEVNULL,
    )
    # WHEN its RSS is sampled every 0.1 s
    samples: list[tuple[float, float]] = []
    while process.poll() is None:
        samples.append((time.monotonic() - started, _rss_mb(process.pid)))
        time.sleep(0.1)
    assert process.returncode == 0
    # THEN the peak is held for the last four fifths (2.4 s) of it, whatever the start-up took
    held = [when for when, rss in samples if rss >= 96.0]
    assert held and held[-1] - held[0] >= 2.0
