"""Shared fixtures: paths to the conductor's own files, copied before anything writes them."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
UPSTREAM_DIR = REPO_ROOT.parent / "shared" / "fixtures" / "upstream"


@pytest.fixture
def upstream_dir() -> Path:
    """The read-only folder of files Marianne's own code wrote (skips when absent)."""
    if not UPSTREAM_DIR.is_dir():
        pytest.skip("../shared/fixtures/upstream is not beside this checkout")
    return UPSTREAM_DIR


@pytest.fixture
def upstream_copy(upstream_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the upstream fixture folder under `tmp_path`."""
    target = tmp_path / "upstream"
    shutil.copytree(upstream_dir, target)
    for path in target.iterdir():
        path.chmod(0o600)
    return target


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """Make `path` unwritable for the duration (immutable via chattr when running as root)."""
    if os.geteuid() != 0:
        path.chmod(0o400)
        try:
            yield path
        finally:
            path.chmod(0o600)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], check=False).returncode:
        pytest.skip("running as root without chattr +i: cannot make a read-only file")
    try:
        yield path
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


@pytest.fixture(autouse=True)
def _no_user_configuration(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep the user's ~/.config/mzt/top.toml and any MZT_TOP_* variable out of every test."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    for name in list(os.environ):
        if name.upper().startswith("MZT_TOP_"):
            monkeypatch.delenv(name)
