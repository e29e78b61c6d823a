"""The typer application: commands and their flags. Bodies live in sibling modules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mzt_tui.cli.options import (
    ConfigOption,
    DbOption,
    JsonOption,
    MarianneHomeOption,
    ScoreOption,
    VersionOption,
    monitor_db_path,
)

app = typer.Typer(
    name="mzt",
    help="mzt_tui: a top for Marianne job fleets.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Examples:\n\n  mzt top\n\n  mzt top --headless --once\n\n  mzt config show\n\n"
    "  mzt --install-completion",
)
config_app = typer.Typer(
    name="config",
    help="The configuration: top.toml, MZT_TOP_* variables and conductor.yaml's paths.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Examples:\n\n  mzt config show\n\n  mzt config show --json --config ./top.toml",
)
app.add_typer(config_app)


@app.callback()
def main_options(version: VersionOption = False) -> None:
    """mzt_tui: a top for Marianne job fleets."""


@app.command()
def top(
    marianne_home: MarianneHomeOption = None,
    db: DbOption = None,
    history: Annotated[
        str | None,
        typer.Option(
            "--history",
            help="Show recorded data from the last DUR (30s, 5m, 1h, 2h30m; a bare number is "
            "minutes).",
            metavar="DUR",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Stream one JSON snapshot per line to stdout (with --history: one document).",
        ),
    ] = False,
    score: ScoreOption = None,
    headless: Annotated[
        bool,
        typer.Option("--headless", help="Record to monitor.db and monitor.jsonl without a screen."),
    ] = False,
    interval: Annotated[
        float | None,
        typer.Option(
            "--interval", "-i", help="Seconds between samples. [default: 5]", show_default=False
        ),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Take one sample, then exit.")] = False,
    record_system: Annotated[
        bool,
        typer.Option("--record-system", help="Record every process, not only jobs' processes."),
    ] = False,
    pid_file: Annotated[
        Path | None,
        typer.Option(
            "--pid-file",
            help="The conductor's PID file. [default: /tmp/marianne.pid]",
            show_default=False,
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Start the built-in demo conductor (home ~/.marianne-demo) and watch it.",
        ),
    ] = False,
    strace: Annotated[
        bool,
        typer.Option("--strace", help="Summarise sheet processes' syscalls with strace -c."),
    ] = False,
    record_outcomes: Annotated[
        bool,
        typer.Option(
            "--record-outcomes",
            help="With --headless: record each sheet that ends in the registry into the "
            "learning store (once per attempt).",
        ),
    ] = False,
    readonly: Annotated[
        bool,
        typer.Option("--readonly", help="Refuse every action on processes (x: signal)."),
    ] = False,
    trace: Annotated[
        int | None,
        typer.Option(
            "--trace",
            help="Stream a full strace of process PID and its children.",
            metavar="PID",
            show_default=False,
        ),
    ] = None,
    config: ConfigOption = None,
    version: VersionOption = False,
    prometheus: Annotated[
        str | None,
        typer.Option(
            "--prometheus",
            help="With --headless: serve Prometheus/OpenMetrics at http://HOST:PORT/metrics "
            "(:PORT binds 127.0.0.1).",
            metavar="HOST:PORT",
            show_default=False,
        ),
    ] = None,
    web: Annotated[
        bool,
        typer.Option("--web", help="Serve the dashboard to a browser (textual-serve)."),
    ] = False,
    host: Annotated[
        str, typer.Option("--host", help="With --web: the address to bind.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="With --web: the port to bind.")] = 8000,
) -> None:
    """Watch jobs, sheets and their processes.

    Examples:

      mzt top --headless                     # record without a screen (Ctrl-C stops)

      mzt top --json -s my-score             # stream one job's snapshots as NDJSON

      mzt top --history 1h --json            # the last hour as one JSON document

      mzt top --history 1h                   # replay the last hour in the dashboard

      mzt top --demo --headless --once       # one sample of the built-in demo

      mzt top --headless --strace            # with syscall summaries per sheet

      mzt top --trace 4242                   # a full strace of one process tree

      mzt top --config ./top.toml -i 1       # another configuration file, 1 s ticks
      mzt top --headless --prometheus :9108  # metrics on 127.0.0.1:9108

      mzt top --web                          # at http://127.0.0.1:8000
    """
    from mzt_tui.cli.top import TopRequest, run_top

    run_top(
        TopRequest(
            marianne_home=marianne_home,
            db=db,
            history=history,
            json_output=json_output,
            score=score,
            headless=headless,
            interval=interval,
            once=once,
            record_system=record_system,
            pid_file=pid_file,
            demo=demo,
            strace=strace,
            trace=trace,
            record_outcomes=record_outcomes,
            readonly=readonly,
            config=config,
            prometheus=prometheus,
            web=web,
            web_host=host,
            web_port=port,
        )
    )


@app.command()
def diagnose(
    job: Annotated[str, typer.Argument(help="The job (score name) to report on.")],
    resources: Annotated[
        bool, typer.Option("--resources", help="Report resource use (the default report).")
    ] = True,
    json_output: JsonOption = False,
    marianne_home: MarianneHomeOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Report a job's resource use: peaks, CPU seconds, spawns, syscalls, signals, OOM.

    Examples:

      mzt diagnose my-score --resources

      mzt diagnose my-score --resources --json | jq .peak_rss_mb
    """
    from mzt_tui.cli.configuration import db_path, load_for
    from mzt_tui.cli.diagnose import print_resource_report
    from mzt_tui.marianne.paths import resolve_home

    home = resolve_home(marianne_home)
    loaded = load_for(home, config, db=db)
    print_resource_report(db_path(loaded, home), job, as_json=json_output)


@app.command()
def dump(
    since: Annotated[
        str,
        typer.Option(
            "--since", help="Window start: a duration ago (30m, 2h) or an ISO time.", metavar="WHEN"
        ),
    ] = "1h",
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="Window end: a duration ago or an ISO time. [default: now]",
            metavar="WHEN",
            show_default=False,
        ),
    ] = None,
    score: ScoreOption = None,
    sheet: Annotated[
        int | None, typer.Option("--sheet", help="Only this sheet.", show_default=False)
    ] = None,
    output: Annotated[
        str,
        typer.Option(
            "--output", "-O", help="json (JSON Lines), csv or openmetrics.", metavar="FORMAT"
        ),
    ] = "json",
    fields: Annotated[
        str | None,
        typer.Option(
            "--fields",
            help="Only these fields, in this order (comma-separated).",
            metavar="A,B",
            show_default=False,
        ),
    ] = None,
    marianne_home: MarianneHomeOption = None,
    db: DbOption = None,
) -> None:
    """Stream recorded process samples (one per process and tick) to stdout.

    Times are UTC unless they name a zone. Rows are read and written a chunk at a time.

    Examples:

      mzt dump --since 2h -s my-score | jq -c 'select(.rss_mb > 1000)'

      mzt dump --since 2026-01-31T14:00Z --until 30m -O csv --fields pid,rss_mb

      mzt dump --since 1h --sheet 3 -O openmetrics > sheet3.om
    """
    from mzt_tui.cli.dump import DumpRequest, run_dump

    run_dump(
        DumpRequest(
            db_path=monitor_db_path(marianne_home, db),
            since=since,
            until=until,
            score=score,
            sheet=sheet,
            output=output,
            fields=fields,
        )
    )


@app.command()
def demo(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home", help="The demo's home. [default: ~/.marianne-demo]", show_default=False
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for a repeatable run.", show_default=False)
    ] = None,
    speed: Annotated[float, typer.Option("--speed", help="Run faster (2 = twice as fast).")] = 1.0,
    jobs: Annotated[int, typer.Option("--jobs", help="Jobs running at once.")] = 3,
) -> None:
    """Run the built-in demo conductor in the foreground (Ctrl-C stops it).

    It writes a registry and a PID file under its own home, never ~/.marianne, and runs
    real sheet processes. Watch it from another terminal with
    `mzt top --marianne-home ~/.marianne-demo`.

    Examples:

      mzt demo

      mzt demo --seed 7 --speed 2 --home /tmp/demo-home
    """
    from mzt_tui.demo.runner import run_demo
    from mzt_tui.models.errors import UsageError

    if not 0 < speed <= 100:
        raise UsageError(f"invalid --speed {speed!r}: it must be above 0 and at most 100")
    if not 1 <= jobs <= 20:
        raise UsageError(f"invalid --jobs {jobs!r}: it must be from 1 to 20")
    raise typer.Exit(run_demo(home, seed=seed, speed=speed, jobs=jobs))


@app.command()
def learning(
    json_output: JsonOption = False,
    error_code: Annotated[
        str | None,
        typer.Option(
            "--error-code", help="Only this error code's window and waits.", show_default=False
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Only this model's executions.", show_default=False),
    ] = None,
    static_delay: Annotated[
        float,
        typer.Option("--static-delay", help="Seconds to wait when nothing is learned yet."),
    ] = 60.0,
    marianne_home: MarianneHomeOption = None,
) -> None:
    """Show what the learning store knows about executions: statistics, recent sheets,
    the hours of the day when work succeeds, learned wait times, workspace clusters.

    Examples:

      mzt learning

      mzt learning --json --static-delay 30 | jq .wait_times

      mzt learning --error-code E101 --model claude-sonnet-4-5
    """
    from mzt_tui.cli.learning import learning_command

    learning_command(marianne_home, json_output, error_code, model, static_delay)


@app.command()
def correlate(
    json_output: JsonOption = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Analyse and report, but store no pattern.")
    ] = False,
    marianne_home: MarianneHomeOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Find resource patterns that go with failed sheets, with statistics that hold up.

    Each feature (peak RSS bin, anomalies, dominant syscall, duration, CPU ...) is tested
    against sheet outcomes (Fisher's exact test, Mann-Whitney U), with Benjamini-Hochberg
    over all tests; only findings with q < 0.05 become resource_correlation patterns.

    Examples:

      mzt correlate --dry-run

      mzt correlate --json | jq '.findings[].description'
    """
    from mzt_tui.cli.correlate import correlate_command

    correlate_command(marianne_home, db, json_output, dry_run, config_path=config)


@app.command()
def patterns(
    pattern_type: Annotated[
        str | None,
        typer.Option(
            "--type", help="Only this pattern type (e.g. resource_correlation).", show_default=False
        ),
    ] = None,
    json_output: JsonOption = False,
    marianne_home: MarianneHomeOption = None,
) -> None:
    """List learned patterns of every type from global-learning.db.

    Examples:

      mzt patterns

      mzt patterns --type resource_correlation --json
    """
    from mzt_tui.cli.patterns import patterns_command

    patterns_command(marianne_home, pattern_type, json_output)


@config_app.command("show")
def config_show(
    json_output: JsonOption = False,
    config: ConfigOption = None,
    marianne_home: MarianneHomeOption = None,
) -> None:
    """Print the effective configuration: every key, its value and where it came from
    (default, file PATH, env MZT_TOP_..., flag, conductor.yaml PATH).

    Examples:

      mzt config show

      mzt config show --json | jq '.values[] | select(.source != "default")'

      MZT_TOP_RETENTION__EVENTS_DAYS=60 mzt config show --config ./top.toml
    """
    from mzt_tui.cli.configuration import check_keys, load_for, show_config
    from mzt_tui.marianne.paths import resolve_home
    from mzt_tui.ui.keymap import binding_ids

    home = resolve_home(marianne_home)
    loaded = load_for(home, config)
    check_keys(loaded)
    show_config(loaded, as_json=json_output, default_keys=binding_ids(), home=home)
