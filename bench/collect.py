"""Benchmark: cost per process of one sampler tick, ours against psutil and a plain reader.

Run: `.venv/bin/python bench/collect.py [--rounds N] [--children N]`.

Three ways to read every process of the machine once, each timed in steady state (after a
first, warming call):

* `ours`: `ProcfsSampler.sample()`, the fast path (one `/proc/PID/stat` read per process,
  cached command lines, CPU% from tick deltas);
* `plain`: a minimal plain-Python reader of the same files our sampler reads each tick
  (`open(...).read()` of every `/proc/PID/stat`, the same fields parsed into a tuple);
* `psutil`: `psutil.process_iter` with the equivalent fields (ppid, status, cpu_percent,
  memory_info, num_threads, create_time, cmdline);
* `floor`: for reference, only the system calls of our loop (listdir, then open, read, close of
  every `stat`), nothing parsed: what no Python reader of these files can beat.

It measures at the machine's own process count (about 70 on a bare box) and again with
`--children` idle `sleep` children added (about 570), interleaving the readers round by round,
and prints the median microseconds per process with ratios. The target: ours at most 1.3x plain.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from collections.abc import Callable

import psutil

from mzt_tui.collect.procfs import ProcfsSampler

TARGET_RATIO = 1.3
PSUTIL_FIELDS = [
    "pid",
    "ppid",
    "status",
    "cpu_percent",
    "memory_info",
    "num_threads",
    "create_time",
    "cmdline",
]

StatFields = tuple[int, int, bytes, int, int, int, int, int]


def plain_read_all() -> list[StatFields]:
    """The plain reader: every `/proc/PID/stat`, with the fields our sampler uses."""
    rows: list[StatFields] = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat_file:
                data = stat_file.read()
        except OSError:
            continue
        fields = data[data.rfind(b")") + 2 :].split()
        rows.append(
            (
                int(name),
                int(fields[1]),
                fields[0],
                int(fields[11]) + int(fields[12]),
                int(fields[17]),
                int(fields[19]),
                int(fields[20]),
                int(fields[21]),
            )
        )
    return rows


def floor_read_all() -> int:
    """Only the system calls: every `/proc/PID/stat` opened, read and closed."""
    count = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fd = os.open("/proc/" + name + "/stat", os.O_RDONLY)
            try:
                os.read(fd, 4096)
            finally:
                os.close(fd)
        except OSError:
            continue
        count += 1
    return count


def psutil_read_all() -> list[psutil.Process]:
    """psutil's way: `process_iter` with the equivalent fields."""
    return list(psutil.process_iter(PSUTIL_FIELDS))


def measure(readers: dict[str, Callable[[], int]], rounds: int) -> tuple[dict[str, float], int]:
    """Median µs per process of each reader, interleaved round by round.

    Returns:
        The medians by reader name, and the median process count seen.
    """
    per_process: dict[str, list[float]] = {name: [] for name in readers}
    counts: list[int] = []
    for read in readers.values():  # warm-up: first sight fills every cache
        read()
    for _ in range(rounds):
        for name, read in readers.items():
            started = time.perf_counter()
            count = read()
            elapsed = time.perf_counter() - started
            per_process[name].append(elapsed / max(count, 1) * 1e6)
            counts.append(count)
    return (
        {name: statistics.median(values) for name, values in per_process.items()},
        int(statistics.median(counts)),
    )


def make_readers() -> dict[str, Callable[[], int]]:
    sampler = ProcfsSampler()
    return {
        "ours": lambda: len(sampler.sample().processes),
        "plain": lambda: len(plain_read_all()),
        "psutil": lambda: len(psutil_read_all()),
        "floor": floor_read_all,
    }


def spawn_idle_children(count: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen(["sleep", "600"]) for _ in range(count)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25, help="timed rounds per size")
    parser.add_argument("--children", type=int, default=500, help="idle children to add")
    args = parser.parse_args()
    if not os.path.isfile("/proc/stat"):
        print("needs Linux /proc")
        return 2

    results: list[tuple[int, dict[str, float]]] = []
    medians, count = measure(make_readers(), args.rounds)
    results.append((count, medians))
    children = spawn_idle_children(args.children)
    try:
        time.sleep(0.5)
        medians, count = measure(make_readers(), args.rounds)
        results.append((count, medians))
    finally:
        for child in children:
            child.kill()
        for child in children:
            child.wait()

    print(f"median µs per process over {args.rounds} rounds (steady state, after the first tick)")
    print(
        f"{'procs':>6} {'ours':>8} {'plain':>8} {'psutil':>8} {'floor':>8}"
        f" {'ours/plain':>11} {'psutil/ours':>12} {'ours/floor':>11}"
    )
    ok = True
    for count, medians in results:
        ratio = medians["ours"] / medians["plain"]
        ok = ok and ratio <= TARGET_RATIO
        print(
            f"{count:>6} {medians['ours']:>8.2f} {medians['plain']:>8.2f}"
            f" {medians['psutil']:>8.2f} {medians['floor']:>8.2f} {ratio:>10.2f}x"
            f" {medians['psutil'] / medians['ours']:>11.2f}x"
            f" {medians['ours'] / medians['floor']:>10.2f}x"
        )
    print(f"target ours/plain <= {TARGET_RATIO}x: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
