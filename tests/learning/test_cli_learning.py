"""`mzt learning`: the JSON document, the report, and one-line errors on bad input."""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mzt_tui.cli.learning import learning_command
from mzt_tui.marianne.learning import LearningStore
from mzt_tui.models.errors import MztError, NoDataError, StoreError, UsageError
from tests.learning.helpers import set_schema_version

DOCUMENT_KEYS = {"stats", "recent", "optimal_window", "wait_times"}
RECORD_KEYS = {
    "id",
    "workspace_hash",
    "job_hash",
    "sheet_num",
    "started_at",
    "completed_at",
    "duration_seconds",
    "status",
    "retry_count",
    "success_without_retry",
    "validation_pass_rate",
    "confidence_score",
    "model",
    "error_codes",
}


def _document(
    capsys: pytest.CaptureFixture[str],
    home: Path,
    *,
    error_code: str | None = None,
    model: str | None = None,
    static_delay: float = 60.0,
) -> dict[str, Any]:
    learning_command(home, True, error_code, model, static_delay)
    captured = capsys.readouterr()
    assert captured.err == ""
    document: dict[str, Any] = json.loads(captured.out)
    return document


def _one_line(error: MztError) -> str:
    message = str(error)
    assert message and "\n" not in message
    return message


def test_the_json_document_has_exactly_the_required_keys_and_the_conductors_values(
    capsys: pytest.CaptureFixture[str], learning_home: Path, learning_readback: dict[str, Any]
) -> None:
    document = _document(capsys, learning_home)
    assert set(document) == DOCUMENT_KEYS
    assert document["stats"] == learning_readback["readback"]["execution_stats"]
    raw_ids = sorted(
        learning_readback["raw"]["executions"], key=lambda row: row["completed_at"], reverse=True
    )
    assert [record["id"] for record in document["recent"]] == [row["id"] for row in raw_ids]
    assert all(set(record) == RECORD_KEYS for record in document["recent"])
    beta = [r for r in document["recent"] if r["job_hash"] == "3c42b99cf4d343a0"]
    assert beta == learning_readback["readback"]["similar_executions_beta"]
    assert document["optimal_window"] == {
        "optimal_hours": [],
        "avoid_hours": [],
        "confidence": 0.02,
        "sample_count": 1,
    }
    assert document["wait_times"] == {
        "E101": {"delay_seconds": 60.0, "confidence": 0.0, "strategy": "static_fallback"}
    }


def test_the_document_follows_the_filters_and_the_static_delay(
    capsys: pytest.CaptureFixture[str], learning_home: Path
) -> None:
    path = learning_home / "global-learning.db"
    store = LearningStore(path)
    for wait in (20.0, 30.0, 40.0):
        store.record_error_recovery("E102", 30.0, wait, True, "model-a")

    document = _document(capsys, learning_home, static_delay=10.0)
    assert set(document["wait_times"]) == {"E101", "E102"}
    assert document["wait_times"]["E101"]["delay_seconds"] == 10.0
    e102 = document["wait_times"]["E102"]
    assert (e102["confidence"], e102["strategy"]) == (0.3, "global_learned_blend")
    assert math.isclose(e102["delay_seconds"], (0.3 / 0.7) * 25.0 + (1 - 0.3 / 0.7) * 10.0)

    only_model_a = _document(capsys, learning_home, model="model-a")
    assert set(only_model_a["wait_times"]) == {"E102"}
    assert only_model_a["optimal_window"]["sample_count"] == 3

    unknown_code = _document(capsys, learning_home, error_code="E999", static_delay=5.0)
    assert unknown_code["wait_times"] == {
        "E999": {"delay_seconds": 5.0, "confidence": 0.0, "strategy": "static_fallback"}
    }
    assert unknown_code["optimal_window"]["sample_count"] == 0
    assert set(unknown_code) == DOCUMENT_KEYS


def test_the_text_report_shows_every_section(
    capsys: pytest.CaptureFixture[str], learning_home: Path
) -> None:
    learning_command(learning_home, False, None, None, 60.0)
    out = capsys.readouterr().out
    for expected in (
        "Learning store",
        "(schema 15)",
        "Statistics",
        "Latest 6 executions",
        "3c42b99c",  # a job hash
        "E006",
        "Hours of the day",
        "07h",
        "Wait times",
        "static_fallback",
        "Workspace clusters",
        "cluster-a",
    ):
        assert expected in out, expected


def test_an_empty_store_reports_nothing_recorded(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    LearningStore(tmp_path / "global-learning.db").ensure_schema()
    learning_command(tmp_path, False, None, None, 60.0)
    out = capsys.readouterr().out
    assert "Executions: none recorded" in out
    assert "no error recoveries recorded" in out
    assert _document(capsys, tmp_path)["recent"] == []


def test_the_command_never_writes_the_file(
    capsys: pytest.CaptureFixture[str], learning_home: Path
) -> None:
    path = learning_home / "global-learning.db"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    learning_command(learning_home, False, None, None, 60.0)
    assert "Statistics" in capsys.readouterr().out
    _document(capsys, learning_home)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in learning_home.iterdir()) == ["global-learning.db"]


def test_a_newer_conductors_file_is_still_shown(
    capsys: pytest.CaptureFixture[str], learning_home: Path
) -> None:
    set_schema_version(learning_home / "global-learning.db", 16)
    assert _document(capsys, learning_home)["stats"]["total_executions"] == 6


def test_a_missing_file_is_one_line_and_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(NoDataError) as raised:
        learning_command(tmp_path, True, None, None, 60.0)
    assert str(tmp_path / "global-learning.db") in _one_line(raised.value)
    assert not (tmp_path / "global-learning.db").exists()


@pytest.mark.parametrize("static_delay", [0.0, -5.0, math.nan, math.inf])
def test_a_bad_static_delay_is_a_usage_error(learning_home: Path, static_delay: float) -> None:
    with pytest.raises(UsageError) as raised:
        learning_command(learning_home, True, None, None, static_delay)
    assert "--static-delay" in _one_line(raised.value)
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(("error_code", "model"), [("", None), (None, "  ")])
def test_empty_filters_are_usage_errors(
    learning_home: Path, error_code: str | None, model: str | None
) -> None:
    with pytest.raises(UsageError) as raised:
        learning_command(learning_home, False, error_code, model, 60.0)
    _one_line(raised.value)


def test_a_corrupt_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "global-learning.db").write_bytes(b"not a database " * 400)
    with pytest.raises(StoreError) as raised:
        learning_command(tmp_path, True, None, None, 60.0)
    assert _one_line(raised.value).startswith("cannot read learning store")


def test_a_file_without_the_execution_tables_reads_as_empty(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    connection = sqlite3.connect(tmp_path / "global-learning.db")
    with connection:
        connection.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY)")
    connection.close()
    document = _document(capsys, tmp_path)
    assert document["stats"]["total_executions"] == 0
    assert (document["recent"], document["wait_times"]) == ([], {})
