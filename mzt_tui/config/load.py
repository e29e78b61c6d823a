"""Load the effective configuration and remember where each value came from.

Precedence, highest first: flags, `MZT_TOP_*` environment variables, the TOML file
(`--config`, default `~/.config/mzt/top.toml`), the profiler's storage paths in the
Marianne home's `conductor.yaml`, then the defaults. pydantic-settings reads the
environment and the file; one validation over the merged values names the first bad key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_settings import EnvSettingsSource, SettingsError, TomlConfigSettingsSource

from mzt_tui.config import problems
from mzt_tui.config.settings import (
    ENV_NESTED_DELIMITER,
    ENV_PREFIX,
    TopSettings,
    default_config_path,
)
from mzt_tui.marianne.conductor_yaml import read_profiler_paths
from mzt_tui.models.errors import UsageError

DEFAULT_ORIGIN = "default"


@dataclass(frozen=True)
class ConfigRequest:
    """What to load.

    Attributes:
        config_path: `--config`, or None for the default file (which may be missing).
        home: The Marianne home whose conductor.yaml is read, or None to read none.
        flags: Values given as flags, by dotted key (`interval_seconds`, `storage.db_path`).
        flag_names: The flag that set each of `flags` (`--interval`), for messages.
    """

    config_path: Path | None = None
    home: Path | None = None
    flags: Mapping[str, object] = field(default_factory=dict)
    flag_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConfigEntry:
    """One effective value: its dotted key, the value, and where it came from."""

    key: str
    value: object
    origin: str


@dataclass(frozen=True)
class LoadedConfig:
    """The effective settings and the origin of every value not left at its default.

    Attributes:
        settings: The validated settings.
        file: The TOML file that was consulted (it may not exist when it is the default).
        origins: Dotted key to origin (`file PATH`, `env NAME`, `flag --x`,
            `conductor.yaml PATH`) for each value some source set.
    """

    settings: TopSettings
    file: Path
    origins: Mapping[str, str]

    def origin(self, key: str) -> str:
        """Where the value of `key` came from (`default` when no source set it)."""
        return _origin_of(self.origins, key) or DEFAULT_ORIGIN

    def error_prefix(self, key: str) -> str:
        """How an error about `key` starts: `config PATH` or `config env NAME` ..."""
        return _error_prefix(self.origin(key))

    def entries(self) -> list[ConfigEntry]:
        """Every key with its effective value and origin, in the settings' order."""
        return [
            ConfigEntry(key, value, self.origin(key))
            for key, value in _leaves(self.settings, prefix="")
        ]


def _leaves(model: BaseModel, prefix: str) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            found.extend(_leaves(value, f"{key}."))
        elif isinstance(value, dict):
            found.extend((f"{key}.{item}", entry) for item, entry in sorted(value.items()))
        else:
            found.append((key, str(value) if isinstance(value, Path) else value))
    return found


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{key}."))
        else:
            flat[key] = value
    return flat


def _nest(flat: Mapping[str, object]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, last = key.split(".")
        table = nested
        for parent in parents:
            table = table.setdefault(parent, {})
        table[last] = value
    return nested


def _merge(low: Mapping[str, Any], high: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(low)
    for key, value in high.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = _merge(below, value)
        else:
            merged[key] = value
    return merged


def _origin_of(origins: Mapping[str, str], key: str) -> str | None:
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        found = origins.get(".".join(parts[:end]))
        if found is not None:
            return found
    return None


def _error_prefix(origin: str) -> str:
    kind, _, where = origin.partition(" ")
    return f"config {where}" if kind in ("file", "conductor.yaml") else f"config {origin}"


def _read_file(path: Path, explicit: bool) -> dict[str, Any]:
    if not path.exists():
        if explicit:
            raise UsageError(f"config {path}: no such file")
        return {}
    if path.is_dir():
        raise UsageError(f"config {path}: cannot be read: it is a folder")
    try:
        return dict(TomlConfigSettingsSource(TopSettings, toml_file=path).toml_data)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"config {path}: not valid TOML: {error}") from error
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise UsageError(f"config {path}: cannot be read: {reason}") from error


def _env_keys(environ: Mapping[str, str]) -> dict[str, str]:
    """Dotted key to variable name for every `MZT_TOP_*` variable; unknown ones are errors."""
    keys: dict[str, str] = {}
    for name in sorted(environ):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX) :].lower().split(ENV_NESTED_DELIMITER)
        dotted = ".".join(parts)
        if parts[0] != "keys" or len(parts) > 2:
            for depth in range(len(parts)):
                known = problems.known_keys(TopSettings, tuple(parts[:depth]))
                if parts[depth] not in known:
                    raise UsageError(
                        f"config env {name}: unknown key {dotted} (allowed: {', '.join(known)})"
                        if known
                        else f"config env {name}: unknown key {dotted}"
                    )
        keys[dotted] = name
    return keys


def _read_env() -> tuple[dict[str, Any], dict[str, str]]:
    names = _env_keys(os.environ)
    try:
        data = dict(EnvSettingsSource(TopSettings)())
    except SettingsError as error:
        field_name = str(error).split('"')[1] if '"' in str(error) else ""
        variable = names.get(field_name, f"{ENV_PREFIX}{field_name.upper()}")
        raise UsageError(f"config env {variable}: not valid JSON") from error
    origins: dict[str, str] = {}
    for key in _flatten(data):
        found = _origin_of(names, key)
        origins[key] = f"env {found}" if found else "env"
    return data, origins


def _validation_error(error: ValidationError, origins: Mapping[str, str]) -> UsageError:
    first = error.errors()[0]
    loc = tuple(str(part) for part in first["loc"])
    key = ".".join(loc)
    prefix = _error_prefix(_origin_of(origins, key) or DEFAULT_ORIGIN)
    if first["type"] == "extra_forbidden":
        known = problems.known_keys(TopSettings, loc[:-1])
        return UsageError(f"{prefix}: unknown key {key} (allowed: {', '.join(known)})")
    allowed = problems.allowed(TopSettings, loc)
    value = first["input"]
    return UsageError(
        f"{prefix}: key {key}: value {value!r} {problems.problem(first)} (allowed: {allowed})"
    )


def load_config(request: ConfigRequest) -> LoadedConfig:
    """Load the settings from every source, in order of precedence.

    Raises:
        UsageError: A missing `--config` file, an unreadable or garbled file, an unknown key
            or a bad value; the one line names the file or variable, the key, the value and
            what is allowed.
    """
    path = (request.config_path or default_config_path()).expanduser()
    layers: list[tuple[dict[str, Any], dict[str, str]]] = []
    if request.home is not None:
        paths = read_profiler_paths(request.home)
        if paths is not None and paths.as_storage():
            data = {"storage": paths.as_storage()}
            layers.append((data, dict.fromkeys(_flatten(data), f"conductor.yaml {paths.source}")))
    file_data = _read_file(path, explicit=request.config_path is not None)
    layers.append((file_data, dict.fromkeys(_flatten(file_data), f"file {path}")))
    layers.append(_read_env())
    flag_origins = {key: f"flag {request.flag_names.get(key, key)}" for key in request.flags}
    layers.append((_nest(request.flags), flag_origins))
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for data, data_origins in layers:
        merged = _merge(merged, data)
        for key, origin in data_origins.items():
            for stale in [old for old in origins if old == key or old.startswith(f"{key}.")]:
                del origins[stale]
            origins[key] = origin
    try:
        settings = TopSettings.model_validate(merged)
    except ValidationError as error:
        raise _validation_error(error, origins) from error
    return LoadedConfig(settings=settings, file=path, origins=origins)
