"""Loading the configuration: precedence, origins, conductor.yaml paths, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from mzt_tui.config import ConfigRequest, load_config
from mzt_tui.config.settings import default_config_path
from mzt_tui.models.errors import UsageError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_there_is_no_file(tmp_path: Path) -> None:
    loaded = load_config(ConfigRequest(home=tmp_path))
    assert loaded.settings.interval_seconds is None
    assert loaded.settings.retention.events_days == 30.0
    assert {entry.origin for entry in loaded.entries()} == {"default"}


def test_the_default_file_follows_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    path = write(tmp_path / "mzt" / "top.toml", "interval_seconds = 7\n")
    assert default_config_path() == path
    loaded = load_config(ConfigRequest())
    assert loaded.settings.interval_seconds == 7.0
    assert loaded.origin("interval_seconds") == f"file {path}"


def test_flags_beat_environment_beat_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path / "top.toml",
        "interval_seconds = 3\n[retention]\nevents_days = 10\nmax_bytes = 1000\n"
        "[anomaly]\nfd_threshold = 50\n",
    )
    monkeypatch.setenv("MZT_TOP_INTERVAL_SECONDS", "4")
    monkeypatch.setenv("MZT_TOP_RETENTION__EVENTS_DAYS", "20")
    loaded = load_config(
        ConfigRequest(
            config_path=path,
            flags={"interval_seconds": 5.0},
            flag_names={"interval_seconds": "--interval"},
        )
    )
    settings = loaded.settings
    assert settings.interval_seconds == 5.0
    assert loaded.origin("interval_seconds") == "flag --interval"
    assert settings.retention.events_days == 20.0
    assert loaded.origin("retention.events_days") == "env MZT_TOP_RETENTION__EVENTS_DAYS"
    assert settings.retention.max_bytes == 1000
    assert loaded.origin("retention.max_bytes") == f"file {path}"
    assert settings.anomaly.fd_threshold == 50
    assert settings.retention.full_resolution_hours == 24.0
    assert loaded.origin("retention.full_resolution_hours") == "default"
    monitor = settings.monitor_config(default_interval=2.0)
    assert monitor.interval_seconds == 5.0
    assert monitor.anomaly.fd_threshold == 50


def test_a_whole_table_from_the_environment_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MZT_TOP_KEYS", '{"app.quit": "ctrl+q"}')
    loaded = load_config(ConfigRequest())
    assert loaded.settings.keys == {"app.quit": "ctrl+q"}
    assert loaded.origin("keys.app.quit") == "env MZT_TOP_KEYS"


def test_conductor_yaml_profiler_paths_are_used(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write(
        home / "conductor.yaml",
        "max_concurrent_jobs: 4\nprofiler:\n  enabled: true\n"
        "  storage_path: /srv/marianne/monitor.db\n  jsonl_path: logs/monitor.jsonl\n",
    )
    loaded = load_config(ConfigRequest(home=home))
    assert loaded.settings.storage.db_path == Path("/srv/marianne/monitor.db")
    assert loaded.settings.storage.jsonl_path == home / "logs" / "monitor.jsonl"
    assert loaded.origin("storage.db_path") == f"conductor.yaml {home / 'conductor.yaml'}"


def test_top_toml_and_flags_beat_conductor_yaml(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write(
        home / "conductor.yaml",
        "profiler:\n  storage_path: /srv/a.db\n  jsonl_path: /srv/a.jsonl\n",
    )
    path = write(tmp_path / "top.toml", '[storage]\njsonl_path = "/data/b.jsonl"\n')
    loaded = load_config(
        ConfigRequest(config_path=path, home=home, flags={"storage.db_path": Path("/data/c.db")})
    )
    assert loaded.settings.storage.db_path == Path("/data/c.db")
    assert loaded.settings.storage.jsonl_path == Path("/data/b.jsonl")
    assert loaded.origin("storage.jsonl_path") == f"file {path}"


def test_conductor_yaml_without_profiler_paths_changes_nothing(tmp_path: Path) -> None:
    write(tmp_path / "conductor.yaml", "profiler:\n  enabled: false\n")
    assert load_config(ConfigRequest(home=tmp_path)).settings.storage.db_path is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("interval_seconds = \n", "not valid TOML: Invalid value (at line 1, column 20)"),
        (
            '[retention]\nmax_bytes = "x"\n',
            "key retention.max_bytes: value 'x' is not a whole number "
            "(allowed: a whole number above 0)",
        ),
        (
            "[retention]\nevents_days = -1\n",
            "key retention.events_days: value -1 is out of range (allowed: a number above 0)",
        ),
        (
            "[anomaly]\nlow_memory_percent = 150\n",
            "key anomaly.low_memory_percent: value 150 is out of range "
            "(allowed: a number above 0 and below 100)",
        ),
        (
            "[retention]\nmax_age_days = 3\n",
            "unknown key retention.max_age_days (allowed: full_resolution_hours, "
            "downsampled_days, events_days, max_bytes, cleanup_batch_rows)",
        ),
        ("colour = 1\n", "unknown key colour (allowed: interval_seconds, jsonl_max_bytes,"),
        ("retention = 5\n", "key retention: value 5 is not a table (allowed: a table of"),
        (
            '[ui]\ntimezone = "Mars/Olympus"\n',
            "key ui.timezone: value 'Mars/Olympus' is not allowed: unknown time zone",
        ),
        (
            '[keys]\n"app.quit" = 3\n',
            "key keys.app.quit: value 3 is not text (allowed: keys such as q",
        ),
    ],
)
def test_bad_files_name_the_file_the_key_and_what_is_allowed(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path / "top.toml", text)
    with pytest.raises(UsageError) as raised:
        load_config(ConfigRequest(config_path=path))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"config {path}: {expected}")


def test_a_missing_config_file_given_by_flag(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^config .*nope\.toml: no such file$"):
        load_config(ConfigRequest(config_path=tmp_path / "nope.toml"))


def test_a_folder_as_config_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot be read: it is a folder"):
        load_config(ConfigRequest(config_path=tmp_path))


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "MZT_TOP_RETENTION__MAX_BYTES",
            "lots",
            "config env MZT_TOP_RETENTION__MAX_BYTES: key retention.max_bytes: value 'lots' "
            "is not a whole number",
        ),
        ("MZT_TOP_INTERVL", "1", "config env MZT_TOP_INTERVL: unknown key intervl (allowed: "),
        ("MZT_TOP_ANOMALY__FD", "1", "config env MZT_TOP_ANOMALY__FD: unknown key anomaly.fd"),
        ("MZT_TOP_KEYS", "{oops", "config env MZT_TOP_KEYS: not valid JSON"),
    ],
)
def test_bad_environment_variables(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(UsageError) as raised:
        load_config(ConfigRequest())
    assert str(raised.value).startswith(expected)


def test_a_bad_flag_value_names_the_flag() -> None:
    with pytest.raises(UsageError) as raised:
        load_config(
            ConfigRequest(
                flags={"interval_seconds": 0.0}, flag_names={"interval_seconds": "--interval"}
            )
        )
    assert str(raised.value) == (
        "config flag --interval: key interval_seconds: value 0.0 is out of range "
        "(allowed: a number above 0)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("profiler: [unclosed\n", "not valid YAML: "),
        ("profiler:\n  storage_path: 5\n", "key profiler.storage_path: value 5 is not allowed"),
    ],
)
def test_a_bad_conductor_yaml(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "conductor.yaml", text)
    with pytest.raises(UsageError) as raised:
        load_config(ConfigRequest(home=tmp_path))
    assert str(raised.value).startswith(f"config {path}: {expected}")


def test_file_paths_expand_the_home_and_refuse_empty_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    path = write(tmp_path / "top.toml", '[storage]\ndb_path = "~/data/monitor.db"\n')
    loaded = load_config(ConfigRequest(config_path=path))
    assert loaded.settings.storage.db_path == tmp_path / "data" / "monitor.db"
    write(path, '[storage]\njsonl_path = ""\n')
    with pytest.raises(UsageError, match=r"key storage.jsonl_path: value '' is not allowed"):
        load_config(ConfigRequest(config_path=path))
