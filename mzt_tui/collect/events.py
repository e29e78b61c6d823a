"""Lifecycle events from tick-to-tick differences: spawn, exit, signal, kill, oom.

A process is identified by `(pid, start time)`, so a reused PID is a new process. Exit codes
and signals come from the registry's sheet record (the conductor reaped the sheet's root
process and wrote how it ended); when the record is not there yet, the exit waits up to
`pending_ticks` ticks for it, then goes out with what is known. `oom` is emitted only with
evidence from the `OomEvidence` source (cgroup `memory.events` or a readable kernel log),
never guessed from a vanished process.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from mzt_tui.models import EventType, JobRecord, ProcessEvent, ProcessMetric, SheetState

ProcessKey = tuple[int, float | None]
OomEvidence = Callable[[int], str | None]
"""Returns a description of the evidence that `pid` was OOM-killed, or None."""


def _no_oom_evidence(pid: int) -> str | None:
    return None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


@dataclass
class _PendingExit:
    process: ProcessMetric
    gone_at: float
    ticks_waited: int = 0


@dataclass
class EventTracker:
    """Emits events for the processes that appeared and vanished between ticks.

    Sheet roots are the conductor's direct children; their exits wait for the registry.

    Args:
        oom_evidence: Where OOM kills are confirmed.
        pending_ticks: How many ticks a sheet root's exit waits for the registry record.
    """

    oom_evidence: OomEvidence = _no_oom_evidence
    pending_ticks: int = 2
    _known: dict[ProcessKey, ProcessMetric] = field(default_factory=dict)
    _pending: list[_PendingExit] = field(default_factory=list)
    _started: bool = False

    def update(
        self,
        now: float,
        processes: Iterable[ProcessMetric],
        conductor_pid: int | None,
        jobs: Mapping[str, JobRecord],
    ) -> list[ProcessEvent]:
        """Compare this tick's tracked processes with the last tick's and return events.

        The first call only learns what is running: processes already there are not spawns.
        """
        current = {(process.pid, process.start_time): process for process in processes}
        events: list[ProcessEvent] = []
        if self._started:
            for key, process in current.items():
                if key not in self._known:
                    events.append(self._spawn(now, process))
            for key, process in self._known.items():
                if key not in current:
                    self._pending.append(_PendingExit(process, now))
        self._started = True
        self._known = current
        events.extend(self._resolve_pending(conductor_pid, jobs))
        return events

    def flush(self, conductor_pid: int | None, jobs: Mapping[str, JobRecord]) -> list[ProcessEvent]:
        """Emit every pending exit now (on shutdown)."""
        self.pending_ticks = 0
        return self._resolve_pending(conductor_pid, jobs)

    @staticmethod
    def _spawn(now: float, process: ProcessMetric) -> ProcessEvent:
        return ProcessEvent(
            timestamp=now,
            pid=process.pid,
            event_type=EventType.SPAWN,
            job_id=process.job_id,
            sheet_num=process.sheet_num,
            details=process.command[:200],
        )

    def _resolve_pending(
        self, conductor_pid: int | None, jobs: Mapping[str, JobRecord]
    ) -> list[ProcessEvent]:
        events: list[ProcessEvent] = []
        still_waiting: list[_PendingExit] = []
        for pending in self._pending:
            process = pending.process
            oom = self.oom_evidence(process.pid)
            if oom is not None:
                events.append(self._event(pending, EventType.OOM, details=oom, signal_num=9))
                continue
            is_root = conductor_pid is not None and process.ppid == conductor_pid
            sheet = _sheet_record(jobs, process) if is_root else None
            if is_root and sheet is None and pending.ticks_waited < self.pending_ticks:
                pending.ticks_waited += 1
                still_waiting.append(pending)
                continue
            events.append(self._exit_event(pending, sheet))
        self._pending = still_waiting
        return events

    def _exit_event(self, pending: _PendingExit, sheet: SheetState | None) -> ProcessEvent:
        if sheet is None:
            return self._event(pending, EventType.EXIT, details="exited")
        if sheet.exit_signal:
            kind = EventType.KILL if sheet.exit_signal == signal.SIGKILL else EventType.SIGNAL
            return self._event(
                pending,
                kind,
                signal_num=sheet.exit_signal,
                details=f"Sheet {sheet.sheet_num} ended by {_signal_name(sheet.exit_signal)}",
            )
        return self._event(
            pending,
            EventType.EXIT,
            exit_code=sheet.exit_code,
            details=f"Sheet {sheet.sheet_num} {sheet.status}",
        )

    @staticmethod
    def _event(
        pending: _PendingExit,
        kind: EventType,
        *,
        details: str,
        exit_code: int | None = None,
        signal_num: int | None = None,
    ) -> ProcessEvent:
        process = pending.process
        return ProcessEvent(
            timestamp=pending.gone_at,
            pid=process.pid,
            event_type=kind,
            exit_code=exit_code,
            signal_num=signal_num,
            job_id=process.job_id,
            sheet_num=process.sheet_num,
            details=details,
        )


def _sheet_record(jobs: Mapping[str, JobRecord], process: ProcessMetric) -> SheetState | None:
    """The sheet record of a sheet root, once the registry says the attempt is over."""
    if process.job_id is None or process.sheet_num is None:
        return None
    job = jobs.get(process.job_id)
    if job is None:
        return None
    sheet = job.sheets.get(process.sheet_num)
    if sheet is None or sheet.active:
        return None
    return sheet
