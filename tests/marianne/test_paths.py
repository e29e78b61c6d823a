"""The Marianne home: flag, then environment, then `~/.marianne`; derived file names."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mzt_tui.marianne.paths import MarianneHome, resolve_home
from mzt_tui.models.errors import UsageError


def test_the_flag_wins_over_the_environment(tmp_path: Path) -> None:
    home = resolve_home(tmp_path / "flag", environ={"MARIANNE_HOME": str(tmp_path / "env")})
    assert home.root == tmp_path / "flag"


def test_the_environment_is_used_without_the_flag(tmp_path: Path) -> None:
    home = resolve_home(None, environ={"MARIANNE_HOME": str(tmp_path / "env")})
    assert home.root == tmp_path / "env"


def test_the_default_is_dot_marianne_in_the_user_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_home(None, environ={}).root == tmp_path / ".marianne"
    # An empty MARIANNE_HOME counts as unset, like most tools treat it.
    assert resolve_home(None, environ={"MARIANNE_HOME": "  "}).root == tmp_path / ".marianne"


def test_tilde_is_expanded_and_relative_paths_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.chdir(tmp_path)
    assert resolve_home("~/mh", environ={}).root == tmp_path / "user" / "mh"
    assert resolve_home("rel/mh", environ={}).root == tmp_path / "rel" / "mh"
    assert resolve_home(None, environ={"MARIANNE_HOME": "~/envhome"}).root == (
        tmp_path / "user" / "envhome"
    )


def test_derived_paths_use_the_conductors_file_names(tmp_path: Path) -> None:
    home = resolve_home(tmp_path, environ={})
    assert home.monitor_db == tmp_path / "monitor.db"
    assert home.monitor_jsonl == tmp_path / "monitor.jsonl"
    assert home.learning_db == tmp_path / "global-learning.db"
    assert home.registry_db == tmp_path / "daemon-state.db"
    assert home.pid_file == Path("/tmp/marianne.pid")


def test_the_pid_file_can_be_overridden(tmp_path: Path) -> None:
    home = resolve_home(tmp_path, pid_file=tmp_path / "c.pid", environ={})
    assert home.pid_file == tmp_path / "c.pid"


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_flag_is_a_usage_error(value: str) -> None:
    with pytest.raises(UsageError) as raised:
        resolve_home(value, environ={})
    assert "--marianne-home" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_home_is_immutable(tmp_path: Path) -> None:
    home = MarianneHome(root=tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        home.root = tmp_path / "elsewhere"  # type: ignore[misc]
