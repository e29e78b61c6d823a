"""Whether a process ID belongs to a live process."""

from __future__ import annotations

import os
from pathlib import Path

PROC_ROOT = Path("/proc")

# Linux never hands out PIDs above 2**22 (the kernel's PID_MAX_LIMIT).
_PID_LIMIT = 1 << 22


def _proc_state(pid: int, proc_root: Path) -> str | None:
    """Return the one-letter state from `/proc/<pid>/stat`, or None when unreadable."""
    try:
        stat = (proc_root / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name sits in parentheses and may hold spaces or ')' itself.
    _, _, after_name = stat.rpartition(")")
    fields = after_name.split()
    return fields[0] if fields else None


def pid_alive(pid: int, *, proc_root: Path = PROC_ROOT) -> bool:
    """Tell whether `pid` is a live process (a zombie counts as dead).

    `os.kill(pid, 0)` decides first: no such process means dead, a permission
    error means alive (it exists but belongs to someone else). When the signal
    could be sent and `/proc` is mounted, a missing `/proc/<pid>` means dead
    (another PID namespace), and so does state `Z`.

    Args:
        pid: The process ID to check; zero, negative or impossible PIDs are dead.
        proc_root: The procfs mount point (tests point it elsewhere).

    Returns:
        True when the process exists and is not a zombie.
    """
    if pid <= 0 or pid >= _PID_LIMIT:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # Someone else's process; /proc may hide it (hidepid), so stop here.
        return True
    except (OSError, OverflowError):
        return False
    if (proc_root / "self").exists():
        if not (proc_root / str(pid)).exists():
            return False
        if _proc_state(pid, proc_root) == "Z":
            return False
    return True
