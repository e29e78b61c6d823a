"""Where Marianne keeps its files: the Marianne home and the conductor's PID file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mzt_tui.models.errors import UsageError

HOME_ENV_VAR = "MARIANNE_HOME"
DEFAULT_HOME = Path("~/.marianne")
DEFAULT_PID_FILE = Path("/tmp/marianne.pid")

MONITOR_DB_NAME = "monitor.db"
MONITOR_JSONL_NAME = "monitor.jsonl"
LEARNING_DB_NAME = "global-learning.db"
REGISTRY_DB_NAME = "daemon-state.db"


@dataclass(frozen=True, slots=True)
class MarianneHome:
    """The Marianne home folder and the files the conductor keeps in and around it.

    Attributes:
        root: The home folder itself, absolute (`~/.marianne` by default).
        pid_file: The conductor's PID file (`/tmp/marianne.pid` by default).
    """

    root: Path
    pid_file: Path = DEFAULT_PID_FILE

    @property
    def monitor_db(self) -> Path:
        """The resource time series (`monitor.db`)."""
        return self.root / MONITOR_DB_NAME

    @property
    def monitor_jsonl(self) -> Path:
        """One JSON snapshot per line (`monitor.jsonl`), rotated to `.1`, `.2`."""
        return self.root / MONITOR_JSONL_NAME

    @property
    def learning_db(self) -> Path:
        """The learning store (`global-learning.db`)."""
        return self.root / LEARNING_DB_NAME

    @property
    def registry_db(self) -> Path:
        """The conductor's job registry (`daemon-state.db`), read-only for us."""
        return self.root / REGISTRY_DB_NAME


def _as_path(value: str | Path, what: str) -> Path:
    """Turn a user-given path into an absolute one, refusing empty text."""
    text = str(value)
    if not text.strip():
        raise UsageError(f"{what} must not be empty")
    return Path(text).expanduser().absolute()


def resolve_home(
    explicit: str | Path | None,
    *,
    pid_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> MarianneHome:
    """Find the Marianne home: `--marianne-home`, else `$MARIANNE_HOME`, else `~/.marianne`.

    Nothing is read or created on disk: this only decides where things are.

    Args:
        explicit: The `--marianne-home` value, or None when the flag was not given.
        pid_file: Another PID file than `/tmp/marianne.pid`, or None for the default.
        environ: The environment to read `MARIANNE_HOME` from (default: `os.environ`).

    Returns:
        The home with `~` expanded and the root made absolute.

    Raises:
        UsageError: `explicit` or `pid_file` is an empty string.
    """
    env = os.environ if environ is None else environ
    if explicit is not None:
        root = _as_path(explicit, "--marianne-home")
    elif env.get(HOME_ENV_VAR, "").strip():
        root = _as_path(env[HOME_ENV_VAR], HOME_ENV_VAR)
    else:
        root = DEFAULT_HOME.expanduser().absolute()
    pid_path = DEFAULT_PID_FILE if pid_file is None else _as_path(pid_file, "the PID file")
    return MarianneHome(root=root, pid_file=pid_path)
