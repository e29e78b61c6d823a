"""Shared pieces of the reliability tests: durations, figures, file checks."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

SCALE_VARIABLE = "MZT_RELIABILITY_SECONDS_SCALE"
DEFAULT_SCALE = 0.25
"""CI runs the long tests at half the issue's durations; a scale of 1 runs them whole."""


def scaled(seconds: float) -> float:
    """`seconds` times the scale from the environment (default 0.25)."""
    raw = os.environ.get(SCALE_VARIABLE, "")
    try:
        scale = float(raw) if raw else DEFAULT_SCALE
    except ValueError:
        scale = DEFAULT_SCALE
    return seconds * max(scale, 0.01)


def figure(name: str, text: str) -> None:
    """Print one figure line (run with `-s` to copy them into the README)."""
    print(f"\n[reliability] {name}: {text}", flush=True)


def integrity(path: Path) -> str:
    """`PRAGMA integrity_check` of a database file (read-only)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return "; ".join(str(row[0]) for row in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


def count(path: Path, table: str) -> int:
    """Rows in `table` (read-only)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()
