"""The demo's home folder and pid file.

The demo writes only under its own home (default ``~/.marianne-demo``), never under the real
conductor's ``~/.marianne``. The pid file, ``HOME/marianne.pid``, holds the PID of the process
running the demo, in plain decimal, like the conductor's.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Final

from mzt_tui.models.errors import MztError, UsageError

PID_FILE_NAME: Final = "marianne.pid"
REGISTRY_FILE_NAME: Final = "daemon-state.db"
WORKSPACES_DIR_NAME: Final = "workspaces"
SCORES_DIR_NAME: Final = "scores"


def default_demo_home() -> Path:
    """Return the demo's default home, ``~/.marianne-demo``."""
    return Path.home() / ".marianne-demo"


def resolve_demo_home(home: Path | None) -> Path:
    """Return `home` (or the default) made absolute; refuse the real conductor's home.

    Raises:
        UsageError: `home` is ``~/.marianne``, the real conductor's home.
    """
    resolved = (home if home is not None else default_demo_home()).expanduser().resolve()
    if resolved == (Path.home() / ".marianne").resolve():
        raise UsageError(f"the demo never writes the real conductor's home {resolved}")
    return resolved


def read_pid_file(pid_file: Path) -> int | None:
    """Return the PID in `pid_file`, or None if it is missing or not a number."""
    try:
        return int(pid_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this PID exists (zombies count as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def claim_pid_file(pid_file: Path, pid: int) -> None:
    """Write `pid` to `pid_file`, unless another live process holds it.

    Raises:
        MztError: Another live process already runs a demo in this home.
    """
    holder = read_pid_file(pid_file)
    if holder is not None and holder != pid and pid_alive(holder):
        raise MztError(f"a demo conductor already runs in {pid_file.parent} (PID {holder})")
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = pid_file.with_name(f".{pid_file.name}.{pid}")
    temporary.write_text(f"{pid}\n", encoding="ascii")
    temporary.replace(pid_file)


def release_pid_file(pid_file: Path, pid: int) -> None:
    """Remove `pid_file` if it still names `pid`."""
    if read_pid_file(pid_file) == pid:
        with contextlib.suppress(FileNotFoundError):
            pid_file.unlink()
