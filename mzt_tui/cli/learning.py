"""`mzt learning`: what the conductor's learning store has learned from sheet outcomes.

Statistics, the latest executions, the hours of the day when error recoveries succeed,
the wait learned for each error code and the workspace clusters, as a report or, with
`--json`, as one document with the keys `stats`, `recent`, `optimal_window` and
`wait_times`. Nothing is written to the learning store.
"""

from __future__ import annotations

import json
import math
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from rich import box
from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from mzt_tui.analysis.learning_rules import day_profile
from mzt_tui.headless.learning_view import LearningReport, WaitRow, read_learning_report
from mzt_tui.models.errors import UsageError
from mzt_tui.models.learning import ExecutionRecord
from mzt_tui.models.outcomes import ExecutionStats, HourSuccess, WorkspaceCluster
from mzt_tui.ui.formatting import format_seconds, format_share


def _check_arguments(error_code: str | None, model: str | None, static_delay: float) -> None:
    """Refuse a static delay that is not a positive finite number, and empty filters."""
    if (
        isinstance(static_delay, bool)
        or not isinstance(static_delay, int | float)
        or not math.isfinite(static_delay)
        or static_delay <= 0
    ):
        raise UsageError(
            f"invalid --static-delay {static_delay!r}: it must be a number of seconds above 0"
        )
    for flag, value in (("--error-code", error_code), ("--model", model)):
        if value is not None and not value.strip():
            raise UsageError(f"invalid {flag}: it must not be empty")


def execution_json(record: ExecutionRecord) -> dict[str, object]:
    """Return an execution record with the conductor's keys, times as stored (ISO text)."""
    return {
        "id": record.id,
        "workspace_hash": record.workspace_hash,
        "job_hash": record.job_hash,
        "sheet_num": record.sheet_num,
        "started_at": record.started_at.isoformat() if record.started_at else None,
        "completed_at": record.completed_at.isoformat() if record.completed_at else None,
        "duration_seconds": record.duration_seconds,
        "status": record.status,
        "retry_count": record.retry_count,
        "success_without_retry": record.success_without_retry,
        "validation_pass_rate": record.validation_pass_rate,
        "confidence_score": record.confidence_score,
        "model": record.model,
        "error_codes": list(record.error_codes),
    }


def report_document(report: LearningReport) -> dict[str, object]:
    """The `--json` document: `stats`, `recent`, `optimal_window`, `wait_times`."""
    return {
        "stats": report.stats.model_dump(mode="json"),
        "recent": [execution_json(record) for record in report.recent],
        "optimal_window": report.window.model_dump(mode="json"),
        "wait_times": {
            row.error_code: {
                "delay_seconds": row.wait.delay_seconds,
                "confidence": row.wait.confidence,
                "strategy": row.wait.strategy,
            }
            for row in report.waits
        },
    }


def learning_command(
    marianne_home: Path | None,
    json_output: bool,
    error_code: str | None,
    model: str | None,
    static_delay: float,
) -> None:
    """Show what the learning store learned from sheet outcomes and error recoveries.

    Args:
        marianne_home: `--marianne-home`, or None for `$MARIANNE_HOME` or `~/.marianne`.
        json_output: Print one JSON document instead of the report.
        error_code: Only this error code for the hour-of-day window and the wait times.
        model: Only this model's recoveries for the window and the wait times.
        static_delay: The retry delay without learning, in seconds (the fallback).

    Raises:
        UsageError: The static delay is not above 0, or a filter is empty.
        NoDataError: There is no learning store.
        StoreError: The learning store cannot be read.
    """
    from mzt_tui.marianne.paths import resolve_home

    _check_arguments(error_code, model, static_delay)
    path = resolve_home(marianne_home).learning_db
    report = read_learning_report(path, error_code, model, float(static_delay))
    stream: TextIO = sys.stdout
    if json_output:
        json.dump(report_document(report), stream, indent=2)
        stream.write("\n")
        return
    _print_report(stream, report, error_code, model, float(static_delay))


# The text report ------------------------------------------------------------------------


def _short_time(value: datetime | None) -> str:
    """A stored time as `MM-DD HH:MM` in the zone it was stored in."""
    return "-" if value is None else value.strftime("%m-%d %H:%M")


def _hours_text(hours: tuple[int, ...]) -> str:
    """Hours as `09h, 10h`, or `none`."""
    return ", ".join(f"{hour:02d}h" for hour in hours) if hours else "none"


def _stats_table(stats: ExecutionStats) -> Table:
    """The conductor's statistics, one per line."""
    table = Table(title="Statistics", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for label, value in (
        ("executions", str(stats.total_executions)),
        ("succeeded without retry", format_share(stats.success_without_retry_rate)),
        ("workspaces", str(stats.unique_workspaces)),
        ("patterns", str(stats.total_patterns)),
        ("mean pattern effectiveness", f"{stats.avg_pattern_effectiveness:.2f}"),
        ("error recoveries", str(stats.total_error_recoveries)),
    ):
        table.add_row(label, value)
    return table


def _recent_table(records: list[ExecutionRecord]) -> Table:
    """The latest executions, newest first."""
    table = Table(
        title=f"Latest {len(records)} executions",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    cells = [
        (
            _short_time(record.completed_at),
            record.job_hash[:8],
            str(record.sheet_num),
            record.status or "-",
            str(record.retry_count),
            format_seconds(record.duration_seconds),
            format_share(record.validation_pass_rate),
            f"{record.confidence_score:.2f}",
            ", ".join(record.error_codes) or "-",
            record.model or "-",
        )
        for record in records
    ]
    numeric = {"sheet", "retry", "took", "pass", "conf"}
    fixed = ("completed", "job", "sheet", "status", "retry", "took", "pass", "conf")
    for index, name in enumerate(fixed):
        # These keep their full width; errors and model give way on a narrow screen.
        width = max(len(name), *(len(line[index]) for line in cells))
        justify: JustifyMethod = "right" if name in numeric else "left"
        table.add_column(name, justify=justify, no_wrap=True, min_width=width)
    table.add_column("errors", overflow="ellipsis", no_wrap=True, min_width=6)
    table.add_column("model", overflow="ellipsis", no_wrap=True, min_width=5)
    for line in cells:
        table.add_row(*(Text(cell) for cell in line))
    return table


def _hours_table(hours: list[HourSuccess]) -> Table:
    """Recoveries and their success by hour, for the hours that have any."""
    table = Table(show_edge=False)
    for name in ("hour", "recoveries", "succeeded", "rate"):
        table.add_column(name, justify="right")
    table.add_column("verdict")
    for hour in day_profile(hours):
        if hour.total:
            table.add_row(
                f"{hour.hour:02d}h",
                str(hour.total),
                str(hour.successes),
                format_share(hour.success_rate),
                hour.verdict,
            )
    return table


def _waits_table(waits: list[WaitRow], static_delay: float) -> Table:
    """Each error code's learned wait and the delay it gives."""
    table = Table(
        title=f"Wait times (static delay {format_seconds(static_delay)})", title_justify="left"
    )
    table.add_column("error code")
    for name in ("successes", "learned", "delay", "confidence"):
        table.add_column(name, justify="right")
    table.add_column("strategy")
    for wait_row in waits:
        table.add_row(
            Text(wait_row.error_code),
            str(wait_row.successful_samples),
            format_seconds(wait_row.learned_seconds),
            format_seconds(wait_row.wait.delay_seconds),
            f"{wait_row.wait.confidence:.2f}",
            wait_row.wait.strategy,
        )
    return table


def _clusters_table(clusters: list[WorkspaceCluster]) -> Table:
    """Each cluster with its workspaces."""
    table = Table(title="Workspace clusters", title_justify="left")
    table.add_column("cluster")
    table.add_column("workspaces", justify="right")
    table.add_column("workspace hashes")
    members: dict[str, list[str]] = {}
    for cluster in clusters:
        members.setdefault(cluster.cluster_id or "-", []).append(cluster.workspace_hash)
    for cluster_id, hashes in members.items():
        table.add_row(Text(cluster_id), str(len(hashes)), Text(", ".join(hashes)))
    return table


def _print_report(
    stream: TextIO,
    report: LearningReport,
    error_code: str | None,
    model: str | None,
    static_delay: float,
) -> None:
    """Write the report as rich tables to `stream`."""
    console = Console(file=stream, highlight=False)
    version = "no version" if report.schema_version is None else f"schema {report.schema_version}"
    console.print(
        f"[bold]Learning store[/bold] {escape(str(report.path))} ({version})", soft_wrap=True
    )
    filters = [f"error code {error_code}"] if error_code else []
    filters += [f"model {model}"] if model else []
    if filters:
        console.print(escape(f"Window and wait times for {' and '.join(filters)}"), soft_wrap=True)
    console.print(_stats_table(report.stats))
    if report.recent:
        console.print(_recent_table(report.recent))
    else:
        console.print("Executions: none recorded")
    window = report.window
    console.print(
        f"[bold]Hours of the day[/bold] (local): optimal {_hours_text(window.optimal_hours)};"
        f" avoid {_hours_text(window.avoid_hours)};"
        f" confidence {window.confidence:.2f} from {window.sample_count} recoveries",
        soft_wrap=True,
    )
    if any(hour.total for hour in report.hours):
        console.print(_hours_table(report.hours))
    if report.waits:
        console.print(_waits_table(report.waits, static_delay))
    else:
        console.print("Wait times: no error recoveries recorded")
    if report.clusters:
        console.print(_clusters_table(report.clusters))
    else:
        console.print("Workspace clusters: none assigned")
