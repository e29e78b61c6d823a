"""The built wheel installs into a fresh venv and works there, stylesheets included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
_OFFLINE_SIGNS = (
    "No matching distribution",
    "Could not find a version",
    "Failed to establish a new connection",
    "Network is unreachable",
    "Temporary failure in name resolution",
)
_DASHBOARD_SMOKE = """
import asyncio
from mzt_tui.ui.app import make_app

async def main() -> None:
    app = make_app("{home}", collect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("p")
        print(type(app.screen).__name__, len(app.stylesheet.rules) > 0)

asyncio.run(main())
"""


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def _need_index(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode == 0:
        return
    if any(sign in result.stderr for sign in _OFFLINE_SIGNS):
        pytest.skip(f"{what} needs the package index, which cannot be reached")
    raise AssertionError(f"{what} failed:\n{result.stderr[-3000:]}")


@pytest.mark.slow
def test_the_wheel_installs_into_a_fresh_venv_and_runs(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    }
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    wheels = tmp_path / "wheels"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", str(REPO_ROOT), "-w", str(wheels)],
        tmp_path,
        env,
    )
    _need_index(built, "building the wheel")
    (wheel,) = wheels.glob("mzt_tui-*.whl")

    venv = tmp_path / "venv"
    created = _run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    assert created.returncode == 0, created.stderr
    installed = _run([str(venv / "bin" / "pip"), "install", str(wheel)], tmp_path, env)
    _need_index(installed, "installing the wheel's dependencies")

    mzt = str(venv / "bin" / "mzt")
    version = _run([mzt, "--version"], tmp_path, env)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("mzt_tui ")

    home = tmp_path / "marianne-home"
    once = _run([mzt, "top", "--headless", "--once", "--marianne-home", str(home)], tmp_path, env)
    assert once.returncode == 0, once.stderr
    assert (home / "monitor.db").is_file()
    assert "recorded 1 ticks" in once.stderr

    python = str(venv / "bin" / "python")
    where = _run(
        [python, "-c", "import mzt_tui.ui.styles as s; print(s.stylesheet_dir())"], tmp_path, env
    )
    styles = Path(where.stdout.strip())
    assert styles.is_relative_to(venv)
    shipped = sorted(path.name for path in styles.glob("*.tcss"))
    assert shipped == sorted(path.name for path in (REPO_ROOT / "styles").glob("*.tcss"))

    smoke = _run([python, "-c", _DASHBOARD_SMOKE.format(home=home)], tmp_path, env)
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout.split() == ["ProcessesScreen", "True"]
