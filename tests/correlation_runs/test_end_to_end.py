"""End to end: the demo conductor, the headless recorder, `run_correlation`, `mzt patterns`.

The demo plants one effect (sheet attempts peaking above 1 GB fail 60 %, the rest 15 %).
Measured on a two-core machine:

- here, at speed 10, sampled every 0.25 s and correlated every 15 s: found at the third
  check, after 45 s of demo (seed 3, every run); seeds 1 and 2 took 45 and 75 s. The whole
  test takes about 50 s; it allows 240 s;
- at speed 1, with the default 5-second interval and `mzt correlate` every minute: found and
  still found at the next two checks after 3, 5, 6, 6 and 11 minutes of demo (seeds 4, 5, 1,
  3, 2; seed 2 found it at 4 minutes, lost it from 6 to 10, then kept it). Every one of the
  90 attempts that held more than 1 GB was seen above 1 GB by the 5-second sampler.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from pathlib import Path

import pytest

from mzt_tui.cli.patterns import patterns_command
from mzt_tui.demo.runner import start_demo_background
from mzt_tui.headless.correlate import CorrelationReport, run_correlation
from mzt_tui.headless.run import HeadlessOptions, run_headless
from mzt_tui.marianne.learning import LearningStore
from mzt_tui.marianne.outcomes import join_outcomes
from mzt_tui.marianne.paths import MarianneHome
from mzt_tui.models import CorrelationConfig, MonitorConfig
from mzt_tui.store import MonitorStore
from tests.correlation_runs.builders import MEMORY_FINDING

pytestmark = pytest.mark.slow

SEED = 3
SPEED = 10.0
INTERVAL_SECONDS = 0.25
CHECK_EVERY_SECONDS = 15.0
DEADLINE_SECONDS = 240.0


def demo_truth(log_path: Path) -> dict[int, tuple[str, int, int, bool | None]]:
    """Sheet PID → (job, sheet, attempt, failed) from the demo's own transition lines."""
    started: dict[int, tuple[str, int, int]] = {}
    ended: dict[tuple[str, int, int], str] = {}
    for line in log_path.read_text(encoding="utf-8").splitlines():
        if match := re.search(r"job (\S+) sheet (\d+) attempt (\d+) started: \S+, PID (\d+)", line):
            started[int(match[4])] = (match[1], int(match[2]), int(match[3]))
        elif match := re.search(r"job (\S+) sheet (\d+) attempt (\d+) (\w+): ", line):
            ended[(match[1], int(match[2]), int(match[3]))] = match[4]
    verdicts = {"completed": False, "failed": True, "retry_scheduled": True}
    return {
        pid: (*attempt, verdicts.get(ended.get(attempt, ""))) for pid, attempt in started.items()
    }


def test_the_demo_memory_effect_is_found_stored_and_listed(tmp_path: Path) -> None:
    # GIVEN the demo conductor and the headless recorder watching it
    demo = start_demo_background(tmp_path / "demo", seed=SEED, speed=SPEED, jobs=3)
    home = MarianneHome(root=demo.home, pid_file=demo.pid_file)
    options = HeadlessOptions(
        home=home,
        db_path=home.monitor_db,
        config=MonitorConfig(interval_seconds=INTERVAL_SECONDS),
        record=True,
        stream_json=False,
    )
    stop = threading.Event()
    recorder = threading.Thread(
        target=run_headless,
        args=(options,),
        kwargs={"stop": stop, "stdout": io.StringIO(), "stderr": io.StringIO()},
    )
    recorder.start()
    started = time.monotonic()
    report: CorrelationReport | None = None
    found_after: float | None = None
    try:
        # WHEN `mzt correlate` runs every 15 s (as the TUI's worker would, while recording)
        while time.monotonic() - started < DEADLINE_SECONDS:
            stop.wait(CHECK_EVERY_SECONDS)
            report = run_correlation(home, home.monitor_db, CorrelationConfig())
            if MEMORY_FINDING in {finding.name for finding in report.findings}:
                found_after = time.monotonic() - started
                break
    finally:
        stop.set()
        recorder.join()
        demo.stop()
    # THEN the planted effect is found, as a higher failure rate of the 1-2GB bin
    assert report is not None and found_after is not None, report
    print(f"planted effect found after {found_after:.0f} s at speed {SPEED:g}")
    finding = next(f for f in report.findings if f.name == MEMORY_FINDING)
    assert finding.failure_rate > finding.baseline_failure_rate and finding.q_value < 0.05
    assert report.error is None and report.runs_used >= 0.9 * report.runs_total
    # AND `mzt patterns` lists it, active, with its confidence and sample size
    out = io.StringIO()
    patterns_command(home.root, "resource_correlation", json_output=True, out=out)
    listed = {row["pattern_name"]: row for row in json.loads(out.getvalue())}
    row = listed[MEMORY_FINDING]
    assert row["active"] is True and row["sample_size"] == finding.group_size
    assert "memory_bin:1-2GB" in row["context_tags"] and "source:mzt_tui" in row["context_tags"]
    assert row["confidence"] == pytest.approx(finding.confidence, abs=0.001)
    # AND the outcomes joined to the runs are the demo's own, attempt by attempt
    truth = demo_truth(demo.log_path)
    with MonitorStore(home.monitor_db, readonly=True) as store:
        summaries = store.read_sheet_runs()
    joined = join_outcomes(
        summaries, registry_path=home.registry_db, learning=LearningStore(home.learning_db)
    )
    # (the registry's sheet number: the monitor may attribute a root that starts while the
    # registry is being read to another running sheet of its job)
    checked = wrong = 0
    for summary, run in zip(summaries, joined.runs, strict=True):
        if run.failed is None:
            continue
        checked += 1
        wrong += (run.job_id, run.sheet_num, run.attempt, run.failed) != truth[summary.root_pid]
    assert checked >= 0.9 * len(summaries) and wrong == 0
