"""`mzt correlate [--json] [--dry-run]`: which resource figures go with failed sheets."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from mzt_tui.models.errors import StoreError

if TYPE_CHECKING:  # the store and scipy stay out of `mzt --help`
    from mzt_tui.headless.correlate import CorrelationReport


def _percent(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def format_report(report: CorrelationReport, min_sample_size: int) -> str:
    """The report in a few lines of text: counts, each finding in words, what was stored."""
    sources = report.outcome_sources
    lines = [
        f"Sheet runs since {_clock(report.since)}: {report.runs_total} recorded, "
        f"{report.runs_used} with a known outcome (registry {sources.get('registry', 0)}, "
        f"executions {sources.get('executions', 0)}, "
        f"insights {sources.get('semantic_insight', 0)}), "
        f"{report.runs_without_outcome} without one."
    ]
    if report.skipped_reason is not None:
        lead = "Too few runs" if report.runs_used < min_sample_size else "Nothing to test"
        lines.append(f"{lead}: {report.skipped_reason}. Nothing stored.")
        return "\n".join(lines) + "\n"
    lines.append(
        f"{report.tests_run} tests, {len(report.findings)} "
        f"{'finding' if len(report.findings) == 1 else 'findings'} after Benjamini-Hochberg."
    )
    for finding in report.findings:
        lines.append(f"  - {finding.description}")
        lines.append(
            f"    {finding.name} (confidence {finding.confidence:.3f}, "
            f"pattern {finding.pattern_id})"
        )
    verb = "would be" if report.dry_run else ""
    stored = (
        f"Patterns{' (dry run, nothing stored)' if report.dry_run else ''}: "
        f"{report.patterns_written} {verb + ' ' if verb else ''}written, "
        f"{report.patterns_updated} {verb + ' ' if verb else ''}updated, "
        f"{report.patterns_deactivated} {verb + ' ' if verb else ''}marked inactive."
    )
    lines.append(stored)
    return "\n".join(lines) + "\n"


def _clock(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def correlate_command(
    marianne_home: Path | None,
    db: Path | None,
    json_output: bool,
    dry_run: bool,
    *,
    config_path: Path | None = None,
    out: TextIO | None = None,
) -> None:
    """Run one correlation over the recorded sheet runs and print what it found.

    Raises:
        NoDataError: There is no monitor.db.
        StoreError: A file cannot be read, or the learning store could not be written
            (printed after the report, which still shows the findings).
    """
    from mzt_tui.cli.configuration import db_path, load_for
    from mzt_tui.headless.correlate import run_correlation
    from mzt_tui.marianne.paths import resolve_home

    stream = out if out is not None else sys.stdout
    home = resolve_home(marianne_home)
    loaded = load_for(home, config_path, db=db)
    config = loaded.settings.correlation
    report = run_correlation(home, db_path(loaded, home), config, dry_run=dry_run)
    if json_output:
        json.dump(report.model_dump(mode="json"), stream, indent=2)
        stream.write("\n")
    else:
        stream.write(format_report(report, config.min_sample_size))
    stream.flush()
    if report.repairs is not None:
        print(f"mzt: warning: {report.repairs}", file=sys.stderr)
    if report.error is not None:
        raise StoreError(report.error)
