"""A typed door to prometheus_client's strict OpenMetrics parser (it has no annotations)."""

from __future__ import annotations

from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import parser


def parse_openmetrics(text: str) -> list[Metric]:
    """Parse OpenMetrics text strictly (grouping, `# EOF`, timestamps) into its families."""
    return list(parser.text_string_to_metric_families(text))  # type: ignore[no-untyped-call]
