"""The procfs sampler over a fake /proc tree: fields, CPU%, caches, vanishing and denied reads."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from mzt_tui.collect.procfs import ProcfsSampler
from mzt_tui.collect.psutil_sampler import PsutilSampler
from mzt_tui.collect.sampling import MIB, make_sampler
from tests.collect.fakeproc import (
    FAKE_BTIME,
    FAKE_CLOCK_TICKS,
    FAKE_PAGE_SIZE,
    FakeProc,
)

T = TypeVar("T")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake(tmp_path: Path) -> FakeProc:
    return FakeProc(tmp_path / "proc")


def make(fake: FakeProc, mono: FakeClock, wall: FakeClock) -> ProcfsSampler:
    return ProcfsSampler(
        str(fake.root),
        clock_ticks=FAKE_CLOCK_TICKS,
        page_size=FAKE_PAGE_SIZE,
        monotonic=mono,
        wall_clock=wall,
    )


def test_fields_are_read_and_converted(fake: FakeProc) -> None:
    fake.add(
        10,
        "agent worker",
        "S",
        1,
        cmdline=["claude", "--print", "hello world"],
        threads=7,
        start_ticks=500,
        vsize=512 * MIB,
        rss_pages=2560,
    )
    wall = FakeClock(FAKE_BTIME + 105.0)
    sampler = make(fake, FakeClock(0.0), wall)

    tick = sampler.sample()

    (proc,) = tick.processes
    assert proc.pid == 10 and proc.ppid == 1 and proc.state == "S"
    assert proc.name == "agent worker"
    assert proc.cmdline == ("claude", "--print", "hello world")
    assert proc.start_time == FAKE_BTIME + 5.0  # btime + 500 ticks / 100
    assert proc.age_seconds == pytest.approx(100.0)
    assert proc.rss_mb == pytest.approx(10.0)  # 2560 pages of 4 KiB
    assert proc.vms_mb == pytest.approx(512.0)
    assert proc.threads == 7
    assert proc.open_fds is None  # not a detail process
    assert proc.uid == os.stat(fake.root / "10").st_uid
    assert tick.timestamp == wall.now and tick.interval_seconds == 0.0


def test_cpu_percent_is_the_delta_over_wall_time(fake: FakeProc) -> None:
    # GIVEN a process that used 10 s of CPU in its first 100 s of life
    fake.add(10, utime=600, stime=400, start_ticks=0)
    mono, wall = FakeClock(50.0), FakeClock(FAKE_BTIME + 100.0)
    sampler = make(fake, mono, wall)
    first = sampler.sample().processes[0]
    # WHEN it uses 0.5 s of CPU over the next 2 s, then 3 s (2 cores) over 2 s
    fake.set_stat(10, utime=630, stime=420, start_ticks=0)
    mono.now += 2.0
    wall.now += 2.0
    second = sampler.sample().processes[0]
    fake.set_stat(10, utime=780, stime=570, start_ticks=0)
    mono.now += 2.0
    third = sampler.sample().processes[0]
    # THEN first sight is the lifetime average, later ticks the interval's usage
    assert first.cpu_percent == pytest.approx(10.0)
    assert second.cpu_percent == pytest.approx(25.0)
    assert third.cpu_percent == pytest.approx(150.0)
    assert third.cpu_seconds == pytest.approx(13.5)


def test_reused_pid_is_a_new_process(fake: FakeProc) -> None:
    fake.add(10, "old", cmdline=["old", "--x"], utime=5000, start_ticks=100)
    mono, wall = FakeClock(0.0), FakeClock(FAKE_BTIME + 1000.0)
    sampler = make(fake, mono, wall)
    sampler.sample()
    # The PID is reused by a process started later, with less CPU time than the old one.
    fake.remove(10)
    fake.add(10, "new", cmdline=["new"], utime=100, start_ticks=100_000)
    mono.now += 1.0
    wall.now += 1.0
    proc = sampler.sample().processes[0]
    assert proc.cmdline == ("new",)
    assert proc.start_time == FAKE_BTIME + 1000.0
    assert proc.cpu_percent == pytest.approx(100.0)  # 1 s of CPU over its 1 s of life


def test_command_line_is_read_again_after_exec(fake: FakeProc) -> None:
    fake.add(10, "python3", cmdline=["python3", "conductor.py"], utime=10, start_ticks=100)
    mono = FakeClock(0.0)
    sampler = make(fake, mono, FakeClock(FAKE_BTIME + 100.0))
    assert sampler.sample().processes[0].cmdline == ("python3", "conductor.py")
    # Same process (same start), now running another program: comm and cmdline change.
    (fake.root / "10" / "cmdline").write_bytes(b"claude\0-p\0")
    fake.set_stat(10, "claude", utime=60, start_ticks=100)
    mono.now += 1.0
    proc = sampler.sample().processes[0]
    assert proc.cmdline == ("claude", "-p") and proc.name == "claude"
    assert proc.cpu_percent == pytest.approx(50.0)  # still a delta: exec keeps the CPU time
    # Unchanged comm: the cached command line is kept even if the file changes.
    (fake.root / "10" / "cmdline").write_bytes(b"rewritten\0")
    mono.now += 1.0
    assert sampler.sample().processes[0].cmdline == ("claude", "-p")


def test_zombies_kernel_threads_and_states(fake: FakeProc) -> None:
    fake.add(20, "defunct", "Z", 1, cmdline=[], rss_pages=0)
    fake.add(21, "traced", "t", 1)
    fake.add(22, "kworker/0:1", "I", 2, cmdline=[])
    fake.add(23, "dead", "x", 1)
    sampler = make(fake, FakeClock(0.0), FakeClock(FAKE_BTIME + 100.0))

    tick = sampler.sample()

    states = {p.pid: p.state for p in tick.processes}
    assert states == {20: "Z", 21: "T", 22: "I", 23: "X"}
    assert tick.zombie_pids == (20,)
    assert tick.by_pid()[20].cmdline == ("defunct",)  # no arguments: the short name
    assert tick.by_pid()[22].cmdline == ("kworker/0:1",)


def test_vanished_and_malformed_entries_are_skipped(fake: FakeProc) -> None:
    fake.add(30)
    fake.add(31)
    (fake.root / "31" / "stat").unlink()  # listed, then gone before its stat was read
    (fake.root / "32").mkdir()
    (fake.root / "32" / "stat").mkdir()  # reading fails with an OSError
    fake.add(33)
    (fake.root / "33" / "stat").write_text("33 (broken")
    fake.add(35)
    (fake.root / "35" / "stat").write_text("35 (garbage) S " + "x " * 40)
    fake.add(34)
    (fake.root / "34" / "cmdline").unlink()  # exited between stat and cmdline
    (fake.root / "self").mkdir()  # non-numeric entries are ignored
    sampler = make(fake, FakeClock(0.0), FakeClock(FAKE_BTIME + 100.0))

    tick = sampler.sample(detail_pids={30, 34, 999})

    assert sorted(p.pid for p in tick.processes) == [30, 34]
    assert tick.by_pid()[34].cmdline == ("proc",)
    assert sampler.cwd(30, tick.by_pid()[30].start_time) is None  # no cwd link
    assert sampler.read_open_fds(999) is None


def test_missing_system_files_give_zeros(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    sampler = ProcfsSampler(str(tmp_path / "proc"), boot_time=FAKE_BTIME)
    tick = sampler.sample()
    assert tick.processes == ()
    assert tick.system.memory_total_mb == 0.0 and tick.system.load_avg_1 == 0.0
    assert sampler.boot_time == FAKE_BTIME


def test_system_stats(fake: FakeProc) -> None:
    mono = FakeClock(0.0)
    sampler = make(fake, mono, FakeClock(FAKE_BTIME + 100.0))
    first = sampler.sample().system
    # core 0 busy 3/4 of the next 100 ticks, core 1 idle
    fake.set_system_cpu([(160, 0, 65, 875, 0), (100, 0, 50, 940, 10)])
    mono.now += 1.0
    system = sampler.sample().system
    assert first.cpu_percent == pytest.approx(15.0)  # since boot: 150 busy of 1000
    assert system.per_core_cpu_percent == pytest.approx((75.0, 0.0))
    assert system.cpu_percent == pytest.approx(37.5)
    assert system.cpu_count == 2
    assert system.memory_total_mb == pytest.approx(16 * 1024)
    assert system.memory_available_mb == pytest.approx(12 * 1024)
    assert system.memory_used_mb == pytest.approx(4 * 1024)
    assert (system.load_avg_1, system.load_avg_5, system.load_avg_15) == (0.5, 0.25, 0.1)
    assert system.boot_time == FAKE_BTIME and system.clock_ticks == FAKE_CLOCK_TICKS


def test_open_fds_only_for_detail_processes(fake: FakeProc) -> None:
    fake.add(40, ppid=1, open_fds=5)
    fake.add(41, ppid=40, open_fds=3)
    fake.add(42, ppid=41, open_fds=2)
    fake.add(43, ppid=1, open_fds=4)
    fake.add(44, ppid=1, open_fds=6)
    sampler = make(fake, FakeClock(0.0), FakeClock(FAKE_BTIME + 100.0))

    fds = {p.pid: p.open_fds for p in sampler.sample(detail_pids={44}, detail_roots={40}).processes}

    assert fds == {40: 5, 41: 3, 42: 2, 43: None, 44: 6}


def test_cwd_is_read_lazily_once_and_checked_against_start_time(
    fake: FakeProc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    fake.add(50, cwd=workspace)
    sampler = make(fake, FakeClock(0.0), FakeClock(FAKE_BTIME + 100.0))
    calls: list[str] = []
    real_readlink = os.readlink

    def counting_readlink(path: str) -> str:
        calls.append(path)
        return real_readlink(path)

    monkeypatch.setattr(os, "readlink", counting_readlink)
    proc = sampler.sample().processes[0]
    assert calls == []  # sampling alone never reads cwd
    assert sampler.cwd(50, proc.start_time) == str(workspace)
    assert sampler.cwd(50, proc.start_time) == str(workspace)
    assert len(calls) == 1
    assert sampler.cwd(50, proc.start_time + 1.0) is None  # another process with that PID
    # A process the last tick did not see is checked against its stat before answering.
    fake.add(51, cwd=workspace, start_ticks=100)
    assert sampler.cwd(51, FAKE_BTIME + 1.0) == str(workspace)
    assert sampler.cwd(51, FAKE_BTIME + 2.0) is None


def _denying(real: Callable[..., T], directory: str) -> Callable[..., T]:
    """Wrap an `os` function to refuse everything in `directory` except its `stat` file."""

    def wrapper(path: object, *args: object, **kwargs: object) -> T:
        text = str(path)
        if (text == directory or text.startswith(directory + "/")) and not text.endswith("/stat"):
            raise PermissionError(13, "Permission denied", text)
        return real(path, *args, **kwargs)

    return wrapper


def test_permission_denied_reads_return_what_is_readable(
    fake: FakeProc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN another user's process whose cwd, fd folder, cmdline and owner are denied
    fake.add(60, "secretive", cwd=tmp_path, open_fds=2)
    directory = f"{fake.root}/60"
    for name in ("readlink", "listdir", "open", "stat"):
        monkeypatch.setattr(os, name, _denying(getattr(os, name), directory))
    sampler = make(fake, FakeClock(0.0), FakeClock(FAKE_BTIME + 100.0))

    # WHEN it is sampled as a detail process
    tick = sampler.sample(detail_pids={60})

    # THEN it is listed with what could be read
    (proc,) = tick.processes
    assert proc.cmdline == ("secretive",) and proc.uid is None and proc.open_fds is None
    assert proc.rss_mb > 0
    assert sampler.cwd(60, proc.start_time) is None


def test_make_sampler_picks_procfs_where_it_exists(tmp_path: Path) -> None:
    assert isinstance(make_sampler(), ProcfsSampler)
    assert isinstance(make_sampler(str(tmp_path)), PsutilSampler)
