"""The bodies of `mzt correlate` and `mzt patterns`: text for people, JSON that parses."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from mzt_tui.cli.correlate import correlate_command
from mzt_tui.cli.patterns import patterns_command
from mzt_tui.models.errors import NoDataError
from tests.correlation_runs.builders import (
    MEMORY_FINDING,
    outcomes,
    planted_runs,
    record_runs,
    registry_for,
)


@pytest.fixture
def home(upstream_copy: Path, tmp_path: Path) -> Path:
    """A Marianne home with recent planted runs and a copy of the conductor's learning store.

    The runs are dated now, so that the commands' default lookback (7 days) holds them.
    """
    import time

    root = tmp_path / "home"
    root.mkdir()
    shutil.copy(upstream_copy / "learning.db", root / "global-learning.db")
    runs = planted_runs(outcomes(12, 15), outcomes(4, 45), first_start=time.time() - 3600)
    record_runs(root / "monitor.db", runs)
    registry_for(root / "daemon-state.db", runs)
    return root


def test_correlate_json_parses_and_names_the_memory_finding(home: Path) -> None:
    out = io.StringIO()
    correlate_command(home, None, json_output=True, dry_run=False, out=out)
    report = json.loads(out.getvalue())
    assert report["runs_used"] == 60 and report["dry_run"] is False
    assert MEMORY_FINDING in [finding["name"] for finding in report["findings"]]
    assert report["patterns_written"] == len(report["findings"])


def test_correlate_text_states_each_finding_in_words(home: Path) -> None:
    out = io.StringIO()
    correlate_command(home, home / "monitor.db", json_output=False, dry_run=True, out=out)
    text = out.getvalue()
    assert "60 with a known outcome (registry 60" in text
    assert "Sheets with peak RSS 1-2GB failed 80% of the time vs" in text
    assert "dry run, nothing stored" in text


def test_correlate_with_too_few_runs_says_so(tmp_path: Path) -> None:
    import time

    runs = planted_runs([True, True], [False], first_start=time.time() - 600)
    record_runs(tmp_path / "monitor.db", runs)
    registry_for(tmp_path / "daemon-state.db", runs)
    out = io.StringIO()
    correlate_command(tmp_path, None, json_output=False, dry_run=False, out=out)
    assert "Too few runs: 3 sheet runs with a known outcome; at least 5 needed." in out.getvalue()
    assert "Nothing stored." in out.getvalue()
    assert not (tmp_path / "global-learning.db").exists()


def test_correlate_without_a_monitor_database_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(NoDataError) as caught:
        correlate_command(tmp_path, None, json_output=False, dry_run=False, out=io.StringIO())
    assert "\n" not in str(caught.value)


def test_patterns_json_lists_every_type_with_confidence_and_sample_size(home: Path) -> None:
    correlate_command(home, None, json_output=False, dry_run=False, out=io.StringIO())
    out = io.StringIO()
    patterns_command(home, None, json_output=True, out=out)
    rows = json.loads(out.getvalue())
    assert {row["pattern_type"] for row in rows} >= {
        "resource_anomaly",
        "resource_correlation",
        "semantic_insight",
    }
    ours = next(row for row in rows if row["pattern_name"] == MEMORY_FINDING)
    assert ours["confidence_source"] == "tag" and 0.95 < ours["confidence"] <= 1.0
    assert ours["sample_size"] == 15 and ours["active"] is True
    insight = next(row for row in rows if row["pattern_type"] == "semantic_insight")
    assert insight["confidence_source"] == "effectiveness"
    assert insight["confidence"] == insight["effectiveness_score"]


def test_patterns_of_one_type_as_a_table(home: Path) -> None:
    correlate_command(home, None, json_output=False, dry_run=False, out=io.StringIO())
    out = io.StringIO()
    patterns_command(home, "resource_correlation", json_output=False, out=out)
    text = out.getvalue()
    assert "Learned patterns" in text and "Confidence" in text and "Active" in text
    assert "memory_vs_failure" in text
    assert "semantic_insight" not in text


def test_patterns_without_a_learning_store_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(NoDataError, match="no learning store"):
        patterns_command(tmp_path, None, json_output=True, out=io.StringIO())


def test_patterns_of_a_type_with_none_say_so(home: Path) -> None:
    out = io.StringIO()
    patterns_command(home, "no_such_type", json_output=False, out=out)
    assert out.getvalue().startswith("No learned patterns of type no_such_type")
    json_out = io.StringIO()
    patterns_command(home, "no_such_type", json_output=True, out=json_out)
    assert json.loads(json_out.getvalue()) == []
