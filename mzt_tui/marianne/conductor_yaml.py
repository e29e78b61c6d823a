"""The storage paths the conductor's profiler is configured with in `conductor.yaml`.

The conductor reads `MARIANNE_HOME/conductor.yaml` into its `DaemonConfig`; the `profiler:`
section's `storage_path` and `jsonl_path` say where it writes monitor.db and monitor.jsonl.
When they are set, mzt_tui records to and reads from the same files. Nothing else of the file
is read, and nothing is ever written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from mzt_tui.models.errors import UsageError

CONDUCTOR_YAML_NAME = "conductor.yaml"
_PATH_KEYS = {"storage_path": "db_path", "jsonl_path": "jsonl_path"}


@dataclass(frozen=True, slots=True)
class ProfilerPaths:
    """The profiler's storage paths found in conductor.yaml.

    Attributes:
        source: The conductor.yaml they were read from.
        db_path: `profiler.storage_path` (monitor.db), or None when not set.
        jsonl_path: `profiler.jsonl_path` (monitor.jsonl), or None when not set.
    """

    source: Path
    db_path: Path | None = None
    jsonl_path: Path | None = None

    def as_storage(self) -> dict[str, str]:
        """The paths that are set, keyed as the `[storage]` table of top.toml."""
        found = {"db_path": self.db_path, "jsonl_path": self.jsonl_path}
        return {key: str(value) for key, value in found.items() if value is not None}


def _path(value: object, key: str, source: Path, home: Path) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(
            f"config {source}: key profiler.{key}: value {value!r} is not allowed "
            "(allowed: a non-empty path)"
        )
    path = Path(value).expanduser()
    return path if path.is_absolute() else home / path


def read_profiler_paths(home: Path) -> ProfilerPaths | None:
    """Read `profiler.storage_path` and `profiler.jsonl_path` from `home/conductor.yaml`.

    Args:
        home: The Marianne home folder.

    Returns:
        The paths (relative ones taken from `home`), or None when there is no conductor.yaml.

    Raises:
        UsageError: The file cannot be read, is not YAML, or holds a path that is not text.
    """
    source = home / CONDUCTOR_YAML_NAME
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise UsageError(f"config {source}: cannot be read: {reason}") from error
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or "syntax error"
        raise UsageError(f"config {source}: not valid YAML: {problem}{where}") from error
    profiler = document.get("profiler") if isinstance(document, dict) else None
    if not isinstance(profiler, dict):
        return ProfilerPaths(source=source)
    found: dict[str, Path] = {}
    for key, field in _PATH_KEYS.items():
        if profiler.get(key) is not None:
            found[field] = _path(profiler[key], key, source, home)
    return ProfilerPaths(source=source, **found)
