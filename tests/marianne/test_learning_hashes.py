"""Job, workspace, pattern and content hashes equal the conductor's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mzt_tui.marianne.learning import LearningStore
from mzt_tui.marianne.learning_hashes import (
    content_hash,
    hash_job,
    hash_workspace,
    normalize_pattern_name,
    pattern_id,
)


def test_job_hashes_match_the_readback(learning_readback: dict[str, Any]) -> None:
    expected: dict[str, str] = learning_readback["readback"]["hash_job"]
    assert {job_id: hash_job(job_id) for job_id in expected} == expected
    assert LearningStore.hash_job("beta-build") == expected["beta-build"]


def test_a_config_hash_changes_the_job_hash() -> None:
    assert hash_job("beta-build", "abc") != hash_job("beta-build")
    assert hash_job("beta-build", "") == hash_job("beta-build")


def test_workspace_hashes_match_the_readback(
    learning_readback: dict[str, Any], registry_readback: dict[str, Any]
) -> None:
    # The workspaces are those the registry lists for the same jobs.
    workspaces = {row["job_id"]: row["workspace"] for row in registry_readback["list_jobs"]}
    expected: dict[str, str] = learning_readback["readback"]["hash_workspace"]
    assert {job_id: hash_workspace(workspaces[job_id]) for job_id in expected} == expected


def test_workspace_hash_resolves_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    assert hash_workspace(link) == hash_workspace(real) == hash_workspace(str(real))


def test_pattern_ids_and_content_hashes_match_every_conductor_row(
    learning_readback: dict[str, Any],
) -> None:
    rows: list[dict[str, Any]] = learning_readback["raw"]["patterns"]
    assert len(rows) == 5
    for row in rows:
        assert pattern_id(row["pattern_type"], row["pattern_name"]) == row["id"]
        assert (
            content_hash(row["pattern_type"], row["pattern_name"], row["description"])
            == row["content_hash"]
        )
    assert set(learning_readback["pattern_ids"].values()) == {row["id"] for row in rows}


@pytest.mark.parametrize(
    "variant",
    [
        "[memory_spike] PID 6002 RSS grew 132% (900→2088 MB) in 30s",
        "[MEMORY_SPIKE] pid 6002 rss GREW 132% (900→2088 mb) in 30S",
        "  [memory_spike]   PID 6002\tRSS grew 132%\n(900→2088 MB) in 30s  ",
    ],
)
def test_case_and_white_space_do_not_change_the_id(variant: str) -> None:
    assert pattern_id("resource_anomaly", variant) == "84eaf1815cc5768d"


def test_normalization_lowercases_and_collapses_white_space() -> None:
    assert normalize_pattern_name("  File \t Not\n\nCreated ") == "file not created"


def test_a_missing_description_hashes_as_empty() -> None:
    assert content_hash("t", "n", None) == content_hash("t", "n", "")
    assert content_hash("t", "n", "x") != content_hash("t", "n", "")
    assert len(content_hash("t", "n", None)) == 32
    assert len(pattern_id("t", "n")) == 16
