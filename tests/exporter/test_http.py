"""The exporter's HTTP endpoint on loopback: both formats, bind errors, the default address."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mzt_tui.cli import run
from mzt_tui.headless.exporter import (
    DEFAULT_HOST,
    PrometheusExporter,
    TickCollector,
    parse_listen_address,
)
from mzt_tui.models.errors import MztError, UsageError
from tests.exporter.openmetrics import parse_openmetrics
from tests.ui.factories import busy_tick


@pytest.fixture
def exporter() -> Iterator[PrometheusExporter]:
    served = PrometheusExporter(port=0)
    served.start()
    served.update(busy_tick())
    yield served
    served.stop()


def _get(url: str, accept: str | None = None) -> tuple[str, str]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.headers["Content-Type"], response.read().decode()


def test_the_default_address_is_loopback() -> None:
    assert PrometheusExporter().host == DEFAULT_HOST == "127.0.0.1"
    assert parse_listen_address(":9108") == ("127.0.0.1", 9108)
    assert parse_listen_address("0.0.0.0:9200") == ("0.0.0.0", 9200)
    assert parse_listen_address("[::1]:9108") == ("::1", 9108)


@pytest.mark.parametrize("text", ["9108", "host:", "host:port", ":0", ":70000", ""])
def test_a_bad_address_is_one_usage_line(text: str) -> None:
    with pytest.raises(UsageError, match="invalid --prometheus"):
        parse_listen_address(text)


def test_served_on_loopback_in_the_classic_text_format(exporter: PrometheusExporter) -> None:
    assert exporter.url.startswith("http://127.0.0.1:")
    content_type, text = _get(exporter.url)
    assert content_type.startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(text)}
    rss = families["mzt_job_rss_bytes"]
    assert {tuple(sorted(s.labels)) for s in rss.samples} == {("job", "sheet")}
    assert "mzt_gpu_temperature_celsius" in families


def test_served_as_openmetrics_when_asked(exporter: PrometheusExporter) -> None:
    content_type, text = _get(exporter.url, "application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert text.endswith("# EOF\n")
    families = {family.name: family for family in parse_openmetrics(text)}
    assert families["mzt_anomalies"].type == "counter"
    assert families["mzt_job_cpu_percent"].type == "gauge"


def test_the_socket_listens_on_loopback_only(exporter: PrometheusExporter) -> None:
    assert exporter._server is not None
    assert exporter._server.server_address[0] == "127.0.0.1"


def test_a_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MztError, match=f"cannot serve Prometheus metrics on 127.0.0.1:{port}"):
            PrometheusExporter(port=port).start()


def test_an_unknown_host_is_one_line() -> None:
    with pytest.raises(MztError, match=r"cannot serve Prometheus metrics on no-such-host\.invalid"):
        PrometheusExporter(host="no-such-host.invalid", port=0).start()


def test_stop_closes_the_socket() -> None:
    served = PrometheusExporter(port=0, collector=TickCollector())
    served.start()
    port = served.port
    served.stop()
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))


def test_cli_refuses_prometheus_without_headless(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["top", "--prometheus", ":9108"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "mzt: error: --prometheus serves what --headless records: add --headless"


def test_cli_a_port_in_use_exits_1_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from mzt_tui.cli import main; main()",
                "top",
                "--headless",
                "--once",
                "--prometheus",
                f":{port}",
                "--marianne-home",
                str(tmp_path / "home"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"mzt: error: cannot serve Prometheus metrics on 127.0.0.1:{port}")
    assert not (tmp_path / "home" / "monitor.db").exists()


@pytest.mark.slow
def test_cli_port_only_listens_on_loopback_only(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from mzt_tui.cli import main; main()",
            "top",
            "--headless",
            "--interval",
            "0.5",
            "--prometheus",
            f":{port}",
            "--marianne-home",
            str(tmp_path / "home"),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        deadline = time.monotonic() + 30
        while True:
            try:
                _, text = _get(url)
                break
            except OSError:
                assert time.monotonic() < deadline, "the exporter never answered"
                time.sleep(0.2)
        assert "mzt_ticks_total" in text
        listening = [
            c for c in psutil.Process(child.pid).net_connections("inet") if c.status == "LISTEN"
        ]
        assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", port)]
    finally:
        child.terminate()
        _, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
