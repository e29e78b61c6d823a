"""contrib/: the Grafana dashboard reads only what the exporter emits; the systemd user unit."""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path
from typing import Any

from mzt_tui.headless.exporter import TickCollector
from tests.ui.factories import busy_tick

CONTRIB = Path(__file__).resolve().parents[2] / "contrib"
METRIC = re.compile(r"\bmzt_[a-z_]+\b")


def _emitted() -> set[str]:
    collector = TickCollector()
    collector.update(busy_tick())
    # A counter family `x` is exposed as `x_total`, with or without samples yet.
    return {
        family.name + ("_total" if family.type == "counter" else "")
        for family in collector.collect()
    }


def _dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((CONTRIB / "grafana-dashboard.json").read_text())
    return document


def _queries(dashboard: dict[str, Any]) -> list[str]:
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    exprs += [variable["definition"] for variable in dashboard["templating"]["list"]]
    return exprs


def test_every_query_reads_a_metric_the_exporter_emits() -> None:
    emitted = _emitted()
    queries = _queries(_dashboard())
    assert queries
    for expr in queries:
        names = set(METRIC.findall(expr))
        assert names, expr
        assert names <= emitted, (expr, names - emitted)


def test_the_dashboard_shows_sheets_gpus_anomalies_outcomes_and_the_monitor() -> None:
    used = {name for expr in _queries(_dashboard()) for name in METRIC.findall(expr)}
    for name in (
        "mzt_job_cpu_percent",
        "mzt_job_rss_bytes",
        "mzt_job_gpu_memory_bytes",
        "mzt_job_fds",
        "mzt_job_threads",
        "mzt_job_processes",
        "mzt_anomalies_open",
        "mzt_anomalies_total",
        "mzt_sheet_outcomes_total",
        "mzt_gpu_utilization_percent",
        "mzt_gpu_memory_used_bytes",
        "mzt_gpu_temperature_celsius",
        "mzt_gpu_power_watts",
        "mzt_monitor_cpu_seconds_total",
        "mzt_monitor_rss_bytes",
    ):
        assert name in used, name


def test_the_dashboard_is_an_importable_grafana_document() -> None:
    dashboard = _dashboard()
    assert dashboard["schemaVersion"] >= 36
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}"
            assert all(t["datasource"]["uid"] == "${DS_PROMETHEUS}" for t in panel["targets"])


def test_the_systemd_user_unit_records_headless_with_metrics_on_loopback() -> None:
    unit = configparser.ConfigParser(interpolation=None)
    unit.read_string((CONTRIB / "mzt-top.service").read_text())
    exec_start = unit["Service"]["ExecStart"]
    assert exec_start.endswith("mzt top --headless --prometheus 127.0.0.1:9108")
    assert unit["Service"]["Restart"] == "on-failure"
    assert unit["Install"]["WantedBy"] == "default.target"
