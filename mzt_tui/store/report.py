"""The text resource report of `mzt diagnose JOB --resources`, laid out like the conductor's.

Every line the conductor's report prints is printed the same way, except the syscall
section, whose figures are shares of syscall time that sum to 100 (the conductor sums
percentages over samples). Lines of ours are added: CPU time, per-sheet CPU time,
lifecycle detail and anomalies.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from mzt_tui.models.events import Anomaly, EventType, ProcessEvent
from mzt_tui.models.report import JobResourceProfile

MAX_HOTSPOTS = 10
MAX_SIGNAL_LINES = 10
MAX_OOM_LINES = 5
MAX_ANOMALY_LINES = 10


def no_data_report(job_id: str) -> str:
    """The conductor's exact text for a job with nothing recorded."""
    return f"Resource Profile for job '{job_id}':\n  No profiler data available.\n"


def _clock(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _summary_lines(profile: JobResourceProfile) -> list[str]:
    lines = [
        f"  Peak memory: {profile.peak_rss_mb:.1f} MB",
        f"  Process spawns: {profile.process_spawn_count}",
        f"  Unique PIDs observed: {profile.unique_pid_count}",
        f"  CPU time: {profile.total_cpu_seconds:.1f} s",
    ]
    if profile.peak_total_rss_mb > profile.peak_rss_mb:
        lines.append(f"  Peak memory of all processes together: {profile.peak_total_rss_mb:.1f} MB")
    if profile.first_seen is not None and profile.last_seen is not None:
        lines.append(
            f"  Observed: {_clock(profile.first_seen)} to {_clock(profile.last_seen)}"
            f" ({profile.sample_count} process samples)"
        )
    return lines


def _sheet_lines(profile: JobResourceProfile) -> list[str]:
    if not profile.sheet_metrics:
        return []
    lines = ["", "  Per-sheet resource peaks:"]
    for sheet_key in sorted(profile.sheet_metrics, key=int):
        sheet = profile.sheet_metrics[sheet_key]
        lines.append(
            f"    Sheet {sheet_key}: peak RSS {sheet.peak_rss_mb:.1f} MB,"
            f" max CPU {sheet.max_cpu_pct:.0f}%, CPU time {sheet.cpu_seconds:.1f} s"
        )
    return lines


def _hotspot_lines(profile: JobResourceProfile) -> list[str]:
    if not profile.syscall_hotspots:
        return []
    ranked = sorted(profile.syscall_hotspots.items(), key=lambda item: item[1], reverse=True)
    lines = ["", "  Syscall hotspots (share of syscall time):"]
    lines.extend(f"    {name}: {share:.1f}%" for name, share in ranked[:MAX_HOTSPOTS])
    return lines


def _event_lines(events: Sequence[ProcessEvent]) -> list[str]:
    if not events:
        return []
    lines: list[str] = []
    signals = [e for e in events if e.event_type in (EventType.SIGNAL, EventType.KILL)]
    ooms = [e for e in events if e.event_type is EventType.OOM]
    exits = [e for e in events if e.event_type is EventType.EXIT]
    spawns = [e for e in events if e.event_type is EventType.SPAWN]
    if signals:
        lines += ["", f"  Signals sent: {len(signals)}"]
        for event in signals[:MAX_SIGNAL_LINES]:
            parts = [f"PID {event.pid}"]
            if event.signal_num:
                parts.append(f"signal={event.signal_num}")
            if event.details:
                parts.append(event.details)
            lines.append("    " + " ".join(parts))
    if ooms:
        lines += ["", f"  OOM events: {len(ooms)}"]
        lines.extend(f"    PID {event.pid}: {event.details}" for event in ooms[:MAX_OOM_LINES])
    if spawns:
        lines += ["", f"  Process lifecycle: {len(spawns)} spawns, {len(exits)} exits"]
    kills = sum(1 for e in events if e.event_type is EventType.KILL)
    failed = sum(1 for e in exits if e.exit_code not in (None, 0))
    if exits or kills:
        if not spawns:
            lines += ["", f"  Process lifecycle: 0 spawns, {len(exits)} exits"]
        lines.append(f"    non-zero exits: {failed}, kills: {kills}, OOM kills: {len(ooms)}")
    return lines


def _anomaly_lines(anomalies: Sequence[Anomaly]) -> list[str]:
    if not anomalies:
        return []
    lines = ["", f"  Anomalies: {len(anomalies)}"]
    for anomaly in anomalies[-MAX_ANOMALY_LINES:]:
        where: list[str] = [anomaly.severity]
        if anomaly.sheet_num is not None:
            where.append(f"sheet {anomaly.sheet_num}")
        if anomaly.pid is not None:
            where.append(f"PID {anomaly.pid}")
        if anomaly.ended_at is None:
            span = f"since {_clock(anomaly.started_at)}"
        else:
            span = f"{_clock(anomaly.started_at)}, {anomaly.ended_at - anomaly.started_at:.0f} s"
        text = f"    {anomaly.anomaly_type.value} ({', '.join(where)}) {span}"
        lines.append(f"{text}: {anomaly.description}" if anomaly.description else text)
    return lines


def format_resource_report(
    profile: JobResourceProfile,
    events: Sequence[ProcessEvent],
    anomalies: Sequence[Anomaly],
) -> str:
    """Render the report from a job's profile, its events and its anomalies (time order)."""
    if not profile.has_data and not events and not anomalies:
        return no_data_report(profile.job_id)
    lines = [f"Resource Profile for job '{profile.job_id}':"]
    if profile.has_data:
        lines += _summary_lines(profile) + _sheet_lines(profile) + _hotspot_lines(profile)
    else:
        lines.append("  No process samples recorded.")
    lines += _event_lines(events) + _anomaly_lines(anomalies)
    lines.append("")
    return "\n".join(lines)
