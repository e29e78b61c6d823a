"""Benchmark: what `mzt top --headless` costs, beside top, htop and glances, in one run.

Run: `.venv/bin/python bench/headless.py [--seconds 30] [--rounds 3] [--children 500]`.

Each tool samples every process once a second while about 570 processes exist (the bench
spawns idle `sleep` children to get there):

* `mzt`: `mzt top --headless --interval 1` recording to a fresh home (no conductor);
* `mzt+system`: the same with `--record-system`, which stores every process each tick;
* `top`: `top -b -d 1` (output to /dev/null);
* `htop`: `htop -d 10` in a pseudo-terminal made by `script`;
* `glances`: `glances --quiet --time 1`, installed into the bench's own venv
  (`bench/out/glances-venv`, created on first use from PyPI).

After a warm-up (start-up is left out), the CPU time of each tool's whole process tree
(user + system, children included) is read from /proc at the start and the end of the
measured window and scaled to CPU seconds per minute; peak RSS is the largest `VmHWM` in the
tree. Tools run one after another, round by round, and the table shows medians over the
rounds with ratios. Targets: mzt at most 1.5x top's CPU and at most 0.5x glances'; mzt's RSS
at most 40 MiB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
GLANCES_VENV = BENCH_DIR / "out" / "glances-venv"
GLANCES_VERSION = "4.5.8"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WARMUP_SECONDS = 5.0


@dataclass(frozen=True)
class Sample:
    """One tool's cost over one measured window."""

    cpu_seconds_per_minute: float
    peak_rss_mib: float


def tree_pids(root: int) -> list[int]:
    """`root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat_file:
                data = stat_file.read()
        except OSError:
            continue
        ppid = int(data[data.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(name))
    found = [root]
    index = 0
    while index < len(found):
        found.extend(children.get(found[index], []))
        index += 1
    return found


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of the tree, including reaped children's."""
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat_file:
                fields = stat_file.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / CLOCK_TICKS


def tree_peak_rss_mib(root: int) -> float:
    """The largest peak RSS (VmHWM) in the tree."""
    peak = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024


def glances_command() -> list[str] | None:
    """Glances from the bench's own venv, installed on first use; None when it cannot be."""
    binary = GLANCES_VENV / "bin" / "glances"
    if not binary.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(GLANCES_VENV)], check=True)
            subprocess.run(
                [str(GLANCES_VENV / "bin" / "pip"), "install", "-q", f"glances=={GLANCES_VERSION}"],
                check=True,
            )
        except (OSError, subprocess.CalledProcessError) as error:
            print(f"glances left out: {error}", file=sys.stderr)
            return None
    return [str(binary), "--quiet", "--time", "1"]


def commands(home: Path) -> dict[str, list[str]]:
    """The tools to compare, each sampling once a second."""
    mzt = str(Path(sys.executable).parent / "mzt")
    tools = {
        "mzt": [mzt, "top", "--headless", "--interval", "1", "--marianne-home", str(home / "a")],
        "mzt+system": [
            mzt,
            "top",
            "--headless",
            "--interval",
            "1",
            "--record-system",
            "--marianne-home",
            str(home / "b"),
        ],
        "top": ["top", "-b", "-d", "1"],
    }
    if shutil.which("htop") and shutil.which("script"):
        tools["htop"] = ["script", "-qfc", "stty cols 200 rows 50; exec htop -d 10", "/dev/null"]
    else:
        print("htop left out: install htop (and util-linux's script)", file=sys.stderr)
    glances = glances_command()
    if glances is not None:
        tools["glances"] = glances
    return tools


def measure(command: list[str], seconds: float) -> Sample:
    """Run `command`, skip the warm-up, then measure CPU and peak RSS over `seconds`."""
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "200", "LINES": "50"}
    child = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        time.sleep(WARMUP_SECONDS)
        if child.poll() is not None:
            raise RuntimeError(f"{command[0]} exited early with {child.returncode}")
        start_cpu = tree_cpu_seconds(child.pid)
        started = time.monotonic()
        time.sleep(seconds)
        cpu = tree_cpu_seconds(child.pid) - start_cpu
        elapsed = time.monotonic() - started
        rss = tree_peak_rss_mib(child.pid)
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    return Sample(cpu * 60.0 / elapsed, rss)


def main() -> int:
    """Run the comparison and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window per tool")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--children", type=int, default=500, help="idle processes to add")
    args = parser.parse_args()
    sleepers = [
        subprocess.Popen(["sleep", "3600"], start_new_session=True) for _ in range(args.children)
    ]
    results: dict[str, list[Sample]] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            tools = commands(Path(folder))
            process_count = sum(1 for name in os.listdir("/proc") if name.isdigit())
            print(f"{process_count} processes, {args.seconds:g} s windows, {args.rounds} rounds")
            for round_number in range(args.rounds):
                for name, command in tools.items():
                    results.setdefault(name, []).append(measure(command, args.seconds))
                print(f"round {round_number + 1} done", file=sys.stderr)
    finally:
        for sleeper in sleepers:
            sleeper.kill()
        for sleeper in sleepers:
            sleeper.wait()
    medians: dict[str, tuple[float, float]] = {
        name: (
            statistics.median(s.cpu_seconds_per_minute for s in samples),
            statistics.median(s.peak_rss_mib for s in samples),
        )
        for name, samples in results.items()
    }
    mzt_cpu, mzt_rss = medians["mzt"]
    print(f"{'tool':<12}{'CPU s/min':>11}{'peak RSS MiB':>14}{'mzt CPU / tool':>16}")
    for name, (cpu, rss) in medians.items():
        shown = f"{mzt_cpu / cpu:.2f}x" if cpu > 0 else "-"
        print(f"{name:<12}{cpu:>11.2f}{rss:>14.1f}{shown:>16}")
    verdicts = [f"RSS {mzt_rss:.1f} MiB <= 40: {'met' if mzt_rss <= 40 else 'MISSED'}"]
    if "top" in medians:
        ratio = mzt_cpu / medians["top"][0]
        verdicts.append(f"CPU vs top {ratio:.2f}x <= 1.5x: {'met' if ratio <= 1.5 else 'MISSED'}")
    if "glances" in medians:
        ratio = mzt_cpu / medians["glances"][0]
        verdicts.append(
            f"CPU vs glances {ratio:.2f}x <= 0.5x: {'met' if ratio <= 0.5 else 'MISSED'}"
        )
    print("targets: " + "; ".join(verdicts))
    return 0 if all("MISSED" not in verdict for verdict in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
