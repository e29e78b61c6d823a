"""Fixtures for the Marianne file readers: what the conductor's own readers returned."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def registry_readback(upstream_dir: Path) -> dict[str, Any]:
    """`registry.read.json`: what the conductor's registry returned for `registry.db`."""
    data: dict[str, Any] = json.loads((upstream_dir / "registry.read.json").read_text())
    return data


@pytest.fixture
def learning_readback(upstream_dir: Path) -> dict[str, Any]:
    """`learning.read.json`: what the conductor's learning store returned for `learning.db`."""
    data: dict[str, Any] = json.loads((upstream_dir / "learning.read.json").read_text())
    return data
