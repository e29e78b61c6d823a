"""`mzt top` without --headless/--json/--once runs the dashboard (the app's run is stubbed)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mzt_tui.cli import run
from mzt_tui.cli.top import TopRequest, run_top
from mzt_tui.ui.app import DASHBOARD_INTERVAL, MztTopApp
from tests.history.recorded import FIRST, record


def _request(home: Path, **changes: object) -> TopRequest:
    fields: dict[str, object] = {
        "marianne_home": home,
        "db": None,
        "history": None,
        "json_output": False,
        "score": None,
        "headless": False,
        "interval": None,
        "once": False,
        "record_system": False,
        "pid_file": None,
        "demo": False,
    }
    fields.update(changes)
    return TopRequest(**fields)  # type: ignore[arg-type]


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[MztTopApp]:
    """The apps `run_top` ran (without starting a terminal)."""
    started: list[MztTopApp] = []
    monkeypatch.setattr(MztTopApp, "run", lambda self, *args, **kwargs: started.append(self))
    return started


class _FakeDemo:
    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


def test_top_runs_the_live_dashboard_on_the_home(tmp_path: Path, runs: list[MztTopApp]) -> None:
    run_top(_request(tmp_path, score="train-model"))
    (app,) = runs
    assert app.options.home.root == tmp_path
    assert app.options.interval == DASHBOARD_INTERVAL
    assert app.options.score == "train-model"
    assert app.options.collector is not None


def test_interval_flag_sets_the_dashboard_pace(tmp_path: Path, runs: list[MztTopApp]) -> None:
    run_top(_request(tmp_path, interval=0.5))
    assert runs[0].options.interval == 0.5


def test_demo_starts_in_the_background_and_stops_when_the_app_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = _FakeDemo()
    homes: list[Path] = []

    def start(home: Path) -> _FakeDemo:
        homes.append(home)
        return demo

    def crash(self: MztTopApp, *args: object, **kwargs: object) -> None:
        raise RuntimeError("the app failed")

    monkeypatch.setattr("mzt_tui.demo.runner.start_demo_background", start)
    monkeypatch.setattr(MztTopApp, "run", crash)
    with pytest.raises(RuntimeError):
        run_top(_request(tmp_path, demo=True))
    assert homes == [tmp_path]
    assert demo.stopped


def test_history_without_json_opens_the_dashboard_over_the_recording(
    tmp_path: Path, runs: list[MztTopApp]
) -> None:
    db = record(tmp_path / "monitor.db")
    # The recording ends ten seconds before the fixed NOW; a window up to now holds it.
    hours = int((time.time() - FIRST) // 3600) + 1
    run_top(_request(tmp_path, history=f"{hours}h", db=db))
    (app,) = runs
    assert app.options.history_seconds == hours * 3600
    assert app.options.history_db == db
    assert app.options.collector is None
    assert app.options.readonly


def test_readonly_flag_reaches_the_dashboard(tmp_path: Path, runs: list[MztTopApp]) -> None:
    run_top(_request(tmp_path, readonly=True))
    assert runs[0].options.readonly
    run_top(_request(tmp_path))
    assert not runs[1].options.readonly


def test_the_demo_dashboard_records_its_own_home(
    tmp_path: Path, runs: list[MztTopApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mzt_tui.demo.runner.start_demo_background", lambda home: _FakeDemo())
    run_top(_request(tmp_path, demo=True))
    run_top(_request(tmp_path))
    demo, plain = runs
    assert demo.options.collector is not None
    assert demo.options.collector.record_db == tmp_path / "monitor.db"
    assert plain.options.collector is not None
    assert plain.options.collector.record_db is None
    assert plain.options.history_db == tmp_path / "monitor.db"


def test_h_reads_the_db_flag(tmp_path: Path, runs: list[MztTopApp]) -> None:
    run_top(_request(tmp_path, db=tmp_path / "other.db"))
    assert runs[0].options.history_db == tmp_path / "other.db"


@pytest.mark.parametrize("recorded", [False, True])
def test_history_with_nothing_recorded_is_one_line_and_no_screen(
    tmp_path: Path, recorded: bool, capsys: pytest.CaptureFixture[str], runs: list[MztTopApp]
) -> None:
    db = tmp_path / "monitor.db"
    if recorded:
        record(db)  # recorded, but long before the last hour
    assert run(["top", "--history", "1h", "--db", str(db)]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("mzt: error: ")
    assert ("no snapshots recorded" if recorded else "no monitor database") in line
    assert runs == []
    assert db.exists() == recorded


def test_history_with_a_bad_duration_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], runs: list[MztTopApp]
) -> None:
    assert run(["top", "--history", "soon", "--db", str(tmp_path / "monitor.db")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "invalid duration 'soon'" in line
    assert runs == []


def test_the_configuration_file_reaches_the_dashboard(
    tmp_path: Path, runs: list[MztTopApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "top.toml"
    config.write_text(
        'interval_seconds = 3\n[ui]\ntimezone = "Europe/Paris"\n[keys]\n"app.quit" = "ctrl+q"\n'
        "[anomaly]\nfd_threshold = 77\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("MZT_TOP_KEYS", '{"app.processes": "o"}')
    run_top(_request(tmp_path, config=config))
    options = runs[0].options
    assert options.interval == 3.0
    assert str(options.timezone) == "Europe/Paris"
    assert options.keymap == {"app.quit": "ctrl+q", "app.processes": "o"}  # merged per id
    assert options.collector is not None
    engine = options.collector.open_engine()
    engine.close()
    assert engine.anomaly_config.fd_threshold == 77
    run_top(_request(tmp_path, config=config, interval=1.5))
    assert runs[1].options.interval == 1.5  # and the flag beats both
