"""System-wide figures from procfs: memory, load averages, total and per-core CPU%.

Three small files per tick (`meminfo`, `loadavg`, `stat`), each read with bare system calls.
CPU% is the busy share of each `cpu*` line of `/proc/stat` since the previous tick (since boot
on the first), 0–100 per core and for all cores together. Missing or unreadable files give
zeros: a sampler never fails for them.
"""

from __future__ import annotations

import os

from mzt_tui.collect.sampling import SystemStats, busy_percent


def read_file(path: str, chunk: int = 65536) -> bytes:
    """Read a whole (small) file with bare system calls; raises OSError."""
    fd = os.open(path, os.O_RDONLY)
    try:
        parts = []
        while True:
            data = os.read(fd, chunk)
            if not data:
                break
            parts.append(data)
        return b"".join(parts)
    finally:
        os.close(fd)


def read_btime(proc_root: str) -> float:
    """Boot time in whole seconds from the `btime` line of `/proc/stat` (0 if missing)."""
    try:
        content = read_file(os.path.join(proc_root, "stat"))
    except OSError:
        return 0.0
    for line in content.splitlines():
        if line.startswith(b"btime"):
            return float(line.split()[1])
    return 0.0


def parse_meminfo(content: bytes) -> dict[bytes, float]:
    """`/proc/meminfo` as label (with its colon) -> MiB (the file gives kB)."""
    memory: dict[bytes, float] = {}
    for line in content.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            memory[parts[0]] = int(parts[1]) / 1024.0
    return memory


class ProcfsSystemReader:
    """Reads `SystemStats`, keeping the CPU counters of the previous tick.

    Args:
        proc_root: Where procfs is mounted.
    """

    def __init__(self, proc_root: str) -> None:
        self._root = proc_root
        self._last_cpu_lines: dict[bytes, tuple[int, int]] = {}

    def read(self, boot_time: float, clock_ticks: int) -> SystemStats:
        """Memory, load averages and CPU% since the previous call (since boot on the first).

        Args:
            boot_time: Passed through into the result.
            clock_ticks: Passed through into the result.

        Returns:
            This tick's system figures.
        """
        memory = parse_meminfo(self._read_or_empty("meminfo"))
        total = memory.get(b"MemTotal:", 0.0)
        available = memory.get(b"MemAvailable:")
        if available is None:  # kernels before 3.14
            available = sum(memory.get(k, 0.0) for k in (b"MemFree:", b"Buffers:", b"Cached:"))
        loads = self._read_or_empty("loadavg").split()[:3]
        load_1, load_5, load_15 = (float(v) for v in loads) if len(loads) == 3 else (0.0,) * 3
        total_pct, per_core = self._cpu_percentages(self._read_or_empty("stat"))
        return SystemStats(
            memory_total_mb=total,
            memory_available_mb=available,
            memory_used_mb=max(total - available, 0.0),
            load_avg_1=load_1,
            load_avg_5=load_5,
            load_avg_15=load_15,
            cpu_percent=total_pct,
            per_core_cpu_percent=per_core,
            cpu_count=len(per_core) or (os.cpu_count() or 1),
            boot_time=boot_time,
            clock_ticks=clock_ticks,
        )

    def _read_or_empty(self, name: str) -> bytes:
        try:
            return read_file(os.path.join(self._root, name))
        except OSError:
            return b""

    def _cpu_percentages(self, stat: bytes) -> tuple[float, tuple[float, ...]]:
        """Busy share of each `cpu*` line of /proc/stat since the last call."""
        total_pct = 0.0
        per_core: list[float] = []
        current: dict[bytes, tuple[int, int]] = {}
        for line in stat.splitlines():
            if not line.startswith(b"cpu"):
                continue
            label, *values = line.split()
            try:
                counters = [int(v) for v in values[:8]]  # user nice system idle iowait irq ...
            except ValueError:
                continue
            total = sum(counters)
            idle = sum(counters[3:5])
            current[label] = (total, idle)
            last_total, last_idle = self._last_cpu_lines.get(label, (0, 0))
            elapsed = total - last_total
            pct = busy_percent(elapsed - (idle - last_idle), elapsed)
            if label == b"cpu":
                total_pct = pct
            else:
                per_core.append(pct)
        self._last_cpu_lines = current
        return total_pct, tuple(per_core)
