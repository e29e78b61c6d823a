"""Property tests for what the others do not cover yet: redaction and the filter input.

(The duration parser: tests/models/test_durations.py; the store round trip:
tests/store/test_roundtrip.py.)
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.collect.redact import REDACTED, redact_command
from mzt_tui.headless.engine import TickResult
from mzt_tui.models import ConductorStatus, ProcessMetric, SystemSnapshot
from mzt_tui.models.process import COMMAND_MAX_CHARS
from mzt_tui.ui.job_tree_model import build_job_tree
from tests.store.factories import BASE_TIME, process

pytestmark = pytest.mark.slow

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SAFE_WORDS = st.sampled_from(
    [
        "python",
        "-m",
        "pytest",
        "--max-tokens",
        "4096",
        "src/app.py",
        "-v",
        "--model",
        "claude",
        "build",
        "--jobs=4",
        "x=1",
        "/workspaces/demo",
        "'quoted words'",
        "--keyboard",
        "monkey",
    ]
)
SECRET_SHAPES = st.one_of(
    st.text(ALNUM, min_size=16, max_size=40).map(lambda s: "sk-" + s),
    st.text(UPPER_DIGITS, min_size=16, max_size=16).map(lambda s: "AKIA" + s),
    st.text(ALNUM, min_size=20, max_size=40).map(lambda s: "ghp_" + s),
    st.text(ALNUM, min_size=10, max_size=30).map(lambda s: "xoxb-" + s),
    st.text(ALNUM, min_size=6, max_size=30).map(lambda s: "--api-key=" + s),
    st.text(ALNUM, min_size=6, max_size=30).map(lambda s: "GITHUB_TOKEN=" + s),
    st.text(ALNUM, min_size=6, max_size=30).map(lambda s: "password=" + s),
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_redaction_is_bounded_and_idempotent(text: str) -> None:
    once = redact_command(text)
    assert len(once) <= COMMAND_MAX_CHARS
    assert redact_command(once) == once


@settings(max_examples=300, deadline=None)
@given(st.lists(SAFE_WORDS, max_size=8), SECRET_SHAPES, st.lists(SAFE_WORDS, max_size=8))
def test_a_secret_among_ordinary_words_never_survives(
    before: list[str], secret: str, after: list[str]
) -> None:
    value = secret.split("=", 1)[-1] if "=" in secret else secret
    redacted = redact_command(" ".join([*before, secret, *after]))
    assert value not in redacted
    assert REDACTED in redacted or len(" ".join(before)) >= COMMAND_MAX_CHARS


@settings(max_examples=200, deadline=None)
@given(st.lists(SAFE_WORDS, max_size=20))
def test_ordinary_words_are_left_alone(words: list[str]) -> None:
    text = " ".join(words)
    assert redact_command(text) == text[:COMMAND_MAX_CHARS]


JOBS = st.sampled_from([None, "alpha-review", "beta-build", "Gamma"])
PROCESSES = st.lists(
    st.builds(
        lambda pid, command, job: process(pid, job_id=job, command=command or "x"),
        st.integers(2, 99_999),
        st.text(max_size=40),
        JOBS,
    ),
    max_size=12,
    unique_by=lambda p: p.pid,
)


def _tick(processes: list[ProcessMetric]) -> TickResult:
    shot = SystemSnapshot(timestamp=BASE_TIME, processes=tuple(processes))
    return TickResult(
        snapshot=shot,
        all_processes=tuple(processes),
        events=(),
        anomalies=AnomalyChanges(),
        jobs=(),
        conductor=ConductorStatus(),
        gpu_reason="no GPU",
    )


def _process_keys(processes: list[ProcessMetric], text_filter: str) -> set[int]:
    rows = build_job_tree(_tick(processes), text_filter=text_filter, max_other=1000)
    return {row.ref.pid for row in rows if row.ref.kind == "process" and row.ref.pid is not None}


@settings(max_examples=300, deadline=None)
@given(PROCESSES, st.text(max_size=12))
def test_any_filter_text_is_taken_and_only_matching_processes_are_shown(
    processes: list[ProcessMetric], text_filter: str
) -> None:
    shown = _process_keys(processes, text_filter)
    needle = text_filter.strip().lower()
    if not needle:
        assert shown == {p.pid for p in processes}
    for proc in processes:
        texts = [proc.command.lower(), str(proc.pid)]
        if proc.job_id is not None:  # a job is shown whole when any of its texts match
            mates = [p for p in processes if p.job_id == proc.job_id]
            texts += [
                proc.job_id.lower(),
                *(p.command.lower() for p in mates),
                *(str(p.pid) for p in mates),
            ]
        matches = not needle or any(needle in text for text in texts)
        if proc.job_id is None:
            assert (proc.pid in shown) == matches
        elif proc.pid in shown:
            assert matches


@settings(max_examples=200, deadline=None)
@given(PROCESSES, st.text(ALNUM + " -_/", max_size=8), st.text(ALNUM, min_size=1, max_size=4))
def test_the_filter_ignores_case_and_narrows_as_it_grows(
    processes: list[ProcessMetric], text_filter: str, more: str
) -> None:
    shown = _process_keys(processes, text_filter)
    assert _process_keys(processes, text_filter.swapcase()) == shown
    assert _process_keys(processes, f"  {text_filter}\t") == shown
    assert _process_keys(processes, text_filter + more) <= shown
