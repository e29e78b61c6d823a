"""The samplers' common output: conversion to the stored model, subtrees, busy shares."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mzt_tui.collect.sampling import (
    RawProcess,
    SamplerTick,
    SystemStats,
    busy_percent,
    subtree_pids,
)
from mzt_tui.models import ProcessMetric

SYSTEM = SystemStats(
    memory_total_mb=1024.0,
    memory_available_mb=512.0,
    memory_used_mb=512.0,
    load_avg_1=0.0,
    load_avg_5=0.0,
    load_avg_15=0.0,
    cpu_percent=0.0,
    per_core_cpu_percent=(0.0,),
    cpu_count=1,
    boot_time=0.0,
    clock_ticks=100,
)


def raw(pid: int, ppid: int = 1, state: str = "S", cmdline: tuple[str, ...] = ("x",)) -> RawProcess:
    return RawProcess(
        pid=pid,
        ppid=ppid,
        start_time=1000.5,
        state=state,
        cpu_percent=150.0,
        cpu_seconds=12.0,
        rss_mb=64.0,
        vms_mb=256.0,
        threads=4,
        open_fds=None,
        age_seconds=30.0,
        uid=1000,
        name="claude",
        cmdline=cmdline,
    )


def test_to_metric_redacts_and_fills_the_stored_columns() -> None:
    proc = raw(42, cmdline=("claude", "--api-key", "sk-" + "x" * 30, "-p", "hi"))
    metric = proc.to_metric("my-score", 3, guessed=True)
    assert metric.command == "claude --api-key *** -p hi"
    assert "x" * 30 not in metric.command
    assert proc.command.endswith("-p hi") and "x" * 30 in proc.command  # raw stays raw
    assert (metric.pid, metric.ppid, metric.state) == (42, 1, "S")
    assert (metric.job_id, metric.sheet_num, metric.attribution_guessed) == ("my-score", 3, True)
    assert metric.open_fds == 0  # not read: stored as 0 (the model has no None for it)
    assert (metric.cpu_percent, metric.rss_mb, metric.threads) == (150.0, 64.0, 4)
    assert metric.start_time == 1000.5 and metric.age_seconds == 30.0


def test_long_command_is_truncated_for_storage() -> None:
    metric = raw(1, cmdline=("python", "-c", "x" * 2000)).to_metric()
    assert len(metric.command) == 500 and metric.job_id is None


def test_key_and_replace() -> None:
    proc = raw(7)
    assert proc.key == (7, 1000.5)
    assert proc._replace(open_fds=9).open_fds == 9 and proc.open_fds is None


def test_tick_zombies_and_index() -> None:
    tick = SamplerTick(0.0, 1.0, (raw(1), raw(2, state="Z"), raw(3, state="Z")), SYSTEM)
    assert tick.zombie_pids == (2, 3)
    assert sorted(tick.by_pid()) == [1, 2, 3]
    assert tick.monitor.cpu_percent == 0.0


def test_subtree_pids() -> None:
    ppid_of = {1: 0, 10: 1, 11: 10, 12: 11, 13: 10, 20: 1, 21: 20, 30: 30}
    assert subtree_pids(ppid_of, {10}) == {10, 11, 12, 13}
    assert subtree_pids(ppid_of, {10, 21, 99}) == {10, 11, 12, 13, 21}
    assert subtree_pids(ppid_of, {30}) == {30}  # a self-parented entry does not loop


@pytest.mark.parametrize(
    ("busy", "elapsed", "expected"),
    [(50, 100, 50.0), (0, 100, 0.0), (150, 100, 100.0), (-5, 100, 0.0), (5, 0, 0.0)],
)
def test_busy_percent(busy: float, elapsed: float, expected: float) -> None:
    assert busy_percent(busy, elapsed) == expected


_ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)


@given(
    pid=st.integers(min_value=-5, max_value=2**22),
    state=st.text(max_size=3),
    cpu=_ANY_FLOAT,
    rss=_ANY_FLOAT,
    age=_ANY_FLOAT,
    start=_ANY_FLOAT,
    threads=st.integers(min_value=-3, max_value=10_000),
    fds=st.one_of(st.none(), st.integers(min_value=-3, max_value=10_000)),
    words=st.lists(st.text(max_size=300), min_size=1, max_size=4),
)
def test_to_metric_builds_a_model_that_validation_accepts_unchanged(
    pid: int,
    state: str,
    cpu: float,
    rss: float,
    age: float,
    start: float,
    threads: int,
    fds: int | None,
    words: list[str],
) -> None:
    """The unvalidated fast build gives exactly what validating the same values gives."""
    proc = raw(pid, state=state, cmdline=tuple(words))._replace(
        cpu_percent=cpu,
        rss_mb=rss,
        vms_mb=rss,
        age_seconds=age,
        start_time=start,
        threads=threads,
        open_fds=fds,
    )
    metric = proc.to_metric("job", 2)
    assert ProcessMetric.model_validate(metric.model_dump()) == metric
    assert metric.model_fields_set == set(ProcessMetric.model_fields)
