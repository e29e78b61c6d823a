"""Screenshot `mzt top --web --demo` in headless Chromium (Debian's `chromium`).

Starts the web dashboard on a free loopback port with the demo conductor in a temporary
home, opens it in headless Chromium, waits (real time: the dashboard comes over a
websocket, which Chromium's --virtual-time-budget does not wait for), captures the page
through the DevTools protocol, and stops everything.

    .venv/bin/python screenshots/web.py [--out screenshots/web-dashboard.png] [--wait 12]

Exit status 0 when the PNG is written; 1 with one line on stderr otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

WIDTH, HEIGHT = 1400, 900


def free_port() -> int:
    """A port free on loopback now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, timeout: float) -> bytes:
    """GET `url` until it answers 200, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (http only)
                return bytes(response.read())
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.2)


def stop(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 15 s."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


async def capture(debug_port: int, url: str, wait: float) -> bytes:
    """Navigate Chromium's first page to `url`, wait `wait` seconds, return a PNG."""
    targets = json.loads(wait_for(f"http://127.0.0.1:{debug_port}/json/list", 20))
    page = next(t for t in targets if t.get("type") == "page")
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws,
    ):
        ids = iter(range(1, 1_000_000))

        async def call(method: str, **params: Any) -> dict[str, Any]:
            number = next(ids)
            await ws.send_json({"id": number, "method": method, "params": params})
            while True:
                message = await ws.receive_json()
                if message.get("id") == number:
                    if "error" in message:
                        raise RuntimeError(f"{method}: {message['error']}")
                    result: dict[str, Any] = message["result"]
                    return result

        await call("Page.enable")
        await call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )
        await call("Page.navigate", url=url)
        await asyncio.sleep(wait)
        shot = await call("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])


def screenshot(out: Path, wait: float, chromium: str) -> None:
    """Serve the demo dashboard, screenshot it into `out`, stop everything."""
    with tempfile.TemporaryDirectory(prefix="mzt-web-") as scratch:
        web_port, debug_port = free_port(), free_port()
        web = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from mzt_tui.cli import main; main()",
                "top",
                "--web",
                "--demo",
                "--port",
                str(web_port),
                "--marianne-home",
                str(Path(scratch) / "home"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        browser: subprocess.Popen[bytes] | None = None
        try:
            url = f"http://127.0.0.1:{web_port}/"
            wait_for(url, 30)
            browser = subprocess.Popen(
                [
                    chromium,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    f"--window-size={WIDTH},{HEIGHT}",
                    f"--remote-debugging-port={debug_port}",
                    f"--user-data-dir={Path(scratch) / 'chromium'}",
                    "about:blank",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            png = asyncio.run(capture(debug_port, url, wait))
        finally:
            if browser is not None:
                stop(browser)
            stop(web)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png)


def main() -> int:
    """Parse the flags, take the screenshot, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots/web-dashboard.png"))
    parser.add_argument("--wait", type=float, default=12.0, help="seconds to let it render")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("web.py: error: no chromium on PATH (apt-get install chromium)", file=sys.stderr)
        return 1
    try:
        screenshot(args.out, args.wait, chromium)
    except (OSError, TimeoutError, RuntimeError, aiohttp.ClientError) as error:
        print(f"web.py: error: {error}", file=sys.stderr)
        return 1
    print(f"web.py: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
