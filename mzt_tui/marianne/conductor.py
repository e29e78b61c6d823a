"""Find the running conductor: its PID file first, else a `running` registry row."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from mzt_tui.marianne.liveness import pid_alive
from mzt_tui.marianne.paths import MarianneHome
from mzt_tui.marianne.registry import RegistryReader
from mzt_tui.models.conductor import ConductorStatus
from mzt_tui.models.errors import StoreError

# A PID file holds one plain decimal number; anything longer is not one.
_PID_FILE_MAX_BYTES = 64
_PLAIN_DECIMAL = re.compile(r"[0-9]+")


def read_pid_file(path: Path) -> tuple[int | None, str | None]:
    """Read the conductor's PID file without ever raising.

    Args:
        path: The PID file (`/tmp/marianne.pid` by default).

    Returns:
        `(pid, None)` for a positive plain decimal PID, else `(None, reason)` with
        one line saying why: missing, unreadable, empty, too long, negative, junk.
    """
    try:
        with path.open("rb") as handle:
            content = handle.read(_PID_FILE_MAX_BYTES + 1)
    except FileNotFoundError:
        return None, f"PID file {path} does not exist"
    except IsADirectoryError:
        return None, f"PID file {path} is a directory"
    except OSError as exc:
        return None, f"PID file {path} cannot be read: {exc.strerror or exc}"
    if len(content) > _PID_FILE_MAX_BYTES:
        return None, f"PID file {path} is too long to hold a PID"
    try:
        text = content.decode("ascii").strip()
    except UnicodeDecodeError:
        return None, f"PID file {path} holds binary junk, not a PID"
    if not text:
        return None, f"PID file {path} is empty"
    if text.startswith("-") and _PLAIN_DECIMAL.fullmatch(text[1:]):
        return None, f"PID file {path} holds a negative number ({text})"
    if not _PLAIN_DECIMAL.fullmatch(text):
        shown = text if len(text) <= 20 else text[:20] + "…"
        return None, f"PID file {path} holds {shown!r}, not a plain decimal PID"
    pid = int(text)
    if pid == 0:
        return None, f"PID file {path} holds 0, which is no process"
    return pid, None


def find_conductor(
    home: MarianneHome,
    *,
    is_alive: Callable[[int], bool] = pid_alive,
    registry: RegistryReader | None = None,
) -> ConductorStatus:
    """Find the live conductor's PID; never raises.

    The PID file is trusted when its PID is alive. Otherwise the registry's
    `running` rows are tried, newest first, for a PID that is alive (the PID
    file may be missing or stale while a conductor still runs).

    Args:
        home: Where the PID file and the registry are.
        is_alive: Tells whether a PID is a live process (tests pass a fake).
        registry: The registry to fall back to (default: the one in `home`).

    Returns:
        The PID and its source, or no PID; `reasons` lists every step that failed.
    """
    reasons: list[str] = []
    pid, problem = read_pid_file(home.pid_file)
    if pid is not None:
        if is_alive(pid):
            return ConductorStatus(pid=pid, source="pid_file")
        reasons.append(f"PID {pid} from {home.pid_file} is not running")
    elif problem is not None:
        reasons.append(problem)

    reader = registry or RegistryReader(home.registry_db, is_alive=is_alive)
    if not reader.exists():
        reasons.append(f"conductor registry {reader.path} does not exist")
        return ConductorStatus(reasons=tuple(reasons))
    try:
        candidates = reader.running_pids()
    except StoreError as exc:
        reasons.append(str(exc))
        return ConductorStatus(reasons=tuple(reasons))
    for candidate in candidates:
        if candidate == pid:
            continue  # already found dead above
        if is_alive(candidate):
            return ConductorStatus(pid=candidate, source="registry", reasons=tuple(reasons))
        reasons.append(f"PID {candidate} of a running job in the registry is not running")
    if not candidates:
        reasons.append("no running job in the conductor registry")
    return ConductorStatus(reasons=tuple(reasons))
