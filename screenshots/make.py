"""Render the README's screenshots from the demo: `make screenshots`.

Starts the demo conductor (at 10x speed, so a minute holds enough finished sheets for the
correlation to find its planted effect) in a fixed home under the temp folder, runs
`mzt top` on it (Textual's headless driver, 120x40, the live collector on, recording the
demo home's monitor.db as `mzt top --demo` does), waits, then walks through the screens:
dashboard, processes, a job, patterns (after running the correlation with `c`), learning,
and history (`h`, a few steps back). Each is saved as an SVG in this folder; the dashboard
is also turned into a PNG with Debian's `chromium` (headless) when it is installed (without
it the PNG is left as it is and a line says so). The web view's PNG comes from
`screenshots/web.py`.

Run: `.venv/bin/python screenshots/make.py [--warmup 60]`.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mzt_tui.demo.runner import start_demo_background
from mzt_tui.ui.app import MztTopApp, make_app
from mzt_tui.ui.job_tree import JobTree

HERE = Path(__file__).resolve().parent
SIZE = (120, 40)


@dataclass(frozen=True)
class Shot:
    """One screenshot: the keys that lead to the screen from the dashboard, and the file."""

    name: str
    keys: Sequence[str]
    title: str


SHOTS = (
    Shot("dashboard", (), "the dashboard over the demo's jobs"),
    Shot("processes", ("p",), "every process, htop style"),
    Shot("job", (), "one job: charts, per-sheet peaks, events, patterns"),
    Shot("patterns", ("t", "c"), "learned patterns, after `c` ran the correlation"),
    Shot("learning", ("l",), "the learning store: executions, hours, waits"),
    Shot("history", ("h", "left", "left", "left"), "history over the recorded demo"),
)


async def _wait_for_jobs(app: MztTopApp, seconds: float) -> None:
    """Wait until the tree shows the demo's jobs (and then `seconds` more for history)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30.0
    while loop.time() < deadline:
        tree = app.screen.query_one(JobTree)
        if any(key.startswith("job:") for key in tree.keys):
            break
        await asyncio.sleep(0.5)
    else:
        raise RuntimeError("the demo's jobs did not appear within 30 s")
    await asyncio.sleep(seconds)


def _open_busiest_job(app: MztTopApp) -> None:
    """Open the job screen on the job with the most sheets and samples seen so far."""

    def seen(job_id: str) -> tuple[int, int]:
        series = app.job_series.get(job_id)
        if series is None:
            return (0, 0)
        return (len(series.sheet_peaks), len(series.points))

    jobs = app.job_series.job_ids
    if jobs:
        app.action_show_job(max(jobs, key=seen))


async def _render(home: Path, warmup: float, folder: Path) -> list[Path]:
    app = make_app(home, interval=1.0, record_db=home / "monitor.db")
    written: list[Path] = []
    async with app.run_test(size=SIZE) as pilot:
        await _wait_for_jobs(app, warmup)
        for shot in SHOTS:
            if shot.name == "job":
                _open_busiest_job(app)
            for key in shot.keys:
                await pilot.press(key)
                await pilot.pause(0.5)
            # Let workers (store reads, the correlation) finish and charts draw.
            await pilot.pause(12.0 if "c" in shot.keys else 2.0)
            path = Path(app.save_screenshot(f"{shot.name}.svg", str(folder)))
            written.append(path)
            await pilot.press("escape" if shot.name == "history" else "d")
            await pilot.pause(0.5)
            while len(app.screen_stack) > 1:
                app.pop_screen()
                await pilot.pause()
    return written


def svg_to_png(svg: Path, png: Path) -> bool:
    """Render `svg` to `png` with headless chromium; False when chromium is not installed."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return False
    match = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg.read_text(encoding="utf-8"))
    width, height = (round(float(v)) for v in match.groups()) if match else (1500, 1000)
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            svg.as_uri(),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
    )
    return png.exists()


def main(argv: Sequence[str] | None = None) -> int:
    """Start the demo, render every screen, convert the dashboard to PNG."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds of demo first")
    args = parser.parse_args(argv)
    # A fixed, neutral home: its path shows in the screenshots' header.
    home = Path(tempfile.gettempdir()) / "mzt-demo"
    shutil.rmtree(home, ignore_errors=True)
    demo = start_demo_background(home, seed=7, speed=10.0)
    try:
        written = asyncio.run(_render(home, args.warmup, HERE))
    finally:
        demo.stop()
        shutil.rmtree(home, ignore_errors=True)
    for path in written:
        print(f"wrote {path.relative_to(HERE.parent)}")
    dashboard = HERE / "dashboard.svg"
    if svg_to_png(dashboard, HERE / "dashboard.png"):
        print("wrote screenshots/dashboard.png")
    else:
        print("screenshots/dashboard.png left as it is: install chromium to render it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
