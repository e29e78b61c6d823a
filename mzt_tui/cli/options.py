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
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="The configuration file. [default: ~/.config/mzt/top.toml]",
        metavar="PATH",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
ScoreOption = Annotated[
    str | None,
    typer.Option("--score", "-s", help="Only this job (the score name).", show_default=False),
]


def version_callback(value: bool) -> None:
    """Print `mzt_tui X.Y.Z` and exit, for `--version`."""
    if not value:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("mzt-tui")
    except PackageNotFoundError:
        from mzt_tui import __version__ as installed
    typer.echo(f"mzt_tui {installed}")
    raise typer.Exit(0)


VersionOption = Annotated[
    bool,
    typer.Option(
        "--version",
        callback=version_callback,
        is_eager=True,
        help="Print the version and exit.",
    ),
]


def monitor_db_path(marianne_home: Path | None, db: Path | None) -> Path:
    """Return `--db` when given, else monitor.db under the Marianne home."""
    if db is not None:
        return db.expanduser()
    from mzt_tui.marianne.paths import resolve_home

    return resolve_home(marianne_home).monitor_db
