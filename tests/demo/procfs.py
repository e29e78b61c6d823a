"""Small /proc readers the demo tests use to look at the real process trees."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcStat:
    """The fields of /proc/PID/stat the tests need."""

    pid: int
    state: str
    ppid: int
    pgid: int
    sid: int
    start_ticks: int

    @property
    def identity(self) -> tuple[int, int]:
        """(pid, start time): a process identity that survives PID reuse."""
        return (self.pid, self.start_ticks)


def read_stat(pid: int) -> ProcStat | None:
    """Return the process's stat fields, or None once it has gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return ProcStat(
        pid=pid,
        state=fields[0],
        ppid=int(fields[1]),
        pgid=int(fields[2]),
        sid=int(fields[3]),
        start_ticks=int(fields[19]),
    )


def all_stats() -> list[ProcStat]:
    """Return every process visible now."""
    stats = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (stat := read_stat(int(entry.name))) is not None:
            stats.append(stat)
    return stats


def cmdline(pid: int) -> str:
    """Return the command line joined by spaces ('' when gone or a zombie)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def cwd(pid: int) -> Path | None:
    """Return the process's working directory, or None when it cannot be read."""
    try:
        return Path(os.readlink(PROC / str(pid) / "cwd"))
    except OSError:
        return None


def open_fd_count(pid: int) -> int:
    """Return how many file descriptors the process has open (0 when gone)."""
    try:
        return len(os.listdir(PROC / str(pid) / "fd"))
    except OSError:
        return 0


def still_present(identities: set[tuple[int, int]]) -> list[ProcStat]:
    """Return the processes of `identities` that still exist (zombies included)."""
    return [stat for stat in all_stats() if stat.identity in identities]


def in_sessions(session_ids: set[int]) -> list[ProcStat]:
    """Return every process whose session is one of `session_ids`."""
    return [stat for stat in all_stats() if stat.sid in session_ids]
