"""The samplers' common output and interface.

A sampler lists every process the user can see, once per tick, and returns a `SamplerTick`:

* `processes`: one `RawProcess` per process, an immutable `NamedTuple` (cheap to build in the
  hot loop, no pydantic validation there). `key` = `(pid, start_time)` identifies a process for
  good; `start_time` is unix seconds, computed the same way on every tick so it can be a dict key.
* `system`: a `SystemStats` (memory, load, total and per-core CPU%, boot time, clock ticks).
* `monitor`: the monitor's own cost as a `MonitorCost` model (CPU% and RSS of this process).

Units: memory in MiB (1024 * 1024 bytes, like the conductor's `rss_mb`), CPU% where 100 % is one
core fully busy (like `top`, so a process may exceed 100), times in seconds.

Every sampler (`ProcfsSampler` on Linux, `PsutilSampler` elsewhere; `make_sampler` picks one)
offers the same three methods, described by the `ProcessSampler` protocol:

* `sample(detail_pids=(), detail_roots=())` reads one tick. Costly fields (`open_fds`) are read
  only for `detail_pids` and for `detail_roots` with all their descendants (give it the conductor
  PID and the PIDs of orphaned job processes); other processes get `open_fds=None`.
* `cwd(pid, start_time)` returns a process's working directory (cached per process, read lazily:
  attribution asks for it only for the processes it needs), or None when unreadable or gone.
* `read_open_fds(pid)` counts one process's open file descriptors now, or None.

No method raises for a process that vanishes or belongs to another user: it is skipped, or
returned with what could be read.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from mzt_tui.collect.redact import redact_command
from mzt_tui.models import MonitorCost, ProcessMetric
from mzt_tui.models.construct import trusted_model

MIB = 1024 * 1024
"""Bytes in one MiB: every `*_mb` figure is in MiB."""

ZOMBIE_STATE = "Z"


def _valid(value: float) -> float:
    """`value` when it is a finite non-negative number, else 0.0 (NaN included)."""
    return value if 0.0 <= value < math.inf else 0.0


def normalize_state(kernel_state: str) -> str:
    """Map a kernel or psutil state letter to the one upper-case letter we store.

    `t` (tracing stop) becomes `T`, `x` becomes `X`, other letters are upper-cased; anything that
    is not a letter becomes `S`, so the value always fits the conductor's `state` column.
    """
    letter = kernel_state[:1].upper()
    return letter if "A" <= letter <= "Z" else "S"


class RawProcess(NamedTuple):
    """One process at one tick, as a sampler read it (not yet attributed nor redacted).

    Immutable like a frozen dataclass, but a `NamedTuple`: it is built once per process per
    tick in the hot loop, and a tuple builds five times faster (0.4 µs against 2 µs for a
    frozen slotted dataclass of these 14 fields). Use `_replace` to derive a changed copy.
    """

    pid: int
    ppid: int
    start_time: float
    """Process start as unix seconds; with `pid` it identifies the process for good."""
    state: str
    """One upper-case letter: R S D Z T I X ..."""
    cpu_percent: float
    """CPU% over the last tick interval (100 = one core); on first sight, the lifetime average."""
    cpu_seconds: float
    """User plus system CPU time used so far."""
    rss_mb: float
    vms_mb: float
    threads: int
    open_fds: int | None
    """Open file descriptors; None when not read (not a detail process) or not permitted."""
    age_seconds: float
    uid: int | None
    name: str
    """The kernel's short name (`comm`), at most 15 characters on Linux."""
    cmdline: tuple[str, ...]
    """The arguments; `(name,)` when the kernel gives none (kernel threads, zombies)."""

    @property
    def key(self) -> tuple[int, float]:
        """`(pid, start_time)`: stays the same for this process, differs for a reused PID."""
        return (self.pid, self.start_time)

    @property
    def command(self) -> str:
        """The command line joined by spaces, unredacted (use `to_metric` for storage)."""
        return " ".join(self.cmdline)

    def to_metric(
        self,
        job_id: str | None = None,
        sheet_num: int | None = None,
        *,
        guessed: bool = False,
    ) -> ProcessMetric:
        """Build the stored model: command redacted and truncated, unread fds as 0.

        Args:
            job_id: The job this process belongs to, if any.
            sheet_num: Its sheet, if known.
            guessed: Whether the job was matched by working directory alone.

        Returns:
            A `ProcessMetric` ready for the store and the UI.
        """
        # Built without validation (it runs for every process every tick): each value is
        # made valid here, as the samplers' own invariants and these guards ensure.
        return trusted_model(
            ProcessMetric,
            pid=max(self.pid, 0),
            ppid=max(self.ppid, 0),
            command=redact_command(self.command),
            state=self.state if len(self.state) == 1 and "A" <= self.state <= "Z" else "S",
            cpu_percent=_valid(self.cpu_percent),
            rss_mb=_valid(self.rss_mb),
            vms_mb=_valid(self.vms_mb),
            threads=max(self.threads, 0),
            open_fds=max(self.open_fds or 0, 0),
            age_seconds=_valid(self.age_seconds),
            job_id=job_id,
            sheet_num=sheet_num,
            syscall_counts={},
            syscall_time_pct={},
            start_time=_valid(self.start_time),
            gpu_memory_mb=0.0,
            attribution_guessed=guessed,
        )


@dataclass(frozen=True, slots=True)
class SystemStats:
    """System-wide figures of one tick."""

    memory_total_mb: float
    memory_available_mb: float
    memory_used_mb: float
    """Total minus available, as psutil (and so the conductor) computes it on Linux."""
    load_avg_1: float
    load_avg_5: float
    load_avg_15: float
    cpu_percent: float
    """All cores together, 0–100 (since the previous tick; since boot on the first)."""
    per_core_cpu_percent: tuple[float, ...]
    cpu_count: int
    boot_time: float
    """Unix seconds."""
    clock_ticks: int
    """Kernel clock ticks per second (`SC_CLK_TCK`)."""


@dataclass(frozen=True, slots=True)
class SamplerTick:
    """Everything one sampler tick read."""

    timestamp: float
    """Unix seconds when the tick started."""
    interval_seconds: float
    """Seconds since the previous tick (0 on the first): the window CPU% is measured over."""
    processes: tuple[RawProcess, ...]
    system: SystemStats
    monitor: MonitorCost = field(default_factory=MonitorCost)

    @property
    def zombie_pids(self) -> tuple[int, ...]:
        """PIDs in state Z, in listing order."""
        return tuple(p.pid for p in self.processes if p.state == ZOMBIE_STATE)

    def by_pid(self) -> dict[int, RawProcess]:
        """Index the processes by PID."""
        return {p.pid: p for p in self.processes}


class ProcessSampler(Protocol):
    """What the tick loop needs from a sampler (see the module docstring)."""

    @property
    def name(self) -> str:
        """A short name for logs and the UI: `procfs` or `psutil`."""
        ...

    def sample(
        self, detail_pids: Collection[int] = (), detail_roots: Collection[int] = ()
    ) -> SamplerTick:
        """Read one tick."""
        ...

    def cwd(self, pid: int, start_time: float) -> str | None:
        """Return the process's working directory, or None."""
        ...

    def read_open_fds(self, pid: int) -> int | None:
        """Count the process's open file descriptors now, or None."""
        ...


def busy_percent(busy: float, elapsed: float) -> float:
    """`busy` as a share of `elapsed`, in percent clamped to 0–100 (0 when nothing elapsed)."""
    return min(max(busy / elapsed * 100.0, 0.0), 100.0) if elapsed > 0 else 0.0


class TickClock:
    """Per-tick bookkeeping shared by the samplers: the interval and the monitor's own CPU%.

    Args:
        monotonic: The clock intervals are measured with.
        wall_clock: The clock for timestamps.
    """

    def __init__(self, monotonic: Callable[[], float], wall_clock: Callable[[], float]) -> None:
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._last_started: float | None = None
        self._started = 0.0
        self._last_self_cpu = 0.0
        self._self_cpu = 0.0

    def begin(self) -> tuple[float, float]:
        """Start a tick.

        Returns:
            `(timestamp, interval)`: unix seconds now, and seconds since the previous tick
            began (0 on the first).
        """
        self._started = self._monotonic()
        self._self_cpu = time.process_time()
        interval = 0.0 if self._last_started is None else self._started - self._last_started
        return self._wall_clock(), interval

    def finish(self, rss_mb: float) -> MonitorCost:
        """End the tick begun last.

        Args:
            rss_mb: The monitor's resident memory now.

        Returns:
            The monitor's CPU% over the interval, its RSS and how long the tick took.
        """
        elapsed = 0.0 if self._last_started is None else self._started - self._last_started
        cost = MonitorCost(
            cpu_percent=max(0.0, (self._self_cpu - self._last_self_cpu) / elapsed * 100.0)
            if elapsed > 0
            else 0.0,
            rss_mb=max(rss_mb, 0.0),
            tick_seconds=max(0.0, self._monotonic() - self._started),
        )
        self._last_started = self._started
        self._last_self_cpu = self._self_cpu
        return cost


def subtree_pids(ppid_of: dict[int, int], roots: Collection[int]) -> set[int]:
    """Return `roots` (those present) and all their descendants.

    Args:
        ppid_of: Parent PID of every process of the tick.
        roots: PIDs whose whole subtree is wanted.

    Returns:
        The PIDs of the subtrees.
    """
    children: dict[int, list[int]] = {}
    for pid, ppid in ppid_of.items():
        if ppid != pid:
            children.setdefault(ppid, []).append(pid)
    found = {pid for pid in roots if pid in ppid_of}
    stack = list(found)
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def precise_boot_time() -> float | None:
    """Unix time of boot to the microsecond (realtime minus boottime clock), where it exists.

    Linux process start times count clock ticks since boot; `btime` in /proc/stat is only whole
    seconds, which would put start times up to a second early.
    """
    if not hasattr(time, "CLOCK_BOOTTIME"):
        return None
    return time.clock_gettime(time.CLOCK_REALTIME) - time.clock_gettime(time.CLOCK_BOOTTIME)


def procfs_available(proc_root: str = "/proc") -> bool:
    """Whether `proc_root` looks like a Linux procfs this sampler can read."""
    return os.path.isfile(os.path.join(proc_root, "stat")) and os.path.isfile(
        os.path.join(proc_root, "meminfo")
    )


def make_sampler(proc_root: str = "/proc") -> ProcessSampler:
    """Return the fastest sampler for this machine: procfs on Linux, psutil elsewhere.

    Args:
        proc_root: Where procfs is mounted.

    Returns:
        A `ProcfsSampler` when `proc_root` is readable, else a `PsutilSampler`.
    """
    if procfs_available(proc_root):
        from mzt_tui.collect.procfs import ProcfsSampler

        return ProcfsSampler(proc_root)
    from mzt_tui.collect.psutil_sampler import PsutilSampler

    return PsutilSampler()
