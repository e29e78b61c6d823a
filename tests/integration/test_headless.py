"""`mzt top --headless` and `--json` end to end: real files, real processes, real secrets."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mzt_tui.cli import run
from mzt_tui.demo.runner import start_demo_background
from mzt_tui.headless.run import HeadlessOptions, run_headless
from mzt_tui.marianne.paths import resolve_home
from mzt_tui.models import MonitorConfig, SystemSnapshot
from mzt_tui.store import MonitorStore

API_KEY = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
TOKEN = "tok_9Zq8Yx7Wv6Ut5Sr4Qp3On2"


@pytest.fixture
def secret_process() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; time.sleep(60)",
            f"--api-key={API_KEY}",
            f"TOKEN={TOKEN}",
        ]
    )
    time.sleep(0.2)
    yield child
    child.kill()
    child.wait()


def _all_bytes(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file())


def test_secrets_never_reach_any_output(
    tmp_path: Path, secret_process: subprocess.Popen[bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    assert (
        run(["top", "--headless", "--once", "--record-system", "--marianne-home", str(home)]) == 0
    )
    assert run(["top", "--json", "--once", "--marianne-home", str(tmp_path / "other")]) == 0
    ndjson = capsys.readouterr().out
    written = _all_bytes(home)
    for secret in (API_KEY, TOKEN):
        assert secret.encode() not in written
        assert secret not in ndjson
    # The process itself was recorded and streamed, with its secrets masked.
    streamed = SystemSnapshot.model_validate_json(ndjson.splitlines()[0])
    assert streamed.processes == ()  # without a conductor only the system view has it
    with MonitorStore(home / "monitor.db", readonly=True) as store:
        recorded = store.read_snapshots(0.0, limit=1)[0]
    ours = [p for p in recorded.processes if p.pid == secret_process.pid]
    assert len(ours) == 1
    assert "--api-key=***" in ours[0].command
    assert "TOKEN=***" in ours[0].command


def test_thirty_seconds_over_the_demo_read_back(tmp_path: Path) -> None:
    demo = start_demo_background(tmp_path / "demo", seed=35, speed=3.0)
    home = resolve_home(demo.home, pid_file=demo.pid_file)
    config = MonitorConfig(interval_seconds=1.0)
    options = HeadlessOptions(
        home=home, db_path=home.monitor_db, config=config, record=True, stream_json=False
    )
    stop = threading.Event()
    status = io.StringIO()
    recorder = threading.Thread(
        target=run_headless, args=(options,), kwargs={"stop": stop, "stderr": status}
    )
    try:
        recorder.start()
        time.sleep(30.0)
    finally:
        stop.set()
        recorder.join(timeout=30)
        demo.stop()
    assert not recorder.is_alive()
    assert "warning" not in status.getvalue()
    with MonitorStore(home.monitor_db, readonly=True) as store:
        count = store.count_snapshots()
        snapshots = store.read_snapshots(0.0, limit=count)
        jobs = store.job_ids()
        profile = store.read_job_resource_profile(jobs[0])
        events = store.read_events(0.0, limit=10_000)
    assert 27 <= count <= 32
    assert len(jobs) >= 2
    assert profile.unique_pid_count > 0
    assert profile.peak_rss_mb > 0
    assert {e.event_type.value for e in events} >= {"spawn", "exit"}
    lines = home.monitor_jsonl.read_text().splitlines()
    assert len(lines) == count
    parsed = [SystemSnapshot.model_validate_json(line) for line in lines]
    assert [s.timestamp for s in parsed] == [s.timestamp for s in snapshots]
    assert all(s.daemon_pid == demo.pid for s in parsed)


def test_a_storm_of_short_lived_processes(tmp_path: Path) -> None:
    """200 processes a second for 10 s while recording everything: no crash, no warning."""
    home = resolve_home(tmp_path / "home")
    options = HeadlessOptions(
        home=home,
        db_path=home.monitor_db,
        config=MonitorConfig(interval_seconds=0.2),
        record=True,
        stream_json=False,
        record_system=True,
    )
    stop = threading.Event()
    status = io.StringIO()
    recorder = threading.Thread(
        target=run_headless, args=(options,), kwargs={"stop": stop, "stderr": status}
    )
    spawned = 0
    recorder.start()
    try:
        started = time.monotonic()
        while time.monotonic() - started < 10.0:
            batch = [subprocess.Popen(["true"]) for _ in range(20)]
            for child in batch:
                child.wait()
            spawned += len(batch)
            time.sleep(max(0.0, spawned / 200.0 - (time.monotonic() - started)))
    finally:
        stop.set()
        recorder.join(timeout=30)
    assert not recorder.is_alive()
    assert spawned >= 1500
    assert "warning" not in status.getvalue()
    assert "Traceback" not in status.getvalue()
    with MonitorStore(home.monitor_db, readonly=True) as store:
        assert store.count_snapshots() >= 40
