"""Fixtures for the learning store's execution side: the conductor's file and its readback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def learning_readback(upstream_dir: Path) -> dict[str, Any]:
    """`learning.read.json`: what the conductor's learning store returned for `learning.db`."""
    data: dict[str, Any] = json.loads((upstream_dir / "learning.read.json").read_text())
    return data


@pytest.fixture
def learning_db(upstream_copy: Path) -> Path:
    """A writable copy of the conductor's `learning.db`."""
    return upstream_copy / "learning.db"


@pytest.fixture
def learning_home(upstream_copy: Path) -> Path:
    """A Marianne home holding a copy of the conductor's file as `global-learning.db`."""
    home = upstream_copy.parent / "home"
    home.mkdir()
    (upstream_copy / "learning.db").rename(home / "global-learning.db")
    return home
