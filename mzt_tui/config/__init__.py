"""`mzt top`'s configuration: top.toml, `MZT_TOP_*` variables, flags, conductor.yaml paths."""

from __future__ import annotations

from mzt_tui.config.load import ConfigEntry, ConfigRequest, LoadedConfig, load_config
from mzt_tui.config.settings import TopSettings, default_config_path

__all__ = [
    "ConfigEntry",
    "ConfigRequest",
    "LoadedConfig",
    "TopSettings",
    "default_config_path",
    "load_config",
]
