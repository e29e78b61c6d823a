"""Options shared by every command, and the paths they resolve to."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

MarianneHomeOption = Annotated[
    Path | None,
    typer.Option(
        "--marianne-home",
        envvar="MARIANNE_HOME",
        help="Marianne's home; every default path follows from it. [default: ~/.marianne]",
        show_default=False,
    ),
]
DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db", help="monitor.db to use. [default: MARIANNE_HOME/monitor.db]", show_default=False
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
ScoreOption = Annotated[
    str | None,
    typer.Option("--score", "-s", help="Only this job (the score name).", show_default=False),
]


def monitor_db_path(marianne_home: Path | None, db: Path | None) -> Path:
    """Return `--db` when given, else monitor.db under the Marianne home."""
    if db is not None:
        return db.expanduser()
    from mzt_tui.marianne.paths import resolve_home

    return resolve_home(marianne_home).monitor_db
