"""The Linux fast path: one tick of every process, read straight from /proc.

Per process and tick the sampler reads one file, `/proc/PID/stat` (three system calls: open,
read, close), which holds everything hot: ppid, state, utime + stime, threads, start time, vsize
and rss. What does not change is cached per `(pid, start time)`: the command line (read once,
again only when `comm` changes, which happens on exec), the owner's uid (one `stat` of the
directory) and the working directory (read lazily, only when attribution asks). Open file
descriptors are counted only for the detail processes.

CPU% is the change of utime + stime between two ticks over the wall time between them, per
`(pid, start time)`, with 100 % meaning one core fully busy (as in `top`). On first sight a
process gets its lifetime average (CPU time over age, as `ps` shows): for a process born since
the previous tick that is exactly its usage over the part of the interval it lived, so a busy
newcomer does not read 0 %. Values are capped at 100 % times the number of cores, which only
rounding at very young ages could exceed.

Start times use the precise boot time (`CLOCK_REALTIME - CLOCK_BOOTTIME`, fixed when the
sampler is made) rather than the whole seconds of `btime`, so they compare correctly with the
conductor's sheet start times.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection

from mzt_tui.collect.procfs_system import ProcfsSystemReader, read_btime, read_file
from mzt_tui.collect.sampling import (
    MIB,
    RawProcess,
    SamplerTick,
    TickClock,
    normalize_state,
    precise_boot_time,
    subtree_pids,
)

# Kernel state byte -> stored letter; anything else goes through normalize_state.
_STATE_BY_BYTE: dict[bytes, str] = {raw.encode(): normalize_state(raw) for raw in "RSDZTtXxIKWPL"}
# Index of each field in the part of /proc/PID/stat after ") " (field number minus 3).
_PPID, _UTIME, _STIME, _THREADS, _STARTTIME, _VSIZE, _RSS = 1, 11, 12, 17, 19, 20, 21
_STAT_SPLITS = 22  # split no further than the rss field
_DELETED_SUFFIX = " (deleted)"


class _Entry:
    """What the sampler keeps about one `(pid, start time)` between ticks."""

    __slots__ = ("cmdline", "cpu_ticks", "cwd", "cwd_read", "head", "name", "start_ticks", "uid")

    def __init__(
        self,
        start_ticks: int,
        head: bytes,
        name: str,
        cmdline: tuple[str, ...],
        uid: int | None,
    ) -> None:
        self.start_ticks = start_ticks
        self.head = head  # b"PID (comm": changes when the process execs
        self.name = name
        self.cmdline = cmdline
        self.uid = uid
        self.cpu_ticks = 0
        self.cwd: str | None = None
        self.cwd_read = False


def parse_stat(data: bytes) -> tuple[int, str, str, int, int, int, int, int, int] | None:
    """Parse one `/proc/PID/stat` line.

    `comm` may hold spaces and parentheses, so the line is split at its last `)`. The sampler's
    hot loop inlines this same parsing (a call and the `comm` decoding per process would cost
    a tenth of the tick); this function serves the cold paths.

    Args:
        data: The file's content.

    Returns:
        `(pid, comm, state, ppid, cpu_ticks, threads, start_ticks, vsize_bytes, rss_pages)`,
        with `state` already normalised, or None when the line is malformed.
    """
    lparen = data.find(b"(")
    rparen = data.rfind(b")")
    if lparen < 0 or rparen < lparen:
        return None
    fields = data[rparen + 2 :].split(None, _STAT_SPLITS)
    if len(fields) < _STAT_SPLITS:
        return None
    try:
        return (
            int(data[:lparen]),
            data[lparen + 1 : rparen].decode("utf-8", "replace"),
            normalize_state(fields[0].decode("ascii", "replace")),
            int(fields[_PPID]),
            int(fields[_UTIME]) + int(fields[_STIME]),
            int(fields[_THREADS]),
            int(fields[_STARTTIME]),
            int(fields[_VSIZE]),
            int(fields[_RSS]),
        )
    except ValueError:
        return None


class ProcfsSampler:
    """Samples every visible process from procfs (see the module docstring).

    Args:
        proc_root: Where procfs is mounted; tests pass a fake tree.
        boot_time: Unix boot time; by default the precise one for the real /proc, else `btime`
            from `proc_root/stat`.
        clock_ticks: Kernel clock ticks per second; by default `SC_CLK_TCK`.
        page_size: Bytes per memory page; by default `SC_PAGE_SIZE`.
        monotonic: The clock CPU% intervals are measured with (tests pass a fake one).
        wall_clock: The clock for timestamps and ages (tests pass a fake one).
    """

    name = "procfs"

    def __init__(
        self,
        proc_root: str = "/proc",
        *,
        boot_time: float | None = None,
        clock_ticks: int | None = None,
        page_size: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._root = proc_root.rstrip("/") or "/"
        self._prefix = self._root + "/"
        self._clock_ticks = clock_ticks or os.sysconf("SC_CLK_TCK")
        self._page_size = page_size or os.sysconf("SC_PAGE_SIZE")
        self._tick_clock = TickClock(monotonic, wall_clock)
        if boot_time is not None:
            self._boot_time = boot_time
        else:
            precise = precise_boot_time() if self._root == "/proc" else None
            self._boot_time = precise if precise is not None else read_btime(self._root)
        self._system = ProcfsSystemReader(self._root)
        self._entries: dict[int, _Entry] = {}

    @property
    def boot_time(self) -> float:
        """Unix time of boot used for every start time."""
        return self._boot_time

    def start_time_of(self, start_ticks: int) -> float:
        """Convert a `starttime` field (clock ticks since boot) to unix seconds.

        The very expression of the hot loop, so that the floats compare equal.
        """
        return self._boot_time + start_ticks * (1.0 / self._clock_ticks)

    def sample(
        self, detail_pids: Collection[int] = (), detail_roots: Collection[int] = ()
    ) -> SamplerTick:
        """Read one tick of every process and of the system.

        Args:
            detail_pids: Processes whose open file descriptors are counted.
            detail_roots: Processes whose whole subtree has them counted.

        Returns:
            The tick; processes that vanished while being read are left out.
        """
        wall, interval = self._tick_clock.begin()
        processes = self._read_processes(wall, interval, set(detail_pids))
        if detail_roots:
            processes = self._add_subtree_details(processes, detail_pids, detail_roots)
        system = self._system.read(self._boot_time, self._clock_ticks)
        own_pid = os.getpid()
        own = next((p for p in processes if p.pid == own_pid), None)
        monitor = self._tick_clock.finish(own.rss_mb if own is not None else 0.0)
        return SamplerTick(wall, interval, tuple(processes), system, monitor)

    def _read_processes(self, wall: float, interval: float, detail: set[int]) -> list[RawProcess]:
        """The hot loop: one `stat` read per process; kept flat on purpose, it runs per PID."""
        try:
            names = os.listdir(self._root)
        except OSError:
            return []
        os_open, os_read, os_close, o_rdonly = os.open, os.read, os.close, os.O_RDONLY
        prefix = self._prefix
        ticks_to_pct = 100.0 / (self._clock_ticks * interval) if interval > 0 else 0.0
        inv_clock_ticks = 1.0 / self._clock_ticks
        page_mib = self._page_size / MIB
        boot_time = self._boot_time
        max_pct = 100.0 * (os.cpu_count() or 1)
        state_by_byte = _STATE_BY_BYTE
        old_entries = self._entries
        new_entries: dict[int, _Entry] = {}
        processes: list[RawProcess] = []
        append = processes.append
        for name in names:
            if not name.isdigit():
                continue
            try:
                fd = os_open(prefix + name + "/stat", o_rdonly)
                try:
                    data = os_read(fd, 4096)
                finally:
                    os_close(fd)
            except OSError:  # vanished (ENOENT, ESRCH) or hidden (EACCES)
                continue
            rparen = data.rfind(b")")
            fields = data[rparen + 2 :].split(None, _STAT_SPLITS)
            if rparen < 0 or len(fields) < _STAT_SPLITS:
                continue
            try:
                pid = int(name)
                ppid = int(fields[_PPID])
                start_ticks = int(fields[_STARTTIME])
                cpu_ticks = int(fields[_UTIME]) + int(fields[_STIME])
                threads = int(fields[_THREADS])
                vsize = int(fields[_VSIZE])
                rss_pages = int(fields[_RSS])
            except ValueError:  # not a stat line the kernel writes; never in practice
                continue
            start_time = boot_time + start_ticks * inv_clock_ticks
            age = wall - start_time
            entry = old_entries.get(pid)
            head = data[:rparen]
            if entry is not None and entry.start_ticks == start_ticks and ticks_to_pct:
                cpu = (cpu_ticks - entry.cpu_ticks) * ticks_to_pct
            else:  # first sight: the lifetime average (see the module docstring)
                cpu = cpu_ticks * inv_clock_ticks / max(age, inv_clock_ticks) * 100.0
            if entry is None or entry.start_ticks != start_ticks or entry.head != head:
                entry = self._new_entry(name, start_ticks, head)  # new, or exec'd since
            entry.cpu_ticks = cpu_ticks
            new_entries[pid] = entry
            append(
                RawProcess(
                    pid,
                    ppid,
                    start_time,
                    state_by_byte.get(fields[0])
                    or normalize_state(fields[0].decode("ascii", "replace")),
                    min(max(cpu, 0.0), max_pct),
                    cpu_ticks * inv_clock_ticks,
                    rss_pages * page_mib,
                    vsize / MIB,
                    threads,
                    self.read_open_fds(pid) if pid in detail else None,
                    age if age > 0.0 else 0.0,
                    entry.uid,
                    entry.name,
                    entry.cmdline,
                )
            )
        self._entries = new_entries
        return processes

    def _new_entry(self, name: str, start_ticks: int, head: bytes) -> _Entry:
        """Read what is cached per process: the command line and the owner's uid."""
        comm = head[head.find(b"(") + 1 :].decode("utf-8", "replace")
        directory = self._prefix + name
        try:
            raw = read_file(directory + "/cmdline")
        except OSError:  # gone, or not permitted: the short name stands in
            raw = b""
        args = tuple(arg.decode("utf-8", "replace") for arg in raw.rstrip(b"\0").split(b"\0"))
        try:
            uid: int | None = os.stat(directory).st_uid
        except OSError:
            uid = None
        return _Entry(start_ticks, head, comm, args if raw.strip(b"\0") else (comm,), uid)

    def _add_subtree_details(
        self,
        processes: list[RawProcess],
        already: Collection[int],
        roots: Collection[int],
    ) -> list[RawProcess]:
        """Count open fds for the detail roots and all their descendants."""
        wanted = subtree_pids({p.pid: p.ppid for p in processes}, roots).difference(already)
        if not wanted:
            return processes
        return [
            p._replace(open_fds=self.read_open_fds(p.pid)) if p.pid in wanted else p
            for p in processes
        ]

    def read_open_fds(self, pid: int) -> int | None:
        """Count the entries of `/proc/PID/fd`; None when gone or not permitted."""
        try:
            return len(os.listdir(f"{self._prefix}{pid}/fd"))
        except OSError:
            return None

    def cwd(self, pid: int, start_time: float) -> str | None:
        """Return the working directory of `(pid, start_time)`, read once and cached.

        Args:
            pid: The process.
            start_time: Its start time, as this sampler reported it.

        Returns:
            The directory (without the kernel's " (deleted)" mark), or None when it cannot be
            read or `pid` is now another process.
        """
        entry = self._entries.get(pid)
        if entry is not None:
            if self.start_time_of(entry.start_ticks) != start_time:
                return None
            if not entry.cwd_read:
                entry.cwd = self._read_cwd(pid)
                entry.cwd_read = True
            return entry.cwd
        # Not seen by the last tick: check the identity before answering.
        try:
            parsed = parse_stat(read_file(f"{self._prefix}{pid}/stat"))
        except OSError:
            return None
        if parsed is None or self.start_time_of(parsed[6]) != start_time:
            return None
        return self._read_cwd(pid)

    def _read_cwd(self, pid: int) -> str | None:
        try:
            path = os.readlink(f"{self._prefix}{pid}/cwd")
        except OSError:  # gone, or another user's process
            return None
        return path.removesuffix(_DELETED_SUFFIX)
