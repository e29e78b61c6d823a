"""Load the configuration for a command, and `mzt config show`."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from mzt_tui.models.errors import UsageError

if TYPE_CHECKING:
    from mzt_tui.config import LoadedConfig
    from mzt_tui.marianne.paths import MarianneHome

FLAG_NAMES = {"interval_seconds": "--interval", "storage.db_path": "--db"}


def load_for(
    home: MarianneHome,
    config_path: Path | None,
    *,
    interval: float | None = None,
    db: Path | None = None,
) -> LoadedConfig:
    """The configuration for a command run over `home`, with the flags that override it.

    Raises:
        UsageError: A bad file, variable or flag value, in one line.
    """
    from mzt_tui.config import ConfigRequest, load_config

    flags: dict[str, object] = {}
    if interval is not None:
        flags["interval_seconds"] = interval
    if db is not None:
        flags["storage.db_path"] = db.expanduser()
    return load_config(
        ConfigRequest(config_path=config_path, home=home.root, flags=flags, flag_names=FLAG_NAMES)
    )


def db_path(loaded: LoadedConfig, home: MarianneHome) -> Path:
    """monitor.db: `--db`, the configured path, conductor.yaml's, else the home's."""
    return loaded.settings.storage.db_path or home.monitor_db


def check_keys(loaded: LoadedConfig) -> dict[str, str]:
    """The `[keys]` table, checked against the app's binding ids and Textual's key names.

    Raises:
        UsageError: The first bad entry, naming where it was set.
    """
    from mzt_tui.ui.keymap import keymap_problems

    for problem in keymap_problems(loaded.settings.keys):
        key = f"keys.{problem.binding_id}"
        raise UsageError(
            f"{loaded.error_prefix(key)}: key {key}: {problem.problem} (allowed: {problem.allowed})"
        )
    return dict(loaded.settings.keys)


_UNSET_MEANS = {"interval_seconds": "(unset: 5 recording, 2 in the dashboard)"}


def _text(key: str, value: object) -> str:
    if value is None:
        return _UNSET_MEANS.get(key, "(unset)")
    return json.dumps(value) if isinstance(value, str) else str(value)


def show_config(
    loaded: LoadedConfig,
    *,
    as_json: bool,
    default_keys: Mapping[str, str] | None = None,
    home: MarianneHome | None = None,
    out: TextIO | None = None,
) -> None:
    """Print every key's effective value and where it came from.

    Args:
        loaded: The configuration.
        as_json: One JSON document instead of aligned lines.
        default_keys: Every binding id with its default keys, listed unless remapped.
        home: The Marianne home, whose monitor.db and monitor.jsonl are the default paths.
        out: Where to print (stdout by default).
    """
    from mzt_tui.config import ConfigEntry

    stream = out if out is not None else sys.stdout
    remapped = loaded.settings.keys
    home_paths = (
        {"storage.db_path": str(home.monitor_db), "storage.jsonl_path": str(home.monitor_jsonl)}
        if home is not None
        else {}
    )
    entries = [
        *(
            ConfigEntry(entry.key, home_paths[entry.key], entry.origin)
            if entry.value is None and entry.key in home_paths
            else entry
            for entry in loaded.entries()
        ),
        *(
            ConfigEntry(f"keys.{binding_id}", keys, "default")
            for binding_id, keys in (default_keys or {}).items()
            if binding_id not in remapped
        ),
    ]
    if as_json:
        document = {
            "file": str(loaded.file),
            "file_exists": loaded.file.is_file(),
            "values": [
                {"key": entry.key, "value": entry.value, "source": entry.origin}
                for entry in entries
            ],
        }
        json.dump(document, stream, indent=2, default=str)
        stream.write("\n")
        return
    found = "" if loaded.file.is_file() else " (not found: defaults)"
    stream.write(f"# file: {loaded.file}{found}\n")
    width = max(len(entry.key) for entry in entries)
    value_width = max(len(_text(entry.key, entry.value)) for entry in entries)
    for entry in entries:
        value = _text(entry.key, entry.value)
        stream.write(f"{entry.key:<{width}}  {value:<{value_width}}  # {entry.origin}\n")
    stream.flush()
