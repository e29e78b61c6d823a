"""The job tree's rows: which jobs, sheets and processes, in which order, with which totals."""

from __future__ import annotations

from mzt_tui.ui.job_tree_model import OTHER_GROUP_KEY, JobTreeRow, build_job_tree
from tests.ui.factories import busy_tick, no_conductor_tick, process, quiet_tick, system_processes


def _by_key(rows: list[JobTreeRow]) -> dict[str, JobTreeRow]:
    return {row.key: row for row in rows}


def _cell(row: JobTreeRow, column: str) -> str:
    return next(text for cell_id, text, _ in row.cells if cell_id == column)


def test_rows_list_parents_before_children_in_registry_order() -> None:
    rows = build_job_tree(busy_tick())
    seen: set[str] = set()
    for row in rows:
        assert row.parent is None or row.parent in seen, row.key
        seen.add(row.key)
    top_level = [row.key for row in rows if row.parent is None]
    assert top_level == [
        "conductor",
        "job:lint-repo",
        "job:train-model",
        "job:docs-site",
        OTHER_GROUP_KEY,
    ]


def test_sheet_process_trees_nest_by_parent_pid() -> None:
    rows = _by_key(build_job_tree(busy_tick()))
    claude = rows["proc:1100:1699999580.00"]
    assert claude.parent == "sheet:train-model:3"
    assert rows["proc:1102:1699999970.00"].parent == claude.key
    assert claude.expandable


def test_job_totals_sum_its_processes_and_progress_counts_final_sheets() -> None:
    rows = _by_key(build_job_tree(busy_tick()))
    train = rows["job:train-model"]
    assert _cell(train, "cpu") == "173.5"  # 45 + 30.5 + 98
    assert _cell(train, "progress") == "2/4"  # completed and failed are final
    assert _cell(train, "gpu") == "2.0G"
    assert train.expanded  # running jobs start open
    assert not rows["job:docs-site"].expanded


def test_pending_sheets_are_left_out_and_idle_sheets_have_blank_resources() -> None:
    rows = _by_key(build_job_tree(busy_tick()))
    assert "sheet:train-model:4" not in rows
    failed = rows["sheet:train-model:2"]
    assert _cell(failed, "state") == "failed (1)"
    assert _cell(failed, "progress") == "#2"
    assert "cpu" not in {cell_id for cell_id, _, _ in failed.cells}


def test_other_processes_are_grouped_collapsed_busiest_first() -> None:
    rows = build_job_tree(busy_tick())
    group = _by_key(rows)[OTHER_GROUP_KEY]
    assert group.name == "other processes (5)"
    assert not group.expanded
    members = [row.ref.pid for row in rows if row.parent == OTHER_GROUP_KEY]
    assert members == [610, 777, 1, 420, 901]


def test_without_conductor_the_system_processes_group_starts_open() -> None:
    rows = build_job_tree(no_conductor_tick())
    assert [row.key for row in rows if row.parent is None] == [OTHER_GROUP_KEY]
    assert rows[0].name == "system processes (5)"
    assert rows[0].expanded


def test_other_processes_beyond_the_limit_become_one_note() -> None:
    many = [process(5000 + n, f"worker {n}") for n in range(10)]
    rows = build_job_tree(quiet_tick([*system_processes(), *many]), max_other=4)
    members = [row for row in rows if row.parent == OTHER_GROUP_KEY]
    assert len(members) == 5
    assert members[-1].ref.kind == "note"
    assert members[-1].name.startswith("… 11 more")


def test_score_keeps_only_that_job() -> None:
    rows = build_job_tree(busy_tick(), score="lint-repo")
    assert {row.key for row in rows if row.parent is None} == {"job:lint-repo"}


def test_text_filter_matches_job_ids_and_commands() -> None:
    by_job = [r.key for r in build_job_tree(busy_tick(), text_filter="LINT") if r.parent is None]
    assert by_job == ["job:lint-repo", OTHER_GROUP_KEY]
    by_command = build_job_tree(busy_tick(), text_filter="pytest")
    assert [r.key for r in by_command if r.parent is None] == ["job:train-model", OTHER_GROUP_KEY]
    assert _by_key(by_command)[OTHER_GROUP_KEY].name == "other processes (0)"
