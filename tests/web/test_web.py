"""`mzt top --web`: the command each tab runs, the flags, the page on loopback, Chromium."""

from __future__ import annotations

import shlex
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from mzt_tui.cli import run
from mzt_tui.cli.web import DEFAULT_WEB_HOST, dashboard_command

REPO_ROOT = Path(__file__).resolve().parents[2]
MZT = [sys.executable, "-c", "from mzt_tui.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_each_tab_runs_mzt_top_on_the_same_home() -> None:
    command = dashboard_command(
        Path("/workspaces/demo home"),
        pid_file=Path("/workspaces/demo home/marianne.pid"),
        score="train-model",
        interval=2.5,
        python="/opt/py/bin/python",
    )
    assert shlex.split(command) == [
        "/opt/py/bin/python",
        "-c",
        "from mzt_tui.cli import top_main; top_main()",
        "--marianne-home",
        "/workspaces/demo home",
        "--pid-file",
        "/workspaces/demo home/marianne.pid",
        "--score",
        "train-model",
        "--interval",
        "2.5",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--web", "--headless"], "--web serves the dashboard; it cannot be combined with"),
        (["--web", "--json"], "--web serves the dashboard; it cannot be combined with"),
        (["--web", "--history", "1h"], "--web serves the dashboard; it cannot be combined with"),
        (["--port", "9000"], "--host and --port say where --web serves: add --web"),
        (["--host", "0.0.0.0"], "--host and --port say where --web serves: add --web"),
        (["--web", "--port", "0"], "invalid --port 0: it must be from 1 to 65535"),
        (["--web", "--port", "70000"], "invalid --port 70000: it must be from 1 to 65535"),
    ],
)
def test_bad_web_flags_are_one_line(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["top", *argv, "--marianne-home", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"mzt: error: {message}")


def test_the_default_bind_address_is_loopback() -> None:
    assert DEFAULT_WEB_HOST == "127.0.0.1"


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = _free_port()
    child = subprocess.Popen(
        [*MZT, "top", "--web", "--port", str(port), "--marianne-home", str(tmp_path / "home")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield child, port
    child.terminate()
    child.communicate(timeout=30)


def _get(url: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode())
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.slow
def test_the_page_is_served_on_loopback_only(
    web_server: tuple[subprocess.Popen[str], int],
) -> None:
    child, port = web_server
    page = _get(f"http://127.0.0.1:{port}/")
    assert "mzt top" in page  # the splash shown while the tab's `mzt top` starts
    assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page
    assert "textual.js" in page
    listening = [
        c for c in psutil.Process(child.pid).net_connections("inet") if c.status == "LISTEN"
    ]
    assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", port)]


@pytest.mark.slow
def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*MZT, "top", "--web", "--port", str(port), "--marianne-home", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"mzt: error: cannot serve the dashboard on 127.0.0.1:{port}:")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_headless_chromium_renders_the_demo_dashboard(tmp_path: Path) -> None:
    shot = tmp_path / "web.png"
    done = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "screenshots" / "web.py"),
            "--out",
            str(shot),
            "--wait",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1400, 900)
    # The loading screen (one logo on a plain ground) compresses to about 14 KB; the
    # dashboard's text, gauges and tables to about 100 KB.
    assert len(png) > 50_000
