"""What the job tree shows, as plain rows: job → sheet → process tree, plus the other processes.

`build_job_tree` turns one `TickResult` into an ordered list of `JobTreeRow` (parents before
children). The `JobTree` widget then syncs its nodes to these rows by key. Nothing here touches
a widget, so the rules (which jobs, which sheets, what totals) are tested without a screen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from mzt_tui.headless.engine import TickResult
from mzt_tui.models import JobRecord, ProcessMetric, SheetState
from mzt_tui.ui.formatting import command_name, format_age, format_mb

NodeKind = Literal["conductor", "job", "sheet", "process", "group", "note"]
OTHER_GROUP_KEY = "group:other"
RECENT_FINISHED_JOBS = 3
MAX_SHEETS_PER_JOB = 20
MAX_OTHER_PROCESSES = 40

JOB_STATUS_STYLES = {
    "running": "bold green",
    "completed": "green",
    "failed": "bold red",
    "cancelled": "red",
    "paused": "yellow",
    "paused_at_chain": "yellow",
    "queued": "cyan",
    "pending": "cyan",
}
SHEET_STATUS_STYLES = {
    "in_progress": "bold green",
    "dispatched": "green",
    "completed": "green",
    "failed": "bold red",
    "cancelled": "red",
    "skipped": "bright_black",
    "retry_scheduled": "yellow",
    "waiting": "yellow",
    "fermata": "yellow",
    "ready": "cyan",
}
PROCESS_STATE_STYLES = {"R": "bold green", "D": "yellow", "Z": "bold red", "T": "yellow"}


@dataclass(frozen=True, slots=True)
class NodeRef:
    """What a tree node stands for (kept as the node's data)."""

    kind: NodeKind
    key: str
    job_id: str | None = None
    sheet_num: int | None = None
    pid: int | None = None


@dataclass(frozen=True, slots=True)
class JobTreeRow:
    """One node of the job tree as data.

    Attributes:
        key: Stable identity of the node across ticks.
        parent: The parent's key; None for a top-level node.
        ref: What the node stands for.
        name: The first column.
        name_style: Style of the first column.
        cells: `(column id, text, style)` for the other columns.
        expandable: Whether the node has children to show.
        expanded: Whether the node starts expanded when it first appears.
    """

    key: str
    parent: str | None
    ref: NodeRef
    name: str
    name_style: str = ""
    cells: tuple[tuple[str, str, str], ...] = ()
    expandable: bool = False
    expanded: bool = False


@dataclass(frozen=True, slots=True)
class _Totals:
    cpu_percent: float = 0.0
    rss_mb: float = 0.0
    threads: int = 0
    open_fds: int = 0
    gpu_memory_mb: float = 0.0

    @staticmethod
    def of(processes: Iterable[ProcessMetric]) -> _Totals:
        cpu = rss = gpu = 0.0
        threads = fds = 0
        for process in processes:
            cpu += process.cpu_percent
            rss += process.rss_mb
            gpu += process.gpu_memory_mb
            threads += process.threads
            fds += process.open_fds
        return _Totals(cpu, rss, threads, fds, gpu)


def process_key(process: ProcessMetric) -> str:
    """The node key of a process: its PID and start time (PIDs are reused)."""
    return f"proc:{process.pid}:{process.start_time or 0.0:.2f}"


def _resource_cells(
    totals: _Totals | None, *, state: tuple[str, str], progress: str, age: str
) -> tuple[tuple[str, str, str], ...]:
    """The columns of a node; `totals` None (nothing running) leaves the resources blank."""
    cells = [("state", state[0], state[1]), ("progress", progress, "")]
    if totals is not None:
        gpu = format_mb(totals.gpu_memory_mb) if totals.gpu_memory_mb > 0 else ""
        cells += [
            ("cpu", f"{totals.cpu_percent:.1f}", ""),
            ("rss", format_mb(totals.rss_mb), ""),
            ("threads", str(totals.threads), ""),
            ("fds", str(totals.open_fds), ""),
            ("gpu", gpu, "magenta"),
        ]
    cells.append(("age", age, "bright_black"))
    return tuple(cells)


def _process_row(process: ProcessMetric, parent: str, *, has_children: bool) -> JobTreeRow:
    key = process_key(process)
    name_style = "italic" if process.attribution_guessed else ""
    return JobTreeRow(
        key=key,
        parent=parent,
        ref=NodeRef("process", key, process.job_id, process.sheet_num, process.pid),
        name=f"{process.pid} {command_name(process.command)}",
        name_style=name_style,
        cells=_resource_cells(
            _Totals.of((process,)),
            state=(process.state, PROCESS_STATE_STYLES.get(process.state, "")),
            progress="",
            age=format_age(process.age_seconds),
        ),
        expandable=has_children,
        expanded=True,
    )


def _process_forest(processes: Sequence[ProcessMetric], parent: str) -> list[JobTreeRow]:
    """Rows for `processes` nested by parent PID under `parent`, depth first, by PID."""
    pids = {process.pid for process in processes}
    children: dict[int, list[ProcessMetric]] = defaultdict(list)
    roots: list[ProcessMetric] = []
    for process in sorted(processes, key=lambda p: p.pid):
        if process.ppid in pids and process.ppid != process.pid:
            children[process.ppid].append(process)
        else:
            roots.append(process)
    rows: list[JobTreeRow] = []
    seen: set[int] = set()

    def add(process: ProcessMetric, parent_key: str) -> None:
        if process.pid in seen:
            return
        seen.add(process.pid)
        rows.append(_process_row(process, parent_key, has_children=bool(children[process.pid])))
        for child in children[process.pid]:
            add(child, process_key(process))

    for root in roots:
        add(root, parent)
    return rows


def _job_age(job: JobRecord, now: float) -> str:
    if job.started_at is None:
        return ""
    end = now if job.running or job.completed_at is None else job.completed_at
    return format_age(end - job.started_at)


def _sheet_row(
    job_id: str, sheet: SheetState, processes: Sequence[ProcessMetric], now: float
) -> JobTreeRow:
    key = f"sheet:{job_id}:{sheet.sheet_num}"
    state = sheet.status
    if sheet.finished and sheet.exit_code not in (None, 0):
        state = f"{state} ({sheet.exit_code})"
    if sheet.active and sheet.started_at is not None:
        age = format_age(now - sheet.started_at.timestamp())
    elif sheet.execution_duration_seconds is not None:
        age = format_age(sheet.execution_duration_seconds)
    else:
        age = ""
    instrument = f" {sheet.instrument_name}" if sheet.instrument_name else ""
    return JobTreeRow(
        key=key,
        parent=f"job:{job_id}",
        ref=NodeRef("sheet", key, job_id, sheet.sheet_num),
        name=f"sheet {sheet.sheet_num}{instrument}",
        name_style="" if sheet.active or processes else "bright_black",
        cells=_resource_cells(
            _Totals.of(processes) if processes else None,
            state=(state, SHEET_STATUS_STYLES.get(sheet.status, "")),
            progress=f"#{sheet.attempt_count}" if sheet.attempt_count > 1 else "",
            age=age,
        ),
        expandable=bool(processes),
        expanded=sheet.active,
    )


def _sheets_to_show(job: JobRecord, by_sheet: dict[int | None, list[ProcessMetric]]) -> list[int]:
    wanted = {num for num, sheet in job.sheets.items() if sheet.status != "pending"}
    wanted |= {num for num in by_sheet if num is not None}
    if len(wanted) <= MAX_SHEETS_PER_JOB:
        return sorted(wanted)
    keep = {
        num for num in wanted if num in by_sheet or (num in job.sheets and job.sheets[num].active)
    }
    for num in sorted(wanted, reverse=True):
        if len(keep) >= MAX_SHEETS_PER_JOB:
            break
        keep.add(num)
    return sorted(keep)


def _job_rows(job: JobRecord, processes: Sequence[ProcessMetric], now: float) -> list[JobTreeRow]:
    key = f"job:{job.job_id}"
    by_sheet: dict[int | None, list[ProcessMetric]] = defaultdict(list)
    for process in processes:
        by_sheet[process.sheet_num].append(process)
    status = job.status if job.conductor_alive else f"{job.status}?"
    total = job.sheet_total
    rows = [
        JobTreeRow(
            key=key,
            parent=None,
            ref=NodeRef("job", key, job.job_id),
            name=job.job_id,
            name_style="bold" if job.running else "",
            cells=_resource_cells(
                _Totals.of(processes) if processes else None,
                state=(status, JOB_STATUS_STYLES.get(job.status, "")),
                progress=f"{job.sheets_done}/{total}" if total else "",
                age=_job_age(job, now),
            ),
            expandable=True,
            expanded=job.running,
        )
    ]
    for sheet_num in _sheets_to_show(job, by_sheet):
        sheet = job.sheets.get(sheet_num) or SheetState(sheet_num=sheet_num, status="in_progress")
        sheet_processes = by_sheet.get(sheet_num, [])
        sheet_row = _sheet_row(job.job_id, sheet, sheet_processes, now)
        rows.append(sheet_row)
        rows.extend(_process_forest(sheet_processes, sheet_row.key))
    rows.extend(_process_forest(by_sheet.get(None, []), key))
    return rows


def _matches(text_filter: str, *texts: str) -> bool:
    return not text_filter or any(text_filter in text.lower() for text in texts)


def _jobs_to_show(
    result: TickResult, by_job: dict[str, list[ProcessMetric]], score: str | None
) -> list[JobRecord]:
    shown: list[JobRecord] = []
    finished = 0
    known: set[str] = set()
    for job in result.jobs:
        known.add(job.job_id)
        if job.running or job.job_id in by_job:
            shown.append(job)
        elif finished < RECENT_FINISHED_JOBS:
            shown.append(job)
            finished += 1
    shown.extend(
        JobRecord(job_id=job_id, status="unknown") for job_id in by_job if job_id not in known
    )
    if score is not None:
        shown = [job for job in shown if job.job_id == score]
    return shown


def _other_rows(
    others: Sequence[ProcessMetric], *, conductor_found: bool, expanded: bool, max_other: int
) -> list[JobTreeRow]:
    label = "other processes" if conductor_found else "system processes"
    rows = [
        JobTreeRow(
            key=OTHER_GROUP_KEY,
            parent=None,
            ref=NodeRef("group", OTHER_GROUP_KEY),
            name=f"{label} ({len(others)})",
            name_style="bright_black" if conductor_found else "",
            cells=_resource_cells(_Totals.of(others), state=("", ""), progress="", age=""),
            expandable=bool(others),
            expanded=expanded,
        )
    ]
    busiest = sorted(others, key=lambda p: (-p.cpu_percent, -p.rss_mb, p.pid))[:max_other]
    rows.extend(_process_row(process, OTHER_GROUP_KEY, has_children=False) for process in busiest)
    if len(others) > len(busiest):
        note_key = f"{OTHER_GROUP_KEY}:more"
        rows.append(
            JobTreeRow(
                key=note_key,
                parent=OTHER_GROUP_KEY,
                ref=NodeRef("note", note_key),
                name=f"… {len(others) - len(busiest)} more (p: every process)",
                name_style="bright_black",
            )
        )
    return rows


def build_job_tree(
    result: TickResult,
    *,
    score: str | None = None,
    text_filter: str = "",
    max_other: int = MAX_OTHER_PROCESSES,
) -> list[JobTreeRow]:
    """The rows of the job tree for one tick, parents before children, in display order.

    Args:
        result: The tick to show.
        score: Show only this job (`--score`), and no other processes.
        text_filter: Keep jobs whose id or processes contain this text (case-insensitive), and
            other processes whose command or PID contains it.
        max_other: How many of the busiest other processes to list.

    Returns:
        The rows; an empty filter and no jobs give just the other processes' group.
    """
    now = result.snapshot.timestamp
    needle = text_filter.strip().lower()
    conductor_pid = result.conductor.pid
    by_job: dict[str, list[ProcessMetric]] = defaultdict(list)
    others: list[ProcessMetric] = []
    conductor: ProcessMetric | None = None
    for process in result.all_processes:
        if conductor_pid is not None and process.pid == conductor_pid:
            conductor = process
        elif process.job_id is not None:
            by_job[process.job_id].append(process)
        else:
            others.append(process)
    rows: list[JobTreeRow] = []
    if conductor is not None and score is None and _matches(needle, "conductor"):
        rows.append(
            JobTreeRow(
                key="conductor",
                parent=None,
                ref=NodeRef("conductor", "conductor", pid=conductor.pid),
                name=f"conductor {conductor.pid}",
                name_style="bold cyan",
                cells=_resource_cells(
                    _Totals.of((conductor,)),
                    state=(conductor.state, PROCESS_STATE_STYLES.get(conductor.state, "")),
                    progress="",
                    age=format_age(conductor.age_seconds),
                ),
            )
        )
    job_rows_added = False
    for job in _jobs_to_show(result, by_job, score):
        processes = by_job.get(job.job_id, [])
        texts = [job.job_id, *(p.command for p in processes), *(str(p.pid) for p in processes)]
        if _matches(needle, *texts):
            rows.extend(_job_rows(job, processes, now))
            job_rows_added = True
    if score is None:
        shown_others = [p for p in others if _matches(needle, p.command, str(p.pid))]
        rows.extend(
            _other_rows(
                shown_others,
                conductor_found=conductor_pid is not None,
                expanded=not job_rows_added,
                max_other=max_other,
            )
        )
    return rows
