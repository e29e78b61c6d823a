"""`mzt patterns [--type T] [--json]`: the learned patterns of global-learning.db, every type."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from mzt_tui.models.learning import LearnedPattern

_PIPE_WIDTH = 160


def pattern_row(pattern: LearnedPattern) -> dict[str, Any]:
    """One pattern as a JSON-ready dict.

    `confidence` is the pattern's `confidence:` tag (correlation findings: 1 - q) when it has
    one, else its effectiveness score; `sample_size` is its `sample_size:` tag, if any.
    """
    from mzt_tui.analysis.job_patterns import pattern_confidence
    from mzt_tui.headless.learning_view import pattern_sample_size

    confidence, from_tag = pattern_confidence(pattern)
    return {
        "id": pattern.id,
        "pattern_type": pattern.pattern_type,
        "pattern_name": pattern.pattern_name,
        "description": pattern.description,
        "confidence": confidence,
        "confidence_source": "tag" if from_tag else "effectiveness",
        "sample_size": pattern_sample_size(pattern),
        "occurrence_count": pattern.occurrence_count,
        "first_seen": pattern.first_seen.isoformat() if pattern.first_seen else None,
        "last_seen": pattern.last_seen.isoformat() if pattern.last_seen else None,
        "active": pattern.active,
        "effectiveness_score": pattern.effectiveness_score,
        "quarantine_status": pattern.quarantine_status,
        "context_tags": list(pattern.context_tags),
    }


def _sort_key(row: dict[str, Any]) -> tuple[str, bool, float]:
    return (str(row["pattern_type"]), not row["active"], -float(row["confidence"]))


def _table(rows: list[dict[str, Any]], stream: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"Learned patterns ({len(rows)})", title_justify="left")
    table.add_column("Type", no_wrap=True)
    table.add_column("Pattern")
    table.add_column("Confidence", justify="right", no_wrap=True)
    table.add_column("n", justify="right", no_wrap=True)
    table.add_column("Seen", justify="right", no_wrap=True)
    table.add_column("Last seen", no_wrap=True)
    table.add_column("Active", no_wrap=True)
    for row in rows:
        last_seen = str(row["last_seen"] or "")[:16].replace("T", " ")
        marker = "" if row["confidence_source"] == "tag" else " (eff.)"
        # Text, not markup: names like "[memory_vs_failure] ..." must print as they are.
        table.add_row(
            Text(str(row["pattern_type"])),
            Text(str(row["pattern_name"])),
            f"{row['confidence']:.3f}{marker}",
            "" if row["sample_size"] is None else str(row["sample_size"]),
            str(row["occurrence_count"]),
            last_seen,
            "yes" if row["active"] else "no",
        )
    # Piped or captured output gets room for the pattern names instead of 80 columns.
    width = None if stream.isatty() else _PIPE_WIDTH
    Console(file=stream, soft_wrap=False, width=width).print(table)


def patterns_command(
    marianne_home: Path | None,
    pattern_type: str | None,
    json_output: bool,
    *,
    out: TextIO | None = None,
) -> None:
    """Print the learned patterns (of one type, or all) as a table or a JSON list.

    Raises:
        NoDataError: There is no learning store.
        StoreError: The learning store cannot be read.
    """
    from mzt_tui.headless.learning_view import read_patterns
    from mzt_tui.marianne.paths import resolve_home

    stream = out if out is not None else sys.stdout
    path = resolve_home(marianne_home).learning_db
    rows = sorted(
        (pattern_row(pattern) for pattern in read_patterns(path, pattern_type)), key=_sort_key
    )
    if json_output:
        json.dump(rows, stream, indent=2)
        stream.write("\n")
    elif not rows:
        kind = f" of type {pattern_type}" if pattern_type else ""
        stream.write(f"No learned patterns{kind} in {path}.\n")
    else:
        _table(rows, stream)
    stream.flush()
