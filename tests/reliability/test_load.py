"""Load: 500 process spawns and exits a second while recording the demo conductor."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mzt_tui.demo.runner import start_demo_background
from mzt_tui.headless.run import HeadlessOptions, run_headless
from mzt_tui.marianne.paths import resolve_home
from mzt_tui.models import EventType, MonitorConfig, SystemSnapshot
from mzt_tui.store import MonitorStore
from tests.reliability.helpers import figure, integrity, scaled

pytestmark = pytest.mark.slow

RATE = 500.0
INTERVAL = 0.5
STARTED = re.compile(r"job (\S+) sheet (\d+) attempt (\d+) started: .*PID (\d+)")
ENDED = re.compile(r"job (\S+) sheet (\d+) attempt (\d+) (?:completed|failed)")
ENDINGS = {EventType.EXIT, EventType.KILL, EventType.SIGNAL, EventType.OOM}


def test_a_spawn_storm_while_recording_the_demo(tmp_path: Path) -> None:
    seconds = scaled(60.0)
    demo = start_demo_background(tmp_path / "demo", seed=35, speed=4.0)
    home = resolve_home(demo.home, pid_file=demo.pid_file)
    options = HeadlessOptions(
        home=home,
        db_path=home.monitor_db,
        config=MonitorConfig(interval_seconds=INTERVAL),
        record=True,
        stream_json=False,
    )
    stop = threading.Event()
    status = io.StringIO()
    recorder = threading.Thread(
        target=run_headless, args=(options,), kwargs={"stop": stop, "stderr": status}
    )
    recorder.start()
    try:
        storm = subprocess.run(
            [sys.executable, "-m", "tests.reliability.spawn_storm", str(RATE), str(seconds)],
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            check=True,
        )
        storm_ended = time.time()
        time.sleep(3 * INTERVAL)  # the exits of the last sheets reach a tick
    finally:
        stop.set()
        recorder.join(timeout=60)
        demo.stop()
    achieved = json.loads(storm.stdout)
    assert not recorder.is_alive()
    assert "Traceback" not in status.getvalue()
    assert "warning" not in status.getvalue(), status.getvalue()
    log = demo.log_path.read_text().splitlines()
    roots = {m.groups()[:3]: int(m.group(4)) for line in log if (m := STARTED.search(line))}
    ended_roots = set()
    for line in log:
        match = ENDED.search(line)
        stamp = time.strptime(line.split()[0], "%H:%M:%S")
        if match and time.localtime(storm_ended)[3:6] >= stamp[3:6]:
            ended_roots.add(roots[match.groups()])
    assert integrity(home.monitor_db) == "ok"
    with MonitorStore(home.monitor_db, readonly=True) as store:
        events = store.read_events(0.0, limit=100_000)
        ticks = store.count_snapshots()
    exited = {e.pid for e in events if e.event_type in ENDINGS}
    assert ended_roots, "the demo ended no sheet during the storm"
    assert ended_roots <= exited, sorted(ended_roots - exited)
    lines = [SystemSnapshot.model_validate_json(line) for line in home.monitor_jsonl.open()]
    slowest = max(s.monitor.tick_seconds for s in lines)
    late = lines[-1].monitor.late_ticks
    expected_ticks = (seconds + 3 * INTERVAL) / INTERVAL
    assert ticks >= 0.8 * expected_ticks
    figure(
        "load",
        f"{achieved['spawned']} spawns in {achieved['seconds']:.0f} s "
        f"({achieved['rate']:.0f}/s achieved of {RATE:.0f}/s); {ticks} ticks at {INTERVAL} s, "
        f"slowest tick {slowest * 1000:.0f} ms, {late} late ticks; "
        f"{len(ended_roots)}/{len(ended_roots)} sheet roots' exits recorded",
    )
