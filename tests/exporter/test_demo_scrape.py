"""`mzt top --headless --prometheus` scraped over loopback while the demo conductor runs."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mzt_tui.demo.runner import DemoProcess, start_demo_background
from mzt_tui.marianne.registry import RegistryReader

pytestmark = pytest.mark.slow

SEED = 35
SPEED = 10.0
RUN_SECONDS = 60.0
JOB_FAMILIES = (
    "mzt_job_cpu_percent",
    "mzt_job_rss_bytes",
    "mzt_job_fds",
    "mzt_job_threads",
    "mzt_job_gpu_memory_bytes",
    "mzt_job_processes",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoProcess]:
    running = start_demo_background(tmp_path / "demo", seed=SEED, speed=SPEED, jobs=3)
    yield running
    running.stop()


@pytest.fixture
def exporter(demo: DemoProcess, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    command = [
        sys.executable,
        "-c",
        "from mzt_tui.cli import main; main()",
        "top",
        "--headless",
        "--interval",
        "0.5",
        "--prometheus",
        f"127.0.0.1:{port}",
        "--marianne-home",
        str(demo.home),
        "--pid-file",
        str(demo.pid_file),
        "--db",
        str(tmp_path / "monitor.db"),
    ]
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    yield f"http://127.0.0.1:{port}/metrics"
    child.terminate()
    _, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert f"Prometheus metrics at http://127.0.0.1:{port}/metrics" in err


def _scrape(url: str) -> dict[str, list[tuple[dict[str, str], float]]] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None
    return {
        family.name: [(dict(s.labels), s.value) for s in family.samples]
        for family in text_string_to_metric_families(text)
    }


def _sheets(families: dict[str, list[tuple[dict[str, str], float]]]) -> set[tuple[str, str]]:
    return {(labels["job"], labels["sheet"]) for labels, _ in families["mzt_job_rss_bytes"]}


def test_names_labels_and_an_ended_sheets_series_disappear(
    demo: DemoProcess, exporter: str
) -> None:
    registry = RegistryReader(demo.home / "daemon-state.db")
    first_seen: dict[tuple[str, str], int] = {}
    ended: tuple[str, str] | None = None
    scrapes = 0
    deadline = time.monotonic() + RUN_SECONDS
    while ended is None and time.monotonic() < deadline:
        time.sleep(0.5)
        families = _scrape(exporter)
        if families is None:
            continue
        scrapes += 1
        for name in (*JOB_FAMILIES, "mzt_ticks", "mzt_monitor_cpu_seconds", "mzt_conductor_up"):
            assert name in families, name
        for name in JOB_FAMILIES:
            for labels, value in families[name]:
                assert set(labels) == {"job", "sheet"}, (name, labels)
                assert value >= 0
        for name, samples in families.items():
            for labels, _ in samples:
                assert "pid" not in labels, name
        now_running = _sheets(families)
        jobs = {job.job_id: job for job in registry.list_jobs()}
        for job_id, sheet in now_running:
            state = jobs[job_id].sheets.get(int(sheet)) if sheet and job_id in jobs else None
            if state is not None:
                first_seen.setdefault((job_id, sheet), state.attempt_count)
        for key, attempt in first_seen.items():
            if key in now_running:
                continue
            state = jobs[key[0]].sheets.get(int(key[1]))
            if state is not None and (not state.active or state.attempt_count != attempt):
                ended = key
                break
    assert scrapes > 0, "the exporter never answered"
    assert first_seen, "no sheet's series was ever exported"
    assert ended is not None, f"no sheet ended within {RUN_SECONDS} s: {sorted(first_seen)}"
