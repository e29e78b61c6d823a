"""The portable sampler: the same interface as `ProcfsSampler`, through psutil.

Used where /proc is missing (macOS, BSD, Windows) and as a reference in tests and the bench.
CPU% is computed the same way as on the fast path (CPU-time deltas per `(pid, start time)`,
lifetime average on first sight, 100 % = one core), not with psutil's own `cpu_percent`, so
both samplers agree. The command line and the uid are cached per `(pid, start time)`; the
working directory is read lazily and cached too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection

import psutil

from mzt_tui.collect.sampling import (
    MIB,
    ZOMBIE_STATE,
    RawProcess,
    SamplerTick,
    SystemStats,
    TickClock,
    busy_percent,
    precise_boot_time,
    subtree_pids,
)

_STATE_BY_STATUS: dict[str, str] = {
    psutil.STATUS_RUNNING: "R",
    psutil.STATUS_SLEEPING: "S",
    psutil.STATUS_DISK_SLEEP: "D",
    psutil.STATUS_STOPPED: "T",
    psutil.STATUS_TRACING_STOP: "T",
    psutil.STATUS_ZOMBIE: "Z",
    psutil.STATUS_DEAD: "X",
    "wake-kill": "K",
    psutil.STATUS_WAKING: "W",
    psutil.STATUS_IDLE: "I",
    psutil.STATUS_PARKED: "P",
    psutil.STATUS_LOCKED: "L",
    psutil.STATUS_WAITING: "W",
    "suspended": "T",
}

# What cannot be read about one process: it vanished, or belongs to someone else.
_UNREADABLE = (psutil.NoSuchProcess, psutil.AccessDenied, OSError)


class _Cached:
    """What the sampler keeps about one `(pid, start time)` between ticks."""

    __slots__ = ("cmdline", "cpu_seconds", "cwd", "cwd_read", "name", "uid")

    def __init__(self, name: str, cmdline: tuple[str, ...], uid: int | None) -> None:
        self.name = name
        self.cmdline = cmdline
        self.uid = uid
        self.cpu_seconds = 0.0
        self.cwd: str | None = None
        self.cwd_read = False


class PsutilSampler:
    """Samples every visible process through psutil (see the module docstring).

    Args:
        monotonic: The clock CPU% intervals are measured with.
        wall_clock: The clock for timestamps and ages.
    """

    name = "psutil"

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._tick_clock = TickClock(monotonic, wall_clock)
        # psutil's start times rest on the whole seconds of `btime` on Linux; shift them onto
        # the precise boot time, as the fast path uses, so they compare with sheet starts.
        self._boot_time = psutil.boot_time()
        self._start_correction = 0.0
        precise = precise_boot_time() if psutil.LINUX else None
        if precise is not None:
            self._start_correction = precise - self._boot_time
            self._boot_time = precise
        self._cache: dict[tuple[int, float], _Cached] = {}
        self._last_cpu_times: list[tuple[float, float]] = []
        self._self = psutil.Process()

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
        max_pct = 100.0 * (psutil.cpu_count() or 1)
        old_cache = self._cache
        self._cache = {}
        processes: list[RawProcess] = []
        handles: dict[int, psutil.Process] = {}
        for proc in psutil.process_iter():
            try:
                with proc.oneshot():
                    read = self._read_one(proc, wall, interval, old_cache, max_pct)
            except psutil.ZombieProcess:
                read = _zombie(proc, wall)
            except _UNREADABLE:
                continue
            processes.append(read)
            handles[read.pid] = proc
        detail = set(detail_pids)
        if detail_roots:
            detail |= subtree_pids({p.pid: p.ppid for p in processes}, detail_roots)
        processes = [
            p._replace(open_fds=_count_fds(handles[p.pid])) if p.pid in detail else p
            for p in processes
        ]
        try:
            own_rss = self._self.memory_info().rss / MIB
        except _UNREADABLE:
            own_rss = 0.0
        system = self._read_system()
        return SamplerTick(
            wall, interval, tuple(processes), system, self._tick_clock.finish(own_rss)
        )

    def _read_one(
        self,
        proc: psutil.Process,
        wall: float,
        interval: float,
        old_cache: dict[tuple[int, float], _Cached],
        max_pct: float,
    ) -> RawProcess:
        """One process inside `oneshot()`; raises what psutil raises for an unreadable one."""
        start_time = proc.create_time() + self._start_correction
        key = (proc.pid, start_time)
        cached = old_cache.get(key)
        times = proc.cpu_times()
        cpu_seconds = times.user + times.system
        age = max(wall - start_time, 0.0)
        if cached is not None and interval > 0:
            cpu = (cpu_seconds - cached.cpu_seconds) / interval * 100.0
        else:  # first sight: the lifetime average, as on the fast path
            cpu = cpu_seconds / max(age, 0.01) * 100.0
        if cached is None:
            cached = self._describe(proc)
        cached.cpu_seconds = cpu_seconds
        self._cache[key] = cached
        memory = proc.memory_info()
        try:
            state = _STATE_BY_STATUS.get(proc.status(), "S")
        except _UNREADABLE:
            state = "S"
        return RawProcess(
            pid=proc.pid,
            ppid=proc.ppid(),
            start_time=start_time,
            state=state,
            cpu_percent=min(max(cpu, 0.0), max_pct),
            cpu_seconds=cpu_seconds,
            rss_mb=memory.rss / MIB,
            vms_mb=memory.vms / MIB,
            threads=proc.num_threads(),
            open_fds=None,
            age_seconds=age,
            uid=cached.uid,
            name=cached.name,
            cmdline=cached.cmdline,
        )

    @staticmethod
    def _describe(proc: psutil.Process) -> _Cached:
        """Read the cached fields of a new process, each on its own: any may be denied."""
        try:
            name = proc.name()
        except _UNREADABLE:
            name = str(proc.pid)
        try:
            cmdline = tuple(proc.cmdline()) or (name,)
        except _UNREADABLE:
            cmdline = (name,)
        uid: int | None = None
        if hasattr(proc, "uids"):
            try:
                uid = proc.uids().effective
            except _UNREADABLE:
                uid = None
        return _Cached(name, cmdline, uid)

    def cwd(self, pid: int, start_time: float) -> str | None:
        """Return the working directory of `(pid, start_time)`, read once and cached.

        Args:
            pid: The process.
            start_time: Its start time, as this sampler reported it.

        Returns:
            The directory, or None when it cannot be read or `pid` is now another process.
        """
        cached = self._cache.get((pid, start_time))
        if cached is not None and cached.cwd_read:
            return cached.cwd
        try:
            proc = psutil.Process(pid)
            same = proc.create_time() + self._start_correction == start_time
            directory: str | None = proc.cwd() if same else None
        except _UNREADABLE:
            directory = None
        if cached is not None:
            cached.cwd = directory
            cached.cwd_read = True
        return directory

    def read_open_fds(self, pid: int) -> int | None:
        """Count one process's open file descriptors now; None when gone or not permitted."""
        try:
            return _count_fds(psutil.Process(pid))
        except _UNREADABLE:
            return None

    def _read_system(self) -> SystemStats:
        """Memory, load averages and CPU% since the previous tick (since boot on the first)."""
        memory = psutil.virtual_memory()
        try:
            load_1, load_5, load_15 = psutil.getloadavg()
        except OSError:
            load_1 = load_5 = load_15 = 0.0
        per_core_times = [
            (_total_of(t) - _idle_of(t), _total_of(t)) for t in psutil.cpu_times(percpu=True)
        ]
        previous = self._last_cpu_times
        if len(previous) != len(per_core_times):
            previous = [(0.0, 0.0)] * len(per_core_times)
        per_core = tuple(
            busy_percent(busy - last_busy, total - last_total)
            for (busy, total), (last_busy, last_total) in zip(per_core_times, previous, strict=True)
        )
        all_busy = sum(b for b, _ in per_core_times) - sum(b for b, _ in previous)
        all_total = sum(t for _, t in per_core_times) - sum(t for _, t in previous)
        self._last_cpu_times = per_core_times
        return SystemStats(
            memory_total_mb=memory.total / MIB,
            memory_available_mb=memory.available / MIB,
            memory_used_mb=memory.used / MIB,
            load_avg_1=load_1,
            load_avg_5=load_5,
            load_avg_15=load_15,
            cpu_percent=busy_percent(all_busy, all_total),
            per_core_cpu_percent=per_core,
            cpu_count=len(per_core) or (os.cpu_count() or 1),
            boot_time=self._boot_time,
            clock_ticks=os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100,
        )


def _total_of(times: tuple[float, ...]) -> float:
    """All time of one `cpu_times` row; guest time is already inside user time on Linux."""
    guest = float(getattr(times, "guest", 0.0)) + float(getattr(times, "guest_nice", 0.0))
    return sum(times) - guest


def _idle_of(times: tuple[float, ...]) -> float:
    """Idle plus I/O-wait time of one `cpu_times` row (fields differ per platform)."""
    return float(getattr(times, "idle", 0.0)) + float(getattr(times, "iowait", 0.0))


def _count_fds(proc: psutil.Process) -> int | None:
    """Open fds on POSIX, handles on Windows; None when not permitted or gone."""
    try:
        if hasattr(proc, "num_fds"):
            return proc.num_fds()
        num_handles = getattr(proc, "num_handles", None)
        return int(num_handles()) if num_handles is not None else None
    except _UNREADABLE:
        return None


def _zombie(proc: psutil.Process, wall: float) -> RawProcess:
    """A zombie some platforms refuse to describe: what little can be read about it."""
    try:
        ppid = proc.ppid()
    except _UNREADABLE:
        ppid = 0
    try:
        start_time = proc.create_time()
    except _UNREADABLE:
        start_time = wall
    name = str(proc.pid)
    return RawProcess(
        pid=proc.pid,
        ppid=ppid,
        start_time=start_time,
        state=ZOMBIE_STATE,
        cpu_percent=0.0,
        cpu_seconds=0.0,
        rss_mb=0.0,
        vms_mb=0.0,
        threads=0,
        open_fds=None,
        age_seconds=max(wall - start_time, 0.0),
        uid=None,
        name=name,
        cmdline=(name,),
    )
