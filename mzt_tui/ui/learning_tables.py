"""The learning screen's tables and statistics panel: executions, wait times, workspace clusters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.table import Table

from mzt_tui.headless.learning_view import LearningReport, WaitRow
from mzt_tui.models.learning import ExecutionRecord
from mzt_tui.models.outcomes import WorkspaceCluster
from mzt_tui.ui.column_fit import fit_content_columns
from mzt_tui.ui.formatting import format_seconds, format_share
from mzt_tui.ui.keyed_table import Cell, ColumnSpec, KeyedTable, RowCells, SortValue

EXECUTION_COLUMNS = (
    ColumnSpec("completed", "COMPLETED", 11),
    ColumnSpec("job", "JOB", 8),
    ColumnSpec("sheet", "SHEET", 5, justify="right"),
    ColumnSpec("status", "STATUS", 9),
    ColumnSpec("retries", "RETRY", 5, justify="right"),
    ColumnSpec("took", "TOOK", 7, justify="right"),
    ColumnSpec("pass", "PASS", 4, justify="right"),
    ColumnSpec("model", "MODEL", 18),
    ColumnSpec("errors", "ERRORS"),
)
WAIT_COLUMNS = (
    ColumnSpec("code", "ERROR CODE", 10),
    ColumnSpec("samples", "OK", 4, justify="right"),
    ColumnSpec("learned", "LEARNED", 7, justify="right"),
    ColumnSpec("delay", "DELAY", 7, justify="right"),
    ColumnSpec("confidence", "CONF", 4, justify="right"),
    ColumnSpec("strategy", "STRATEGY"),
)
CLUSTER_COLUMNS = (
    ColumnSpec("cluster", "CLUSTER", 16),
    ColumnSpec("count", "N", 3, justify="right"),
    ColumnSpec("workspaces", "WORKSPACES"),
)
STATUS_STYLES = {"completed": "green", "failed": "red", "cancelled": "yellow", "skipped": "dim"}


def _stamp(moment: datetime | None) -> float:
    return 0.0 if moment is None else moment.timestamp()


def stats_table(report: LearningReport, *, pairs_per_row: int = 1) -> Table:
    """The statistics panel: figures with their labels, `pairs_per_row` side by side."""
    stats = report.stats
    table = Table.grid(padding=(0, 1), expand=True)
    for _ in range(pairs_per_row):
        table.add_column(style="bright_black", no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
    version = "-" if report.schema_version is None else str(report.schema_version)
    figures = [
        ("executions", str(stats.total_executions)),
        ("succeeded without retry", format_share(stats.success_without_retry_rate)),
        ("workspaces", str(stats.unique_workspaces)),
        ("patterns", str(stats.total_patterns)),
        ("mean effectiveness", f"{stats.avg_pattern_effectiveness:.2f}"),
        ("error recoveries", str(stats.total_error_recoveries)),
        (
            "error codes learned",
            str(sum(1 for row in report.waits if row.learned_seconds is not None)),
        ),
        ("schema version", version),
    ]
    for start in range(0, len(figures), pairs_per_row):
        row = [text for pair in figures[start : start + pairs_per_row] for text in pair]
        table.add_row(*row)
    return table


def execution_cells(record: ExecutionRecord) -> RowCells:
    """The row of one execution."""
    completed = record.completed_at
    status_style = STATUS_STYLES.get(record.status, "")
    return (
        Cell(
            "-" if completed is None else completed.strftime("%m-%d %H:%M"),
            (_stamp(completed), record.id),
            "bright_black",
        ),
        Cell(record.job_hash[:8], record.job_hash, "cyan"),
        Cell(str(record.sheet_num), record.sheet_num, justify="right"),
        Cell(record.status or "-", record.status, status_style),
        Cell(
            str(record.retry_count),
            record.retry_count,
            "yellow" if record.retry_count else "",
            "right",
        ),
        Cell(format_seconds(record.duration_seconds), record.duration_seconds, justify="right"),
        Cell(format_share(record.validation_pass_rate), record.validation_pass_rate, "", "right"),
        Cell(record.model or "-", record.model or ""),
        Cell(", ".join(record.error_codes) or "-", ",".join(record.error_codes), "red"),
    )


class _FittedTable(KeyedTable):
    """A keyed table whose content-sized columns are fitted to the rows at each sync."""

    def _sync(self, rows: Mapping[str, RowCells]) -> None:
        fit_content_columns(self, rows)
        self.sync_rows(rows)


def _newest_first(values: Sequence[SortValue]) -> SortValue:
    return values[0]


class ExecutionTable(_FittedTable):
    """The latest executions, newest first, keyed by execution ID.

    Args:
        kwargs: Passed on to `DataTable`.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(EXECUTION_COLUMNS, **kwargs)
        self.set_sort(_newest_first, reverse=True)

    def show(self, records: Sequence[ExecutionRecord]) -> None:
        """Show these executions."""
        self._sync({record.id: execution_cells(record) for record in records})


def wait_cells(row: WaitRow) -> RowCells:
    """The row of one error code's learned wait."""
    return (
        Cell(row.error_code, row.error_code, "red"),
        Cell(str(row.successful_samples), row.successful_samples, justify="right"),
        Cell(format_seconds(row.learned_seconds), row.learned_seconds or 0.0, justify="right"),
        Cell(format_seconds(row.wait.delay_seconds), row.wait.delay_seconds, justify="right"),
        Cell(f"{row.wait.confidence:.2f}", row.wait.confidence, justify="right"),
        Cell(row.wait.strategy, row.wait.strategy, "bright_black"),
    )


def _by_code(values: Sequence[SortValue]) -> SortValue:
    return values[0]


class WaitTable(_FittedTable):
    """The wait learned for each error code, keyed by the code.

    Args:
        kwargs: Passed on to `DataTable`.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(WAIT_COLUMNS, **kwargs)
        self.set_sort(_by_code)

    def show(self, waits: Sequence[WaitRow]) -> None:
        """Show these wait times."""
        self._sync({row.error_code: wait_cells(row) for row in waits})


class ClusterTable(_FittedTable):
    """Workspace clusters with their workspaces, keyed by cluster.

    Args:
        kwargs: Passed on to `DataTable`.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(CLUSTER_COLUMNS, **kwargs)
        self.set_sort(_by_code)

    def show(self, clusters: Sequence[WorkspaceCluster]) -> None:
        """Show the clusters, one row each with its workspace hashes."""
        members: dict[str, list[str]] = {}
        for cluster in clusters:
            members.setdefault(cluster.cluster_id or "-", []).append(cluster.workspace_hash)
        self._sync(
            {
                cluster_id: (
                    Cell(cluster_id, cluster_id, "cyan"),
                    Cell(str(len(hashes)), len(hashes), justify="right"),
                    Cell(", ".join(hash_[:12] for hash_ in hashes), ""),
                )
                for cluster_id, hashes in members.items()
            }
        )
