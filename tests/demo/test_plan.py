"""The demo's plans: the planted effect, and plans that are deterministic given a seed."""

from __future__ import annotations

import random

import pytest

from mzt_tui.demo.plan import (
    PLANTED_EFFECT,
    SHEET_KINDS,
    draw_failure,
    failure_probability,
    job_rng,
    plan_job,
)


def test_failure_probability_is_the_planted_step_at_one_gigabyte() -> None:
    assert failure_probability(1024.0) == PLANTED_EFFECT.base_failure_rate == 0.15
    assert failure_probability(1024.5) == PLANTED_EFFECT.high_failure_rate == 0.60
    assert failure_probability(12.0) == 0.15


def test_seeded_draws_fail_about_60_percent_above_1gb_and_15_percent_below() -> None:
    # GIVEN many seeded draws on each side of the threshold
    rng = random.Random(2024)
    draws = 20_000
    # WHEN the planted function decides each outcome
    high_failures = sum(draw_failure(1150.0, rng) for _ in range(draws))
    low_failures = sum(draw_failure(300.0, rng) for _ in range(draws))
    # THEN the failure rates match the planted effect within sampling error (~0.35 % sd)
    assert high_failures / draws == pytest.approx(0.60, abs=0.015)
    assert low_failures / draws == pytest.approx(0.15, abs=0.015)


def test_same_seed_and_serial_give_the_same_job_and_others_differ() -> None:
    first = plan_job(job_rng(7, 1))
    assert plan_job(job_rng(7, 1)) == first
    others = [plan_job(job_rng(7, serial)) for serial in range(2, 12)]
    assert any(other != first for other in others)


def test_planned_attempts_stop_at_the_first_success_within_the_retries() -> None:
    for serial in range(1, 300):
        job = plan_job(job_rng(1, serial))
        for sheet in job.sheets:
            assert 1 <= len(sheet.attempts) <= job.max_retries + 1
            assert all(attempt.fails for attempt in sheet.attempts[:-1])
            if len(sheet.attempts) < job.max_retries + 1:
                assert not sheet.attempts[-1].fails
            for attempt in sheet.attempts:
                assert (attempt.exit_code != 0) == (attempt.failure_mode == "exit")


def test_only_memory_sheets_peak_above_the_threshold_and_never_near_it() -> None:
    peaks_by_kind: dict[str, list[float]] = {kind: [] for kind in SHEET_KINDS}
    for serial in range(1, 400):
        for sheet in plan_job(job_rng(3, serial)).sheets:
            peaks_by_kind[sheet.kind].append(sheet.planned_peak_mb)
    memory_peaks = peaks_by_kind.pop("memory")
    assert all(peak < 100 for peaks in peaks_by_kind.values() for peak in peaks)
    high = [peak for peak in memory_peaks if peak > PLANTED_EFFECT.threshold_mb]
    low = [peak for peak in memory_peaks if peak <= PLANTED_EFFECT.threshold_mb]
    assert high and low
    assert min(high) >= 1060 and max(high) <= 1200
    assert max(low) <= 520


def test_planned_outcomes_follow_the_planted_effect_over_many_jobs() -> None:
    # GIVEN the first attempts of the sheets of 3000 seeded jobs
    outcomes: dict[bool, list[bool]] = {True: [], False: []}
    for serial in range(1, 3000):
        for sheet in plan_job(job_rng(99, serial)).sheets:
            above = sheet.planned_peak_mb > PLANTED_EFFECT.threshold_mb
            outcomes[above].append(sheet.attempts[0].fails)
    # THEN above 1 GB about 60 % fail, below about 15 %
    high_rate = sum(outcomes[True]) / len(outcomes[True])
    low_rate = sum(outcomes[False]) / len(outcomes[False])
    assert len(outcomes[True]) > 1000
    assert high_rate == pytest.approx(0.60, abs=0.04)
    assert low_rate == pytest.approx(0.15, abs=0.02)
