"""The warning a CLI reader prints when monitor.db held rows it had to repair or skip."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from mzt_tui.store.repairs import ReadRepairs


def warn_repairs(repairs: ReadRepairs, db_path: Path, err: TextIO | None = None) -> None:
    """Print `mzt: warning: <summary>` on stderr when the reads repaired or skipped anything.

    Stdout is left to the data: a script reading it sees nothing of this.
    """
    summary = repairs.summary(db_path.name)
    if summary is not None:
        print(f"mzt: warning: {summary}", file=err if err is not None else sys.stderr)
