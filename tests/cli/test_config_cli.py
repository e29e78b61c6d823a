"""`--config`, `mzt config show`, `--version`, completion, NO_COLOR and every `--help`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import typer

from mzt_tui.cli import app, run
from tests.cli.test_cli import one_error_line

MZT = [sys.executable, "-c", "from mzt_tui.cli import main; main()"]
COLOUR_SGR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("interval_seconds = = 3\n", "not valid TOML"),
        ('[retention]\nmax_bytes = "x"\n', "key retention.max_bytes: value 'x'"),
        ("[anomaly]\nfd_treshold = 10\n", "unknown key anomaly.fd_treshold"),
        ('[keys]\n"app.quitt" = "ctrl+q"\n', "key keys.app.quitt: is not a binding id"),
        ('[keys]\n"app.quit" = "ctrl+nokey"\n', "'ctrl+nokey', which is not a key"),
    ],
)
def test_bad_config_files_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, needle: str
) -> None:
    path = write(tmp_path / "top.toml", text)
    before = path.read_bytes()
    code = run(["config", "show", "--config", str(path), "--marianne-home", str(tmp_path)])
    assert code == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"mzt: error: config {path}: ")
    assert needle in line
    assert path.read_bytes() == before


def test_bad_config_stops_mzt_top_before_it_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "top.toml", "[retention]\nevents_days = 0\n")
    home = tmp_path / "home"
    argv = ["top", "--headless", "--once", "--config", str(path), "--marianne-home", str(home)]
    assert run(argv) == 2
    assert "key retention.events_days: value 0 is out of range" in one_error_line(
        capsys.readouterr().err
    )
    assert not (home / "monitor.db").exists()


def test_a_missing_config_flag_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["top", "--once", "--config", str(tmp_path / "none.toml")]) == 2
    assert one_error_line(capsys.readouterr().err).endswith("none.toml: no such file")


def test_a_bad_environment_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MZT_TOP_ANOMALY__FD_THRESHOLD", "many")
    assert run(["config", "show"]) == 2
    assert one_error_line(capsys.readouterr().err).startswith(
        "mzt: error: config env MZT_TOP_ANOMALY__FD_THRESHOLD: key anomaly.fd_threshold: "
        "value 'many' is not a whole number"
    )


def test_config_show_lists_every_value_and_its_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    write(home / "conductor.yaml", "profiler:\n  storage_path: /srv/m/monitor.db\n")
    path = write(tmp_path / "top.toml", 'interval_seconds = 3\n[keys]\n"app.quit" = "ctrl+q"\n')
    monkeypatch.setenv("MZT_TOP_RETENTION__EVENTS_DAYS", "60")
    argv = ["config", "show", "--json", "--config", str(path), "--marianne-home", str(home)]
    assert run(argv) == 0
    document = json.loads(capsys.readouterr().out)
    values = {row["key"]: (row["value"], row["source"]) for row in document["values"]}
    assert document["file"] == str(path)
    assert values["interval_seconds"] == (3.0, f"file {path}")
    assert values["retention.events_days"] == (60.0, "env MZT_TOP_RETENTION__EVENTS_DAYS")
    assert values["storage.db_path"] == (
        "/srv/m/monitor.db",
        f"conductor.yaml {home / 'conductor.yaml'}",
    )
    assert values["keys.app.quit"] == ("ctrl+q", f"file {path}")
    assert values["keys.app.help"] == ("question_mark", "default")
    assert values["anomaly.fd_threshold"] == (1000, "default")


def test_config_show_as_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "top.toml", "[correlation]\nmin_sample_size = 9\n")
    assert run(["config", "show", "--config", str(path), "--marianne-home", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"# file: {path}"
    row = next(line for line in lines if line.startswith("correlation.min_sample_size "))
    assert row.split() == ["correlation.min_sample_size", "9", "#", "file", str(path)]
    db_row = next(line for line in lines if line.startswith("storage.db_path "))
    assert db_row.split() == ["storage.db_path", f'"{tmp_path / "monitor.db"}"', "#", "default"]


def test_the_configured_db_path_is_where_mzt_top_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    write(
        home / "conductor.yaml",
        f"profiler:\n  storage_path: {tmp_path / 'p' / 'm.db'}\n"
        f"  jsonl_path: {tmp_path / 'p' / 'm.jsonl'}\n",
    )
    assert run(["top", "--headless", "--once", "--marianne-home", str(home)]) == 0
    assert (tmp_path / "p" / "m.db").is_file()
    assert (tmp_path / "p" / "m.jsonl").is_file()
    assert not (home / "monitor.db").exists()


@pytest.mark.parametrize("argv", [["--version"], ["top", "--version"]])
def test_version(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(argv) == 0
    assert capsys.readouterr().out == f"mzt_tui {version('mzt-tui')}\n"


def test_show_completion_prints_a_bash_script_for_mzt(tmp_path: Path) -> None:
    env = {**os.environ, "SHELL": "/bin/bash", "HOME": str(tmp_path)}
    script = " ".join(f"'{part}'" for part in MZT)
    result = subprocess.run(
        ["bash", "-c", f"{script} --show-completion; exit $?"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "_mzt_completion" in result.stdout
    assert "_MZT_COMPLETE=complete_bash" in result.stdout


def test_completion_completes_commands_and_flags() -> None:
    env = {**os.environ, "_MZT_COMPLETE": "complete_bash", "COMP_WORDS": "mzt top --hea"}
    env["COMP_CWORD"] = "2"
    result = subprocess.run(
        [*MZT], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["--headless"]


def _patterns_home(tmp_path: Path, upstream_dir: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "global-learning.db").write_bytes((upstream_dir / "learning.db").read_bytes())
    return home


@pytest.mark.parametrize("command", [["patterns"], ["learning"]])
def test_no_color_means_no_colour_even_on_a_forced_terminal(
    tmp_path: Path, upstream_dir: Path, command: list[str]
) -> None:
    home = _patterns_home(tmp_path, upstream_dir)
    env = {**os.environ, "FORCE_COLOR": "1", "NO_COLOR": "1", "COLUMNS": "200"}
    result = subprocess.run(
        [*MZT, *command, "--marianne-home", str(home)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b[" in result.stdout  # a terminal: bold headers are still there
    assert not COLOUR_SGR.search(result.stdout)


def _commands(command: object, prefix: list[str]) -> list[list[str]]:
    found = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        found.extend(_commands(sub, [*prefix, name]))
    return found


def test_every_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    commands = _commands(typer.main.get_command(app), [])
    assert ["config", "show"] in commands
    assert ["top"] in commands
    for argv in commands:
        assert run([*argv, "--help"]) == 0
        out = capsys.readouterr().out
        assert "Examples:" in out, argv
        examples = out.split("Examples:", 1)[1]
        assert "mzt " in examples, argv


def test_the_readme_example_file_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    path = write(tmp_path / "top.toml", example)
    argv = ["config", "show", "--json", "--config", str(path), "--marianne-home", str(tmp_path)]
    assert run(argv) == 0
    values = {row["key"]: row for row in json.loads(capsys.readouterr().out)["values"]}
    assert values["keys.processes.sort"]["value"] == "f6"
    assert values["retention.events_days"]["source"] == f"file {path}"
