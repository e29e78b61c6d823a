"""What the demo conductor runs: job plans, sheet kinds and the one planted effect.

Everything here is pure and seeded: a job's whole plan (its sheets, their workloads, every
attempt's outcome) is drawn from the job's own `random.Random` when the job is submitted, so a
seed gives the same jobs whatever the timing of the run.

The planted effect: a sheet attempt whose process tree peaks above 1 GB of RSS fails 60 % of the
time; every other attempt fails 15 % of the time. Only `memory` sheets plan such peaks, with
targets either well above the threshold (1060-1180 MB) or well below it (100-500 MB), so the
planned and the measured side of the threshold agree. How an attempt fails (exit code, or a hang
the conductor kills on timeout) is drawn from the same distribution for every sheet, so the
failure rate is the only thing the peak changes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final, Literal

SheetKind = Literal["agent", "cpu", "memory", "files", "zombie", "kill-child", "quick"]
FailureMode = Literal["none", "exit", "timeout", "timeout-stubborn"]
"""How an attempt ends: success, a non-zero exit, or a hang the conductor kills on timeout
(`timeout`: SIGTERM is enough; `timeout-stubborn`: the process ignores SIGTERM, so SIGKILL)."""

SHEET_KINDS: Final[tuple[SheetKind, ...]] = (
    "agent",
    "cpu",
    "memory",
    "files",
    "zombie",
    "kill-child",
    "quick",
)


@dataclass(frozen=True)
class PlantedEffect:
    """The one relation between a resource feature and sheet failure put into the demo on purpose.

    Attributes:
        threshold_mb: Peak process-tree RSS above which attempts fail more often.
        high_failure_rate: Failure probability of attempts peaking above the threshold.
        base_failure_rate: Failure probability of every other attempt.
        description: The effect in plain words, for documentation and the UI.
    """

    threshold_mb: float
    high_failure_rate: float
    base_failure_rate: float
    description: str


PLANTED_EFFECT: Final = PlantedEffect(
    threshold_mb=1024.0,
    high_failure_rate=0.60,
    base_failure_rate=0.15,
    description=(
        "Sheet attempts whose process tree peaks above 1 GB (1024 MB) of RSS fail 60 % of the "
        "time; all other attempts fail 15 % of the time. Only `memory` sheets peak above 1 GB."
    ),
)

# Planned peak RSS of a process tree per kind, beyond a memory sheet's own allocation:
# each Python process of a tree holds about 10 MB.
TREE_BASE_PEAK_MB: Final[dict[SheetKind, float]] = {
    "agent": 30.0,
    "cpu": 10.0,
    "memory": 10.0,
    "files": 11.0,
    "zombie": 10.0,
    "kill-child": 20.0,
    "quick": 10.0,
}
HIGH_MEMORY_TARGET_MB: Final = (1060, 1180)
LOW_MEMORY_TARGET_MB: Final = (100, 500)
HIGH_MEMORY_SHARE: Final = 0.6
"""Share of `memory` sheets that plan a peak above the threshold."""

DURATION_RANGE_S: Final[dict[SheetKind, tuple[float, float]]] = {
    "agent": (8.0, 18.0),
    "cpu": (3.0, 5.0),
    # Long enough that the peak is held for at least 12 s (see `instrument.run_memory`).
    "memory": (15.0, 20.0),
    "files": (5.0, 9.0),
    "zombie": (4.0, 7.0),
    "kill-child": (4.0, 7.0),
    "quick": (1.0, 3.0),
}
INSTRUMENTS: Final[dict[SheetKind, tuple[str, str | None]]] = {
    "agent": ("claude-code", "claude-sonnet-4-5"),
    "cpu": ("cli", None),
    "memory": ("cli", None),
    "files": ("cli", None),
    "zombie": ("gemini-cli", "gemini-2.5-pro"),
    "kill-child": ("codex", "gpt-5-codex"),
    "quick": ("cli", None),
}
FAILURE_EXIT_CODES: Final = (1, 1, 1, 2, 2, 3, 4)

# Score templates: a name and the kinds of its sheets; jobs draw one, then vary it.
JOB_TEMPLATES: Final[tuple[tuple[str, tuple[SheetKind, ...]], ...]] = (
    ("code-review", ("agent", "memory", "files", "quick")),
    ("build-index", ("quick", "cpu", "memory", "files")),
    ("train-tokenizer", ("memory", "cpu", "agent", "memory")),
    ("docs-sweep", ("agent", "zombie", "kill-child", "memory", "quick")),
    ("test-matrix", ("quick", "memory", "cpu", "kill-child", "zombie")),
    ("data-migration", ("memory", "files", "zombie", "agent")),
)


@dataclass(frozen=True)
class AttemptPlan:
    """One attempt of a sheet: whether it fails, and how.

    Attributes:
        failure_mode: `none` for success, else how the attempt fails.
        exit_code: The exit status the instrument returns (0 unless `failure_mode` is `exit`).
    """

    failure_mode: FailureMode
    exit_code: int = 0

    @property
    def fails(self) -> bool:
        """Whether this attempt ends in failure."""
        return self.failure_mode != "none"


@dataclass(frozen=True)
class SheetPlan:
    """A sheet's workload and the outcomes of all its attempts.

    Attributes:
        sheet_num: 1-based sheet number.
        kind: The workload (see `instrument.py`).
        seconds: Workload duration at speed 1.
        memory_target_mb: What a `memory` sheet allocates (0 for other kinds).
        planned_peak_mb: The process tree's planned peak RSS, which decides the failure odds.
        instrument_name: The instrument the checkpoint names.
        instrument_model: The model the checkpoint names, if any.
        attempts: Attempts in order; all but the last fail; the last fails only when retries
            are exhausted.
    """

    sheet_num: int
    kind: SheetKind
    seconds: float
    memory_target_mb: int
    planned_peak_mb: float
    instrument_name: str
    instrument_model: str | None
    attempts: tuple[AttemptPlan, ...]


@dataclass(frozen=True)
class JobPlan:
    """A whole job: its score name, sheets and how many run at once."""

    score_name: str
    sheets: tuple[SheetPlan, ...]
    max_concurrent: int
    max_retries: int


def failure_probability(peak_rss_mb: float, effect: PlantedEffect = PLANTED_EFFECT) -> float:
    """Return the chance that an attempt peaking at `peak_rss_mb` fails (the planted effect)."""
    if peak_rss_mb > effect.threshold_mb:
        return effect.high_failure_rate
    return effect.base_failure_rate


def draw_failure(
    peak_rss_mb: float, rng: random.Random, effect: PlantedEffect = PLANTED_EFFECT
) -> bool:
    """Decide, with one draw from `rng`, whether an attempt with this peak fails."""
    return rng.random() < failure_probability(peak_rss_mb, effect)


def draw_attempt(peak_rss_mb: float, rng: random.Random) -> AttemptPlan:
    """Draw one attempt's outcome: the planted failure odds, then a failure mode."""
    if not draw_failure(peak_rss_mb, rng):
        return AttemptPlan("none")
    mode_draw = rng.random()
    if mode_draw < 0.65:
        return AttemptPlan("exit", rng.choice(FAILURE_EXIT_CODES))
    if mode_draw < 0.85:
        return AttemptPlan("timeout")
    return AttemptPlan("timeout-stubborn")


def plan_sheet(sheet_num: int, kind: SheetKind, max_retries: int, rng: random.Random) -> SheetPlan:
    """Draw one sheet's workload and the outcomes of up to `max_retries + 1` attempts."""
    low, high = DURATION_RANGE_S[kind]
    seconds = round(rng.uniform(low, high), 2)
    memory_target_mb = 0
    if kind == "memory":
        band = HIGH_MEMORY_TARGET_MB if rng.random() < HIGH_MEMORY_SHARE else LOW_MEMORY_TARGET_MB
        memory_target_mb = rng.randint(*band)
    planned_peak_mb = TREE_BASE_PEAK_MB[kind] + memory_target_mb
    attempts: list[AttemptPlan] = []
    for _ in range(max_retries + 1):
        attempt = draw_attempt(planned_peak_mb, rng)
        attempts.append(attempt)
        if not attempt.fails:
            break
    instrument_name, instrument_model = INSTRUMENTS[kind]
    return SheetPlan(
        sheet_num=sheet_num,
        kind=kind,
        seconds=seconds,
        memory_target_mb=memory_target_mb,
        planned_peak_mb=planned_peak_mb,
        instrument_name=instrument_name,
        instrument_model=instrument_model,
        attempts=tuple(attempts),
    )


def plan_job(rng: random.Random) -> JobPlan:
    """Draw a whole job from a template: 3-6 sheets, 1 or 2 at once, 0-2 retries."""
    score_name, template_kinds = rng.choice(JOB_TEMPLATES)
    kinds = list(template_kinds)
    if rng.random() < 0.5:
        kinds.append(rng.choice(SHEET_KINDS))
    if len(kinds) > 3 and rng.random() < 0.3:
        kinds.pop(rng.randrange(len(kinds)))
    max_concurrent = 2 if rng.random() < 0.4 else 1
    max_retries = rng.choice((0, 0, 1, 2))
    sheets = tuple(
        plan_sheet(sheet_num, kind, max_retries, rng)
        for sheet_num, kind in enumerate(kinds, start=1)
    )
    return JobPlan(
        score_name=score_name,
        sheets=sheets,
        max_concurrent=max_concurrent,
        max_retries=max_retries,
    )


def job_rng(seed: int, serial: int) -> random.Random:
    """Return the RNG of the job numbered `serial` under the demo seed `seed`."""
    return random.Random(f"mzt-demo:{seed}:{serial}")
