"""Outcomes of sheet runs: registry first, then legacy executions, then job insights."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from mzt_tui.demo.checkpoint import JobRun
from mzt_tui.demo.plan import AttemptPlan, JobPlan, SheetPlan
from mzt_tui.demo.registry_writer import RegistryWriter
from mzt_tui.marianne.learning import LearningStore
from mzt_tui.marianne.learning_hashes import hash_job
from mzt_tui.marianne.outcomes import join_outcomes
from mzt_tui.models.sheet_runs import SheetRunSummary
from mzt_tui.store.sheet_runs import number_attempts
from tests.correlation_runs.builders import JobRow, sheet_entry, summary, write_registry
from tests.store.factories import BASE_TIME

T0 = BASE_TIME


def outcomes_of(
    runs: list[SheetRunSummary],
    registry: Path | None,
    learning: LearningStore | None = None,
) -> dict[int, tuple[bool | None, int]]:
    """Root PID → (failed, attempt) after the join (runs numbered as the store numbers them)."""
    runs = number_attempts(runs)
    joined = join_outcomes(runs, registry_path=registry, learning=learning)
    return {
        run.root_pid: (sheet_run.failed, sheet_run.attempt)
        for run, sheet_run in zip(runs, joined.runs, strict=True)
    }


def test_the_registry_status_decides_the_last_attempt(tmp_path: Path) -> None:
    # GIVEN one run per sheet, each sheet ending differently in the registry
    statuses = ["completed", "failed", "retry_scheduled", "cancelled", "skipped", "in_progress"]
    runs = [summary("job-a", n, 100 + n, T0 + 100 * n) for n in range(1, len(statuses) + 1)]
    sheets = [
        sheet_entry(n, status, T0 + 100 * n + 0.3, completed_at=T0 + 100 * n + 10)
        for n, status in enumerate(statuses, start=1)
    ]
    registry = tmp_path / "daemon-state.db"
    write_registry(registry, [JobRow("job-a", T0, sheets)])
    # WHEN joined
    joined = join_outcomes(runs, registry_path=registry, learning=None)
    # THEN completed → success, failed and retry_scheduled → failure, the rest unknown
    assert [run.failed for run in joined.runs] == [False, True, True, None, None, None]
    assert joined.without_outcome == 3
    assert joined.by_source == {"registry": 3, "executions": 0, "semantic_insight": 0}


def test_an_unknown_status_falls_back_to_the_exit_code(tmp_path: Path) -> None:
    runs = [summary("job-a", 1, 101, T0), summary("job-a", 2, 102, T0 + 100)]
    registry = tmp_path / "daemon-state.db"
    write_registry(
        registry,
        [
            JobRow(
                "job-a",
                T0 - 10,
                [
                    sheet_entry(1, "finished", T0, exit_code=0),
                    sheet_entry(2, "finished", T0 + 100, exit_code=3),
                ],
            )
        ],
    )
    assert outcomes_of(runs, registry) == {101: (False, 1), 102: (True, 1)}


def test_earlier_attempts_failed_and_take_their_numbers_from_the_error_history(
    tmp_path: Path,
) -> None:
    # GIVEN three attempts seen of a sheet that the registry says completed at attempt 4
    # (the monitor missed attempt 2), with an error history of the failed ones
    runs = [
        summary("job-a", 1, 201, T0, seconds=5),
        summary("job-a", 1, 203, T0 + 20, seconds=5),
        summary("job-a", 1, 204, T0 + 30, seconds=5),
    ]
    registry = tmp_path / "daemon-state.db"
    history = [(1, T0 + 5.5), (2, T0 + 15.5), (3, T0 + 25.5)]
    write_registry(
        registry,
        [
            JobRow(
                "job-a",
                T0 - 5,
                [sheet_entry(1, "completed", T0 + 30.2, attempt_count=4, error_history=history)],
            )
        ],
    )
    # THEN the last is the success of attempt 4, the others failures of attempts 1 and 3
    assert outcomes_of(runs, registry) == {201: (True, 1), 203: (True, 3), 204: (False, 4)}


def test_without_an_error_history_a_retry_implies_the_earlier_attempt_failed(
    tmp_path: Path,
) -> None:
    runs = [
        summary("job-a", 1, 201, T0, seconds=5),
        summary("job-a", 1, 202, T0 + 10, seconds=5),
        summary("job-a", 2, 301, T0 + 20, seconds=5),
    ]
    registry = tmp_path / "daemon-state.db"
    write_registry(
        registry,
        [
            JobRow(
                "job-a",
                T0 - 5,
                [
                    sheet_entry(1, "completed", T0 + 10.1, attempt_count=2),
                    # Sheet 2 has only one attempt: nothing before it is a retry.
                    sheet_entry(2, "in_progress", T0 + 20.1),
                ],
            )
        ],
    )
    assert outcomes_of(runs, registry) == {201: (True, 1), 202: (False, 2), 301: (None, 1)}


def test_a_root_attributed_to_the_wrong_sheet_gets_its_registry_sheet(tmp_path: Path) -> None:
    # GIVEN sheet 3's root attributed to sheet 1 (it started while the registry was read)
    runs = [summary("job-a", 1, 101, T0, seconds=20), summary("job-a", 1, 103, T0 + 5.0)]
    registry = tmp_path / "daemon-state.db"
    write_registry(
        registry,
        [
            JobRow(
                "job-a",
                T0 - 5,
                [
                    sheet_entry(1, "failed", T0 - 0.01),
                    sheet_entry(3, "completed", T0 + 4.99),
                ],
            )
        ],
    )
    # WHEN joined, THEN each root takes the outcome and number of the sheet that started then
    joined = join_outcomes(number_attempts(runs), registry_path=registry, learning=None)
    assert [(run.sheet_num, run.failed, run.attempt) for run in joined.runs] == [
        (1, True, 1),
        (3, False, 1),
    ]


def test_a_missed_root_of_another_sheet_takes_no_attempt_of_its_own_sheet(
    tmp_path: Path,
) -> None:
    # GIVEN sheet 3's root was never sampled, and sheet 2's first attempt started 0.1 s
    # before it
    runs = [summary("job-a", 2, 201, T0, seconds=20), summary("job-a", 2, 202, T0 + 40.0)]
    registry = tmp_path / "daemon-state.db"
    write_registry(
        registry,
        [
            JobRow(
                "job-a",
                T0 - 5,
                [
                    sheet_entry(2, "completed", T0 + 39.99, attempt_count=2),
                    sheet_entry(3, "completed", T0 + 0.1),
                ],
            )
        ],
    )
    # THEN sheet 2's first attempt stays its own sheet's failed attempt, not sheet 3's success
    joined = join_outcomes(number_attempts(runs), registry_path=registry, learning=None)
    assert [(run.sheet_num, run.failed, run.attempt) for run in joined.runs] == [
        (2, True, 1),
        (2, False, 2),
    ]


def test_runs_of_an_earlier_job_of_the_same_name_get_nothing_from_the_registry(
    tmp_path: Path,
) -> None:
    old = summary("job-a", 1, 201, T0 - 3600)
    new = summary("job-a", 1, 202, T0 + 10)
    registry = tmp_path / "daemon-state.db"
    write_registry(
        registry, [JobRow("job-a", T0, [sheet_entry(1, "completed", T0 + 10, attempt_count=2)])]
    )
    assert outcomes_of([old, new], registry) == {201: (None, 1), 202: (False, 2)}


def test_a_sheet_cancelled_while_its_retry_waited_failed_its_last_attempt(
    tmp_path: Path,
) -> None:
    waiting = summary("job-a", 1, 201, T0, seconds=5)
    cut_short = summary("job-a", 2, 301, T0 + 1, seconds=8)
    registry = tmp_path / "daemon-state.db"
    write_registry(
        registry,
        [
            JobRow(
                "job-a",
                T0 - 5,
                [
                    # Attempt 1 failed at T0+5; the sheet was cancelled at T0+9 before its retry.
                    sheet_entry(
                        1, "cancelled", T0, completed_at=T0 + 9, error_history=[(1, T0 + 5)]
                    ),
                    # Sheet 2's attempt was killed by the cancellation itself.
                    sheet_entry(
                        2, "cancelled", T0 + 1, completed_at=T0 + 9, error_history=[(1, T0 + 9)]
                    ),
                ],
                status="cancelled",
            )
        ],
    )
    assert outcomes_of([waiting, cut_short], registry) == {201: (True, 1), 301: (None, 1)}


def test_the_demo_registry_writer_gives_the_same_outcomes(tmp_path: Path) -> None:
    # GIVEN the demo's own checkpoint: sheet 1 failed once then completed, sheet 2 failed
    sheet_plans = tuple(
        SheetPlan(n, "quick", 1.0, 0, 10.0, "cli", None, (AttemptPlan("none"),)) for n in (1, 2)
    )
    plan = JobPlan("score", sheet_plans, max_concurrent=1, max_retries=1)
    job = JobRun("score-001", plan, "/s.yaml", "/w", pid=4242, submitted_at=T0 - 5)
    first, second = job.sheets[1], job.sheets[2]
    first.attempt_count, first.started_at, first.completed_at = 1, T0, T0 + 5
    first.record_exit(2, timed_out=False)
    first.reset_outcome()
    first.attempt_count, first.started_at, first.completed_at = 2, T0 + 10, T0 + 15
    first.record_exit(0, timed_out=False)
    first.status = "completed"
    second.attempt_count, second.started_at, second.completed_at = 1, T0 + 20, T0 + 25
    second.record_exit(-9, timed_out=True)
    second.status = "failed"
    registry = tmp_path / "daemon-state.db"
    writer = RegistryWriter(registry)
    writer.write_job(job, T0 + 30)
    writer.close()
    runs = [
        summary("score-001", 1, 11, T0 + 0.01, seconds=5),
        summary("score-001", 1, 12, T0 + 10.01, seconds=5),
        summary("score-001", 2, 21, T0 + 20.01, seconds=5),
    ]
    assert outcomes_of(runs, registry) == {11: (True, 1), 12: (False, 2), 21: (True, 1)}


def add_execution(
    learning: LearningStore,
    job_id: str,
    sheet_num: int,
    status: str,
    started: float | None,
    completed: float | None,
    *,
    retry_count: int = 0,
) -> None:
    """Insert a legacy `executions` row as old conductors wrote them (naive local time)."""
    learning.ensure_schema()

    def local(timestamp: float | None) -> str | None:
        return None if timestamp is None else datetime.fromtimestamp(timestamp).isoformat()

    conn = sqlite3.connect(learning.path)
    conn.execute(
        "INSERT INTO executions (id, workspace_hash, job_hash, sheet_num, started_at,"
        " completed_at, duration_seconds, status, retry_count, error_codes)"
        " VALUES (?, 'ws', ?, ?, ?, ?, 0, ?, ?, '[]')",
        (
            f"{job_id}-{sheet_num}-{started}",
            hash_job(job_id),
            sheet_num,
            local(started),
            local(completed),
            status,
            retry_count,
        ),
    )
    conn.commit()
    conn.close()


def add_insight(learning: LearningStore, job_id: str, outcome: str) -> None:
    """A `semantic_insight` pattern giving a job's outcome."""
    learning.record_pattern(
        "semantic_insight",
        f"[knowledge] {job_id} {outcome} insight",
        "what the analyser learned",
        context_tags=["category:knowledge", f"outcome:{outcome}", f"job:{job_id}"],
    )


def test_registry_comes_before_executions_which_come_before_insights(tmp_path: Path) -> None:
    # GIVEN four jobs, each with a different set of sources
    registry = tmp_path / "daemon-state.db"
    learning = LearningStore(tmp_path / "global-learning.db")
    runs = [
        summary("in-registry", 1, 1, T0),
        summary("in-executions", 1, 2, T0 + 100),
        summary("insight-only", 1, 3, T0 + 200, seconds=5),
        summary("insight-only", 1, 4, T0 + 210, seconds=5),
        summary("insight-only", 2, 5, T0 + 220),
        summary("nowhere", 1, 6, T0 + 300),
    ]
    write_registry(registry, [JobRow("in-registry", T0 - 5, [sheet_entry(1, "failed", T0)])])
    # The registry's job also has an execution and an insight saying the opposite.
    add_execution(learning, "in-registry", 1, "completed", T0 - 1, T0 + 20)
    add_insight(learning, "in-registry", "success")
    add_execution(learning, "in-executions", 1, "completed", T0 + 99, T0 + 120)
    add_insight(learning, "in-executions", "failure")
    add_insight(learning, "insight-only", "success")
    # WHEN joined
    joined = join_outcomes(runs, registry_path=registry, learning=learning)
    # THEN each run takes the first source that knows it
    assert [run.failed for run in joined.runs] == [True, False, True, False, False, None]
    assert joined.by_source == {"registry": 1, "executions": 1, "semantic_insight": 3}
    assert joined.without_outcome == 1


def test_executions_match_by_time_and_a_retried_run_failed(tmp_path: Path) -> None:
    learning = LearningStore(tmp_path / "global-learning.db")
    # One row spans two attempts (retry_count 1) and completed; an older row of the same
    # job and sheet failed long before.
    add_execution(learning, "job-x", 1, "completed", T0, T0 + 40, retry_count=1)
    add_execution(learning, "job-x", 1, "failed", T0 - 7200, T0 - 7000)
    runs = [
        summary("job-x", 1, 1, T0 - 7100),
        summary("job-x", 1, 2, T0 + 1, seconds=10),
        summary("job-x", 1, 3, T0 + 20, seconds=10),
        summary("job-x", 1, 4, T0 + 3600),  # no row spans it
    ]
    assert outcomes_of(runs, None, learning) == {
        1: (True, 1),
        2: (True, 2),
        3: (False, 2),
        4: (None, 4),
    }


def test_contradicting_insights_and_a_failed_job_leave_final_runs_unknown(
    tmp_path: Path,
) -> None:
    learning = LearningStore(tmp_path / "global-learning.db")
    add_insight(learning, "mixed", "success")
    add_insight(learning, "mixed", "failure")
    add_insight(learning, "failed-job", "failure")
    runs = [
        summary("mixed", 1, 1, T0),
        summary("failed-job", 1, 2, T0, seconds=5),
        summary("failed-job", 1, 3, T0 + 10),
        summary("failed-job", 2, 4, T0 + 20),
    ]
    # A failed job says some sheet failed, not which: only the retried run is known.
    assert outcomes_of(runs, None, learning) == {
        1: (None, 1),
        2: (True, 1),
        3: (None, 2),
        4: (None, 1),
    }


def test_the_upstream_learning_store_is_read_for_insights(upstream_copy: Path) -> None:
    learning = LearningStore(upstream_copy / "learning.db")
    runs = [summary("alpha-review", 1, 1, T0), summary("beta-build", 1, 2, T0)]
    assert outcomes_of(runs, None, learning) == {1: (False, 1), 2: (None, 1)}


def test_an_unreadable_registry_is_one_line_error(tmp_path: Path) -> None:
    registry = tmp_path / "daemon-state.db"
    registry.write_text("not a database\n" * 20)
    from mzt_tui.models.errors import StoreError

    with pytest.raises(StoreError) as caught:
        join_outcomes([summary("a", 1, 1, T0)], registry_path=registry, learning=None)
    assert "\n" not in str(caught.value) and str(registry) in str(caught.value)


def test_a_missing_registry_and_learning_store_leave_every_run_unknown(tmp_path: Path) -> None:
    joined = join_outcomes(
        [summary("a", 1, 1, T0)],
        registry_path=tmp_path / "none.db",
        learning=LearningStore(tmp_path / "none-learning.db"),
    )
    assert joined.without_outcome == 1 and joined.runs[0].failed is None
    assert not (tmp_path / "none-learning.db").exists()
    assert json.loads(json.dumps(joined.by_source)) == {
        "registry": 0,
        "executions": 0,
        "semantic_insight": 0,
    }
