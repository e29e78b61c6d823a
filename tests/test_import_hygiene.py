"""The headless core never imports Textual; checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CORE_PACKAGES = [
    "mzt_tui.models",
    "mzt_tui.marianne",
    "mzt_tui.store",
    "mzt_tui.collect",
    "mzt_tui.analysis",
    "mzt_tui.demo",
    "mzt_tui.headless",
]


def test_core_packages_do_not_import_textual() -> None:
    script = (
        "import importlib, pkgutil, sys\n"
        f"for name in {CORE_PACKAGES!r}:\n"
        "    package = importlib.import_module(name)\n"
        "    for info in pkgutil.walk_packages(package.__path__, name + '.'):\n"
        "        if not info.name.endswith('__main__'):\n"
        "            importlib.import_module(info.name)\n"
        "print(len(sys.modules), file=sys.stderr)\n"
        "ui = {'textual', 'textual_plotext'}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ui)\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_cli_help_does_not_import_textual() -> None:
    script = (
        "import sys\n"
        "from mzt_tui.cli import run\n"
        "code = run(['--help'])\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual')\n"
        "print('BAD', ','.join(bad), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stderr.splitlines()[-1] == "BAD "
    assert "top" in result.stdout


def test_the_headless_recorder_runs_without_textual(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from mzt_tui.cli import run\n"
        f"code = run(['top', '--headless', '--once', '--marianne-home', {str(tmp_path)!r}])\n"
        "ui = {'textual', 'textual_plotext'}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ui)\n"
        "heavy = sorted(m for m in ('scipy', 'numpy') if m in sys.modules)\n"
        "print('HEAVY', ','.join(heavy))\n"
        "print('TEXTUAL', ','.join(bad))\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "TEXTUAL "
    # scipy is loaded only when a correlation runs: it would triple the recorder's RSS.
    assert result.stdout.splitlines()[-2] == "HEAVY "
    assert (tmp_path / "monitor.db").exists()
