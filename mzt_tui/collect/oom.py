"""Evidence of OOM kills: the kernel log (/dev/kmsg) and cgroup v2 `memory.events`.

Nothing here guesses: a process that vanished is an OOM kill only when the kernel said so
(an `oom-kill:` / `Killed process PID` record) or the `oom_kill` counter of the cgroup it
lived in went up. Sources that cannot be read (no permission, no cgroup v2) are skipped and
their reason kept.
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

_KILLED = re.compile(r"(?:Killed process (\d+)|oom-kill:.*?\bpid=(\d+))")
_MAX_RECORDS_PER_POLL = 10_000


def parse_kmsg_oom_pids(records: list[str]) -> dict[int, str]:
    """Return {pid: record text} for every OOM kill in kernel log records."""
    found: dict[int, str] = {}
    for record in records:
        text = record.split(";", 1)[-1].strip()
        match = _KILLED.search(text)
        if match:
            found[int(match.group(1) or match.group(2))] = text[:200]
    return found


@dataclass
class OomWatcher:
    """Collects OOM evidence each tick; `evidence(pid)` answers for vanished processes.

    Args:
        kmsg_path: The kernel log device.
        proc_root: Where /proc lives (tests use a fake tree).
        cgroup_root: Where the cgroup v2 hierarchy is mounted.
    """

    kmsg_path: Path = Path("/dev/kmsg")
    proc_root: Path = Path("/proc")
    cgroup_root: Path = Path("/sys/fs/cgroup")
    reasons: list[str] = field(default_factory=list)
    _kmsg_fd: int | None = None
    _kmsg_tried: bool = False
    _killed: dict[int, str] = field(default_factory=dict)
    _cgroup_of: dict[int, str] = field(default_factory=dict)
    _oom_count: dict[str, int] = field(default_factory=dict)
    _cgroup_oom_pids: dict[int, str] = field(default_factory=dict)

    def watch(self, pids: list[int]) -> None:
        """Remember the cgroups of live tracked processes and read new kernel records."""
        for pid in pids:
            if pid not in self._cgroup_of:
                cgroup = self._read_cgroup(pid)
                if cgroup is not None:
                    self._cgroup_of[pid] = cgroup
                    self._oom_count.setdefault(cgroup, self._read_oom_kill(cgroup))
        self._killed.update(parse_kmsg_oom_pids(self._read_kmsg()))

    def note_gone(self, pids: list[int]) -> None:
        """Check the cgroups of processes that vanished for a raised `oom_kill` counter."""
        for pid in pids:
            cgroup = self._cgroup_of.pop(pid, None)
            if cgroup is None:
                continue
            before = self._oom_count.get(cgroup, 0)
            now = self._read_oom_kill(cgroup)
            self._oom_count[cgroup] = now
            if now > before:
                self._cgroup_oom_pids[pid] = (
                    f"cgroup {cgroup} memory.events oom_kill {before} -> {now}"
                )

    def evidence(self, pid: int) -> str | None:
        """The evidence that `pid` was killed for lack of memory, or None."""
        return self._killed.pop(pid, None) or self._cgroup_oom_pids.pop(pid, None)

    def close(self) -> None:
        """Close the kernel log."""
        if self._kmsg_fd is not None:
            os.close(self._kmsg_fd)
            self._kmsg_fd = None

    def _read_cgroup(self, pid: int) -> str | None:
        try:
            text = (self.proc_root / str(pid) / "cgroup").read_text()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith("0::"):
                return line[3:].strip() or "/"
        return None

    def _read_oom_kill(self, cgroup: str) -> int:
        path = self.cgroup_root / cgroup.lstrip("/") / "memory.events"
        try:
            text = path.read_text()
        except OSError:
            return 0
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
        return 0

    def _read_kmsg(self) -> list[str]:
        if not self._kmsg_tried:
            self._kmsg_tried = True
            try:
                self._kmsg_fd = os.open(self.kmsg_path, os.O_RDONLY | os.O_NONBLOCK)
                os.lseek(self._kmsg_fd, 0, os.SEEK_END)
            except OSError as error:
                self._kmsg_fd = None
                self.reasons.append(f"kernel log unreadable: {error.strerror or error}")
        if self._kmsg_fd is None:
            return []
        records: list[str] = []
        while len(records) < _MAX_RECORDS_PER_POLL:
            try:
                chunk = os.read(self._kmsg_fd, 8192)
            except OSError as error:
                if error.errno == errno.EPIPE:  # records overwritten before we read them
                    continue
                break  # EAGAIN: nothing new
            if not chunk:
                break
            records.append(chunk.decode("utf-8", "replace"))
        return records
