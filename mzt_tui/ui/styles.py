"""Where the stylesheets are: inside the installed package, else the repository's `styles/`."""

from __future__ import annotations

from pathlib import Path, PurePath

import mzt_tui


def stylesheet_dir() -> Path:
    """The folder of `.tcss` files (the wheel ships `styles/` as `mzt_tui/styles`)."""
    installed = Path(mzt_tui.__file__).resolve().parent / "styles"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "styles"


def stylesheet_paths(*names: str) -> list[str | PurePath]:
    """The paths of the named stylesheets."""
    folder = stylesheet_dir()
    return [folder / name for name in names]
