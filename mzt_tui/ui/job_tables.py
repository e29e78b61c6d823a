"""The job screen's tables as keyed rows: per-sheet peaks, events and anomalies, patterns.

Each function builds the cells by row key from plain data; the screen syncs a `KeyedTable`
with them in place. Live peaks (seen by this app) and recorded ones (monitor.db) are merged
by taking the larger figure of each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import tzinfo

from mzt_tui.analysis.job_patterns import AppliedPattern
from mzt_tui.models import JobRecord, ProcessMetric
from mzt_tui.models.report import JobResourceProfile
from mzt_tui.store.profile import syscall_shares
from mzt_tui.ui.formatting import format_age, format_clock, format_mb
from mzt_tui.ui.job_series import SheetPeak
from mzt_tui.ui.job_tree_model import SHEET_STATUS_STYLES
from mzt_tui.ui.keyed_table import Cell, ColumnSpec, RowCells
from mzt_tui.ui.timeline_log import TimelineEntry

MAX_HOTSPOTS = 8
STRACE_HINT = "record them with `mzt top --headless --strace`"

PEAK_COLUMNS = (
    ColumnSpec("sheet", "SHEET", 6, justify="right"),
    ColumnSpec("state", "STATE", 16),
    ColumnSpec("rss", "PEAK RSS", 9, justify="right"),
    ColumnSpec("cpu", "PEAK CPU%", 9, justify="right"),
    ColumnSpec("cpu_time", "CPU TIME", 9, justify="right"),
    ColumnSpec("gpu", "PEAK GPU", 9, justify="right"),
    ColumnSpec("seen", "SEEN", 8, justify="right"),
)
EVENT_COLUMNS = (
    ColumnSpec("time", "TIME", 8),
    ColumnSpec("kind", "KIND", 15),
    ColumnSpec("sheet", "SHEET", 5, justify="right"),
    ColumnSpec("pid", "PID", 7, justify="right"),
    ColumnSpec("what", "WHAT"),
)
PATTERN_COLUMNS = (
    ColumnSpec("type", "TYPE", 20),
    ColumnSpec("confidence", "CONF", 5, justify="right"),
    ColumnSpec("why", "WHY IT APPLIES", 30),
    ColumnSpec("finding", "FINDING"),
)


def sheet_row_key(sheet_num: int) -> str:
    """The row key of a sheet in the peaks table."""
    return f"sheet:{sheet_num}"


def _merged_peak(
    sheet_num: int, live: SheetPeak | None, profile: JobResourceProfile | None
) -> SheetPeak:
    peak = live or SheetPeak(sheet_num)
    stored = profile.sheet_metrics.get(str(sheet_num)) if profile is not None else None
    if stored is None:
        return peak
    first = [t for t in (peak.first_seen, stored.first_seen) if t is not None]
    last = [t for t in (peak.last_seen, stored.last_seen) if t is not None]
    return SheetPeak(
        sheet_num,
        peak_rss_mb=max(peak.peak_rss_mb, stored.peak_total_rss_mb, stored.peak_rss_mb),
        peak_cpu_percent=max(peak.peak_cpu_percent, stored.max_cpu_pct),
        peak_gpu_memory_mb=peak.peak_gpu_memory_mb,
        cpu_seconds=max(peak.cpu_seconds, stored.cpu_seconds),
        first_seen=min(first) if first else None,
        last_seen=max(last) if last else None,
    )


def merged_peaks(
    live: Mapping[int, SheetPeak], profile: JobResourceProfile | None, job: JobRecord | None
) -> dict[int, SheetPeak]:
    """Every sheet with figures (live or recorded) or a registry state, by number."""
    numbers = set(live)
    if profile is not None:
        numbers |= {int(key) for key in profile.sheet_metrics if key.lstrip("-").isdigit()}
    if job is not None:
        numbers |= {num for num, sheet in job.sheets.items() if sheet.status != "pending"}
    return {num: _merged_peak(num, live.get(num), profile) for num in sorted(numbers)}


def peak_rows(peaks: Mapping[int, SheetPeak], job: JobRecord | None) -> dict[str, RowCells]:
    """The rows of the per-sheet peaks table."""
    rows: dict[str, RowCells] = {}
    for sheet_num, peak in peaks.items():
        sheet = job.sheets.get(sheet_num) if job is not None else None
        status = sheet.status if sheet is not None else ""
        if sheet is not None and sheet.finished and sheet.exit_code not in (None, 0):
            status = f"{status} ({sheet.exit_code})"
        seen = (
            peak.last_seen - peak.first_seen
            if peak.first_seen is not None and peak.last_seen is not None
            else None
        )
        gpu = peak.peak_gpu_memory_mb
        measured = peak.last_seen is not None  # a sheet never seen with processes has no figures
        rows[sheet_row_key(sheet_num)] = (
            Cell(str(sheet_num), sheet_num, justify="right"),
            Cell(status, status, SHEET_STATUS_STYLES.get(sheet.status, "") if sheet else ""),
            Cell(
                format_mb(peak.peak_rss_mb) if measured else "", peak.peak_rss_mb, justify="right"
            ),
            Cell(
                f"{peak.peak_cpu_percent:.0f}" if measured else "",
                peak.peak_cpu_percent,
                justify="right",
            ),
            Cell(
                format_age(peak.cpu_seconds) if measured else "", peak.cpu_seconds, justify="right"
            ),
            Cell(format_mb(gpu) if gpu > 0 else "", gpu, "magenta", justify="right"),
            Cell("" if seen is None else format_age(seen), seen or 0.0, justify="right"),
        )
    return rows


def live_hotspots(processes: Iterable[ProcessMetric], job_id: str) -> dict[str, float]:
    """Syscall time shares of the job's processes that carry an `strace -c` summary."""
    summaries = [
        (dict(p.syscall_time_pct), dict(p.syscall_counts))
        for p in processes
        if p.job_id == job_id and p.syscall_time_pct
    ]
    return syscall_shares(summaries) if summaries else {}


def hotspot_text(live: Mapping[str, float], profile: JobResourceProfile | None) -> str:
    """One line of syscall hotspots, or a line saying none were recorded and how to get them."""
    shares = dict(live) or (dict(profile.syscall_hotspots) if profile is not None else {})
    if not shares:
        return f"Syscall hotspots: none recorded for this job; {STRACE_HINT}."
    ranked = sorted(shares.items(), key=lambda item: item[1], reverse=True)[:MAX_HOTSPOTS]
    listed = " · ".join(f"{name} {share:.0f}%" for name, share in ranked)
    return f"Syscall hotspots (share of syscall time): {listed}"


def event_rows(entries: Sequence[TimelineEntry], timezone: tzinfo | None) -> dict[str, RowCells]:
    """The rows of the events and anomalies table."""
    return {
        entry.key: (
            Cell(format_clock(entry.timestamp, timezone), (entry.timestamp, entry.key)),
            Cell(entry.kind, style=entry.style),
            Cell(
                "" if entry.sheet_num is None else str(entry.sheet_num),
                entry.sheet_num if entry.sheet_num is not None else -1,
                entry.style,
                "right",
            ),
            Cell(str(entry.pid) if entry.pid else "", entry.pid or 0, entry.style, "right"),
            Cell(entry.text, style=entry.style),
        )
        for entry in entries
    }


def pattern_rows(applied: Sequence[AppliedPattern]) -> dict[str, RowCells]:
    """The rows of the learned-patterns table."""
    rows: dict[str, RowCells] = {}
    for index, item in enumerate(applied):
        pattern = item.pattern
        finding = pattern.description or pattern.pattern_name
        rows[pattern.id] = (
            Cell(pattern.pattern_type, (index,)),
            Cell(f"{item.confidence:.2f}", item.confidence, justify="right"),
            Cell(item.reason),
            Cell(finding),
        )
    return rows
