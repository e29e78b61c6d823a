"""A fake /proc tree on disk, for the procfs sampler's unit tests."""

from __future__ import annotations

import shutil
from pathlib import Path

FAKE_BTIME = 1_700_000_000
FAKE_PAGE_SIZE = 4096
FAKE_CLOCK_TICKS = 100


def stat_line(
    pid: int,
    comm: str = "proc",
    state: str = "S",
    ppid: int = 1,
    *,
    utime: int = 0,
    stime: int = 0,
    threads: int = 1,
    start_ticks: int = 100,
    vsize: int = 10 * 1024 * 1024,
    rss_pages: int = 256,
    session: int = 0,
) -> str:
    """A `/proc/PID/stat` line with the fields the sampler reads set, the rest plausible."""
    fields = [
        state,
        ppid,
        pid,  # pgrp
        session or pid,
        0,  # tty_nr
        -1,  # tpgid
        4194304,  # flags
        10,  # minflt
        0,
        0,
        0,
        utime,
        stime,
        0,  # cutime
        0,  # cstime
        20,  # priority
        0,  # nice
        threads,
        0,  # itrealvalue
        start_ticks,
        vsize,
        rss_pages,
        18446744073709551615,  # rsslim
        *([0] * 27),
    ]
    return f"{pid} ({comm}) " + " ".join(str(f) for f in fields) + "\n"


class FakeProc:
    """Builds and edits a fake procfs under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.set_system_cpu([(100, 0, 50, 850, 0)] * 2)
        self.set_meminfo(total_kb=16 * 1024 * 1024, available_kb=12 * 1024 * 1024)
        (root / "loadavg").write_text("0.50 0.25 0.10 1/100 12345\n")

    def set_system_cpu(self, per_core: list[tuple[int, int, int, int, int]]) -> None:
        """Write /proc/stat from per-core (user, nice, system, idle, iowait) counters."""
        total = [sum(core[i] for core in per_core) for i in range(5)]
        lines = ["cpu  " + " ".join(map(str, total)) + " 0 0 0 0 0"]
        lines += [
            f"cpu{i} " + " ".join(map(str, core)) + " 0 0 0 0 0" for i, core in enumerate(per_core)
        ]
        lines += ["intr 1 2 3", f"btime {FAKE_BTIME}", "processes 100"]
        (self.root / "stat").write_text("\n".join(lines) + "\n")

    def set_meminfo(self, total_kb: int, available_kb: int) -> None:
        """Write /proc/meminfo."""
        (self.root / "meminfo").write_text(
            f"MemTotal:       {total_kb} kB\nMemFree:        1000 kB\n"
            f"MemAvailable:   {available_kb} kB\nBuffers:        10 kB\n"
        )

    def add(
        self,
        pid: int,
        comm: str = "proc",
        state: str = "S",
        ppid: int = 1,
        *,
        cmdline: list[str] | None = None,
        cwd: Path | None = None,
        open_fds: int = 0,
        **stat_fields: int,
    ) -> Path:
        """Create `/proc/PID` with its stat, cmdline, cwd link and fd folder."""
        directory = self.root / str(pid)
        directory.mkdir(exist_ok=True)
        self.set_stat(pid, comm, state, ppid, **stat_fields)
        args = cmdline if cmdline is not None else [comm]
        (directory / "cmdline").write_bytes(b"".join(a.encode() + b"\0" for a in args))
        if cwd is not None:
            (directory / "cwd").symlink_to(cwd)
        fd_dir = directory / "fd"
        fd_dir.mkdir(exist_ok=True)
        for number in range(open_fds):
            (fd_dir / str(number)).write_text("")
        return directory

    def set_stat(
        self, pid: int, comm: str = "proc", state: str = "S", ppid: int = 1, **fields: int
    ) -> None:
        """Rewrite `/proc/PID/stat`."""
        (self.root / str(pid) / "stat").write_text(stat_line(pid, comm, state, ppid, **fields))

    def remove(self, pid: int) -> None:
        """The process exits."""
        shutil.rmtree(self.root / str(pid))
