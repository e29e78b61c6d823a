"""`mzt top`: pick the mode (history, headless, NDJSON, dashboard) from the flags."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from mzt_tui.models import MonitorConfig
from mzt_tui.models.errors import MztError, UsageError

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


def _config(request: TopRequest) -> MonitorConfig:
    config = MonitorConfig()
    if request.interval is None:
        return config
    if not math.isfinite(request.interval) or request.interval <= 0:
        raise UsageError(f"invalid --interval {request.interval!r}: it must be above 0 seconds")
    return config.model_copy(update={"interval_seconds": request.interval})


def run_top(request: TopRequest) -> None:
    """Run `mzt top` as the flags ask.

    Raises:
        UsageError: Flags that do not go together, or bad values.
        StoreError: A database that cannot be used.
    """
    from mzt_tui.marianne.paths import resolve_home

    config = _config(request)
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
            _run_history_dashboard(request)
            return
        from mzt_tui.cli.history import print_history_json
        from mzt_tui.cli.options import monitor_db_path

        print_history_json(
            monitor_db_path(request.marianne_home, request.db), request.history, request.score
        )
        return
    home_root = request.marianne_home
    if request.record_outcomes and not request.headless:
        raise UsageError("--record-outcomes records while recording: add --headless")
    if request.demo and home_root is None:
        home_root = DEMO_HOME
    home = resolve_home(home_root, pid_file=request.pid_file)
    if request.demo and request.pid_file is None:
        home = resolve_home(home_root, pid_file=home.root / "marianne.pid")
    if not (request.headless or request.json_output or request.once):
        from mzt_tui.ui.app import DASHBOARD_INTERVAL, make_app

        db_path = request.db.expanduser() if request.db else home.monitor_db

        app = make_app(
            home,
            interval=config.interval_seconds
            if request.interval is not None
            else DASHBOARD_INTERVAL,
            score=request.score,
            readonly=request.readonly,
            history_db=db_path,
            # The demo records its own home's monitor.db, so `h` has history to show.
            record_db=db_path if request.demo else None,
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
    from mzt_tui.headless.run import HeadlessOptions, run_headless

    options = HeadlessOptions(
        home=home,
        db_path=request.db.expanduser() if request.db else home.monitor_db,
        config=config,
        record=request.headless,
        stream_json=request.json_output or not request.headless,
        score=request.score,
        once=request.once,
        record_system=request.record_system,
        strace=request.strace,
        record_outcomes=request.record_outcomes,
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


def _run_history_dashboard(request: TopRequest) -> None:
    """`mzt top --history DUR`: the dashboard over recorded data, read-only, no collector.

    Raises:
        UsageError: A bad duration.
        StoreError: monitor.db is missing or unreadable.
        NoDataError: The window holds no snapshot.
    """
    import time

    from mzt_tui.cli.options import monitor_db_path
    from mzt_tui.headless.history import open_history
    from mzt_tui.marianne.paths import resolve_home
    from mzt_tui.models.durations import parse_duration
    from mzt_tui.ui.app import make_app

    duration = parse_duration(request.history or "")
    home = resolve_home(request.marianne_home, pid_file=request.pid_file)
    db_path = monitor_db_path(request.marianne_home, request.db)
    # Fail with one line before the screen starts (the app opens its own source).
    open_history(db_path, duration, time.time()).close()
    make_app(
        home,
        score=request.score,
        readonly=True,
        history=duration,
        history_db=db_path,
    ).run()
