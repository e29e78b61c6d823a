"""Error rates measured by simulation: nothing on noise, the memory effect when it is there.

The conductor's heuristic stores at least one pattern on pure noise in 100 % of runs with 20
sheet runs, 91 % with 50 and 46 % with 200. Benjamini–Hochberg over every test keeps the chance
of any finding under the null at or below q (0.05); `pytest -s` prints the measured rates.
"""

from __future__ import annotations

import numpy as np
import pytest

from mzt_tui.analysis.correlation import analyze, backpressure_memory_estimate, pattern_spec
from tests.correlation.synthetic import constant_failure, memory_failure, synthetic_runs

TRIALS = 200
NULL_FAILURE_PROBABILITY = 0.3
HIGH_MEMORY_BINS = {"1-2GB", ">2GB"}


@pytest.mark.parametrize(
    ("run_count", "conductor_rate"),
    [(20, 1.00), (50, 0.91), (200, 0.46)],
)
def test_noise_yields_a_finding_in_at_most_5_percent_of_trials(
    run_count: int, conductor_rate: float
) -> None:
    # GIVEN outcomes drawn independently of every figure, 200 data sets with fixed seeds
    trials_with_finding = 0
    tests_per_trial: list[int] = []
    for trial in range(TRIALS):
        rng = np.random.default_rng([20_240, run_count, trial])
        runs = synthetic_runs(rng, run_count, constant_failure(NULL_FAILURE_PROBABILITY))
        # WHEN each is analysed with the defaults (q < 0.05, at least 5 runs a side)
        result = analyze(runs)
        trials_with_finding += bool(result.findings)
        tests_per_trial.append(result.tests_run)

    # THEN at most 5 % of them report anything
    rate = trials_with_finding / TRIALS
    print(
        f"\nnull, {run_count} runs: any finding in {rate:.1%} of {TRIALS} trials "
        f"(conductor's heuristic: {conductor_rate:.0%}); "
        f"median {int(np.median(tests_per_trial))} tests a trial"
    )
    assert rate <= 0.05
    # The tests did run: a low rate from skipping everything would prove nothing.
    assert sum(tests > 0 for tests in tests_per_trial) >= 0.95 * TRIALS
    assert np.median(tests_per_trial) >= 5


def test_planted_memory_effect_is_found_and_read_by_the_conductor() -> None:
    # GIVEN failure 60 % at or above 1 GB peak RSS and 15 % below, 200 runs, 200 data sets
    found = 0
    flagged = 0
    low_bins_flagged: list[str] = []
    for trial in range(TRIALS):
        rng = np.random.default_rng([31_337, trial])
        runs = synthetic_runs(rng, 200, memory_failure(above_1gb=0.6, below_1gb=0.15))

        # WHEN analysed and turned into patterns
        result = analyze(runs)
        specs = [pattern_spec(finding) for finding in result.findings]
        estimate = backpressure_memory_estimate(specs)

        # THEN the memory finding is there: a high bin, or peak RSS higher in failed runs
        found += any(
            finding.feature == "peak_rss_mb"
            and finding.direction == "higher"
            and (finding.kind == "continuous" or finding.label in HIGH_MEMORY_BINS)
            for finding in result.findings
        )
        flagged += bool(estimate)
        low_bins_flagged += [b.label for b in estimate if b.label not in HIGH_MEMORY_BINS]

    found_rate = found / TRIALS
    flagged_rate = flagged / TRIALS
    print(
        f"\nplanted (60 % vs 15 % around 1 GB, 200 runs): memory finding in {found_rate:.1%}, "
        f"back-pressure bin flagged in {flagged_rate:.1%} of {TRIALS} trials"
    )
    assert found_rate >= 0.9
    assert flagged_rate >= 0.9
    # Bins below 1 GB fail less often than the rest here: never flagged as a risk.
    assert low_bins_flagged == []
