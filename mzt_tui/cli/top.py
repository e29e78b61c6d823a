"""`mzt top`: pick the mode (history, headless, NDJSON, dashboard) from the flags."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mzt_tui.cli.web import DEFAULT_WEB_HOST, DEFAULT_WEB_PORT
from mzt_tui.models.errors import MztError, UsageError

if TYPE_CHECKING:
    from mzt_tui.marianne.paths import MarianneHome

DEMO_HOME = Path("~/.marianne-demo")


@dataclass(frozen=True)
class TopRequest:
    """The flags of `mzt top`, as given."""

    marianne_home: Path | None
    db: Path | None
    history: str | None
    json_output: bool
    score: str | None
    headless: bool
    interval: float | None
    once: bool
    record_system: bool
    pid_file: Path | None
    demo: bool
    strace: bool = False
    trace: int | None = None
    record_outcomes: bool = False
    readonly: bool = False
    config: Path | None = None
    prometheus: str | None = None
    web: bool = False
    web_host: str = DEFAULT_WEB_HOST
    web_port: int = DEFAULT_WEB_PORT


def run_top(request: TopRequest) -> None:
    """Run `mzt top` as the flags ask.

    Raises:
        UsageError: Flags that do not go together, or bad values.
        StoreError: A database that cannot be used.
    """
    from mzt_tui.cli.configuration import db_path, load_for
    from mzt_tui.marianne.paths import resolve_home

    home_root = request.marianne_home
    if request.demo and home_root is None:
        home_root = DEMO_HOME
    home = resolve_home(home_root, pid_file=request.pid_file)
    if request.demo and request.pid_file is None:
        home = resolve_home(home_root, pid_file=home.root / "marianne.pid")
    loaded = load_for(home, request.config, interval=request.interval, db=request.db)
    settings = loaded.settings
    _check_serving_flags(request)
    if request.trace is not None:
        from mzt_tui.cli.trace import run_trace

        code = run_trace(request.trace)
        if code:
            raise MztError(f"strace exited with status {code}")
        return
    if request.history is not None:
        if request.headless:
            raise UsageError("--history reads recorded data; it cannot be combined with --headless")
        if not request.json_output:
            _run_history_dashboard(request, home, db_path(loaded, home))
            return
        from mzt_tui.cli.history import print_history_json

        print_history_json(db_path(loaded, home), request.history, request.score)
        return
    if request.record_outcomes and not request.headless:
        raise UsageError("--record-outcomes records while recording: add --headless")
    if request.web:
        _run_web(request, home.root, home.pid_file if request.demo else request.pid_file)
        return
    if not (request.headless or request.json_output or request.once):
        from zoneinfo import ZoneInfo

        from mzt_tui.cli.configuration import check_keys
        from mzt_tui.ui.app import DASHBOARD_INTERVAL, make_app

        monitor_db = db_path(loaded, home)
        zone = settings.ui.timezone
        app = make_app(
            home,
            interval=settings.interval_seconds or DASHBOARD_INTERVAL,
            score=request.score,
            readonly=request.readonly,
            history_db=monitor_db,
            # The demo records its own home's monitor.db, so `h` has history to show.
            record_db=monitor_db if request.demo else None,
            timezone=ZoneInfo(zone) if zone else None,
            keymap=check_keys(loaded),
            anomaly_config=settings.anomaly,
        )
        dashboard_demo = None
        if request.demo:
            from mzt_tui.demo.runner import start_demo_background

            dashboard_demo = start_demo_background(home.root)
        try:
            app.run()
        finally:
            if dashboard_demo is not None:
                dashboard_demo.stop()
        return
    from mzt_tui.headless.exporter import parse_listen_address
    from mzt_tui.headless.run import HeadlessOptions, run_headless
    from mzt_tui.models import MonitorConfig

    options = HeadlessOptions(
        home=home,
        db_path=db_path(loaded, home),
        jsonl_path=settings.storage.jsonl_path,
        config=settings.monitor_config(MonitorConfig().interval_seconds),
        record=request.headless,
        stream_json=request.json_output or not request.headless,
        score=request.score,
        once=request.once,
        record_system=request.record_system,
        strace=request.strace,
        record_outcomes=request.record_outcomes,
        prometheus=parse_listen_address(request.prometheus) if request.prometheus else None,
    )
    if request.demo:
        from mzt_tui.demo.runner import start_demo_background

        demo = start_demo_background(home.root)
        try:
            run_headless(options)
        finally:
            demo.stop()
        return
    run_headless(options)


def _run_history_dashboard(request: TopRequest, home: MarianneHome, monitor_db: Path) -> None:
    """`mzt top --history DUR`: the dashboard over recorded data, read-only, no collector.

    Raises:
        UsageError: A bad duration.
        StoreError: monitor.db is missing or unreadable.
        NoDataError: The window holds no snapshot.
    """
    import time

    from mzt_tui.headless.history import open_history
    from mzt_tui.models.durations import parse_duration
    from mzt_tui.ui.app import make_app

    duration = parse_duration(request.history or "")
    # Fail with one line before the screen starts (the app opens its own source).
    open_history(monitor_db, duration, time.time()).close()
    make_app(
        home,
        score=request.score,
        readonly=True,
        history=duration,
        history_db=monitor_db,
    ).run()


def _check_serving_flags(request: TopRequest) -> None:
    """Refuse `--prometheus` without `--headless`, and `--web` with a mode of its own."""
    if request.prometheus is not None and not request.headless:
        raise UsageError("--prometheus serves what --headless records: add --headless")
    if request.web and (
        request.headless
        or request.json_output
        or request.once
        or request.history is not None
        or request.trace is not None
    ):
        raise UsageError(
            "--web serves the dashboard; it cannot be combined with"
            " --headless, --json, --once, --history or --trace"
        )
    if not request.web and (request.web_host, request.web_port) != (
        DEFAULT_WEB_HOST,
        DEFAULT_WEB_PORT,
    ):
        raise UsageError("--host and --port say where --web serves: add --web")


def _run_web(request: TopRequest, home_root: Path, pid_file: Path | None) -> None:
    """Serve the dashboard on the web (with the demo started once, here, for `--demo`)."""
    from mzt_tui.cli.web import check_port, dashboard_command, serve_dashboard

    check_port(request.web_port)
    command = dashboard_command(
        home_root,
        pid_file=pid_file,
        score=request.score,
        interval=request.interval,
        config=request.config,
        db=request.db,
        readonly=request.readonly,
    )
    if not request.demo:
        serve_dashboard(command, request.web_host, request.web_port)
        return
    from mzt_tui.demo.runner import start_demo_background

    demo = start_demo_background(home_root)
    try:
        serve_dashboard(command, request.web_host, request.web_port)
    finally:
        demo.stop()
