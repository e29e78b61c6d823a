"""`top.toml`'s settings: every section, its defaults, and where the file is by default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mzt_tui.models.config import (
    AnomalyConfig,
    CorrelationConfig,
    MonitorConfig,
    PositiveFloat,
    PositiveInt,
    RetentionConfig,
    Strict,
)

ENV_PREFIX = "MZT_TOP_"
ENV_NESTED_DELIMITER = "__"
CONFIG_FILE_NAME = Path("mzt") / "top.toml"


def _file_path(value: Path) -> Path:
    if value == Path():
        raise ValueError("a file path must not be empty")
    return value.expanduser()


FilePath = Annotated[Path, AfterValidator(_file_path), Field(description="a file path")]


def default_config_path() -> Path:
    """`$XDG_CONFIG_HOME/mzt/top.toml`, else `~/.config/mzt/top.toml`."""
    xdg = os.environ.get("XDG_CONFIG_HOME", "").strip()
    base = Path(xdg) if xdg else Path("~/.config").expanduser()
    return base / CONFIG_FILE_NAME


class StorageConfig(Strict):
    """Where monitor.db and monitor.jsonl are (default: in the Marianne home)."""

    db_path: FilePath | None = None
    jsonl_path: FilePath | None = None


class UiConfig(Strict):
    """How the dashboard shows things."""

    timezone: Annotated[
        str | None, Field(description="an IANA time zone name, such as UTC or Europe/Paris")
    ] = None
    """Zone of the times shown; local time when unset."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError("unknown time zone") from error
        return value


class TopSettings(BaseSettings):
    """Everything `top.toml`, `MZT_TOP_*` variables and flags can set.

    `interval_seconds` unset means 5 s when recording or streaming and 2 s in the dashboard.
    `keys` maps binding ids (`app.quit`) to key strings (`ctrl+q`, several comma-separated).
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="forbid",
        frozen=True,
    )

    interval_seconds: PositiveFloat | None = None
    jsonl_max_bytes: PositiveInt = MonitorConfig().jsonl_max_bytes
    storage: StorageConfig = Field(default_factory=StorageConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    anomaly: AnomalyConfig = Field(default_factory=AnomalyConfig)
    correlation: CorrelationConfig = Field(default_factory=CorrelationConfig)
    ui: UiConfig = Field(default_factory=UiConfig)
    keys: dict[str, str] = Field(default_factory=dict)

    def monitor_config(self, default_interval: float) -> MonitorConfig:
        """The monitor's configuration, with `default_interval` when none is set."""
        interval = self.interval_seconds if self.interval_seconds is not None else default_interval
        return MonitorConfig(
            interval_seconds=interval,
            jsonl_max_bytes=self.jsonl_max_bytes,
            retention=self.retention,
            anomaly=self.anomaly,
            correlation=self.correlation,
        )
