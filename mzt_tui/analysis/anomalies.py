"""Anomaly rules over successive snapshots: pure logic, no I/O.

Each rule watches one condition per subject (a process, identified by `(pid, start time)`; a
GPU; the system). A condition that persists is ONE anomaly: it opens when the rule first
fires and closes (gets `ended_at`) on the first tick it no longer holds or its subject is
gone. `AnomalyDetector.update` returns what opened and closed on that tick.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mzt_tui.models import (
    Anomaly,
    AnomalyConfig,
    AnomalyType,
    ProcessMetric,
    Severity,
    SystemSnapshot,
)

SubjectKey = tuple[AnomalyType, str]
ProcessKey = tuple[int, float | None]
_MIN_GROWTH_SAMPLES = 5
_MIN_GROWTH_R_SQUARED = 0.8


@dataclass(frozen=True)
class _Finding:
    """A rule's verdict for one subject on one tick."""

    anomaly_type: AnomalyType
    subject: str
    severity: Severity
    description: str
    metric_value: float
    threshold: float
    process: ProcessMetric | None = None


@dataclass(frozen=True)
class AnomalyChanges:
    """What one tick changed: anomalies that opened, and anomalies that closed."""

    opened: tuple[Anomaly, ...] = ()
    closed: tuple[Anomaly, ...] = ()


def default_scope(snapshot: SystemSnapshot) -> Callable[[ProcessMetric], bool]:
    """Watch job processes and the conductor itself."""
    conductor = snapshot.daemon_pid
    return lambda process: (
        process.job_id is not None or (conductor > 0 and process.pid == conductor)
    )


@dataclass
class AnomalyDetector:
    """Turns a stream of snapshots into anomalies with a start and an end."""

    config: AnomalyConfig = field(default_factory=AnomalyConfig)
    scope: Callable[[SystemSnapshot], Callable[[ProcessMetric], bool]] = default_scope
    _open: dict[SubjectKey, Anomaly] = field(default_factory=dict)
    _rss_history: dict[ProcessKey, deque[tuple[float, float]]] = field(default_factory=dict)
    _cpu_high_since: dict[ProcessKey, float] = field(default_factory=dict)
    _gpu_idle_since: dict[int, float] = field(default_factory=dict)

    @property
    def open_anomalies(self) -> list[Anomaly]:
        """Anomalies whose condition still holds."""
        return list(self._open.values())

    def update(self, snapshot: SystemSnapshot) -> AnomalyChanges:
        """Apply every rule to `snapshot` and return the anomalies it opened and closed."""
        now = snapshot.timestamp
        in_scope = self.scope(snapshot)
        watched = [process for process in snapshot.processes if in_scope(process)]
        findings = [
            *self._process_findings(watched, now),
            *self._system_findings(snapshot),
            *self._gpu_findings(snapshot, now),
        ]
        self._forget_gone(watched)
        return self._reconcile(findings, now)

    def _process_findings(self, processes: Iterable[ProcessMetric], now: float) -> list[_Finding]:
        config = self.config
        findings: list[_Finding] = []
        for process in processes:
            key: ProcessKey = (process.pid, process.start_time)
            subject = f"{process.pid}:{process.start_time}"
            history = self._rss_history.setdefault(key, deque())
            history.append((now, process.rss_mb))
            horizon = max(config.memory_spike_window_seconds, config.memory_growth_window_seconds)
            while history and history[0][0] < now - horizon:
                history.popleft()
            spike = _memory_spike(history, now, config)
            if spike is not None:
                before, after = spike
                growth_pct = (after / before - 1.0) * 100.0
                findings.append(
                    _Finding(
                        AnomalyType.MEMORY_SPIKE,
                        subject,
                        "critical" if after / before >= 2.0 else "high",
                        f"PID {process.pid} RSS grew {growth_pct:.0f}% "
                        f"({before:.0f}\u2192{after:.0f} MB) in "
                        f"{config.memory_spike_window_seconds:.0f}s",
                        after,
                        before * config.memory_spike_factor,
                        process,
                    )
                )
            slope = _growth_slope_mb_per_minute(history, now, config)
            if slope is not None and slope >= config.memory_growth_mb_per_minute:
                findings.append(
                    _Finding(
                        AnomalyType.MEMORY_GROWTH,
                        subject,
                        "medium",
                        f"PID {process.pid} RSS growing steadily at {slope:.0f} MB/min "
                        f"(now {process.rss_mb:.0f} MB)",
                        slope,
                        config.memory_growth_mb_per_minute,
                        process,
                    )
                )
            if process.cpu_percent >= config.runaway_cpu_percent:
                since = self._cpu_high_since.setdefault(key, now)
                if now - since >= config.runaway_cpu_seconds:
                    findings.append(
                        _Finding(
                            AnomalyType.RUNAWAY_CPU,
                            subject,
                            "high",
                            f"PID {process.pid} at {process.cpu_percent:.0f}% CPU for "
                            f"{now - since:.0f}s",
                            process.cpu_percent,
                            config.runaway_cpu_percent,
                            process,
                        )
                    )
            else:
                self._cpu_high_since.pop(key, None)
            if process.state == "Z":
                findings.append(
                    _Finding(
                        AnomalyType.ZOMBIE,
                        subject,
                        "medium",
                        f"PID {process.pid} is a zombie (parent {process.ppid} has not reaped it)",
                        1.0,
                        float(config.zombie_count),
                        process,
                    )
                )
            if process.open_fds >= config.fd_threshold:
                findings.append(
                    _Finding(
                        AnomalyType.FD_EXHAUSTION,
                        subject,
                        "high",
                        f"PID {process.pid} holds {process.open_fds} open file descriptors",
                        float(process.open_fds),
                        float(config.fd_threshold),
                        process,
                    )
                )
        return findings

    def _system_findings(self, snapshot: SystemSnapshot) -> list[_Finding]:
        total = snapshot.system_memory_total_mb
        if total <= 0:
            return []
        available_pct = snapshot.system_memory_available_mb / total * 100.0
        if available_pct >= self.config.low_memory_percent:
            return []
        return [
            _Finding(
                AnomalyType.LOW_MEMORY,
                "system",
                "critical" if available_pct < self.config.low_memory_percent / 2 else "high",
                f"Only {available_pct:.1f}% of system memory available "
                f"({snapshot.system_memory_available_mb:.0f} of {total:.0f} MB)",
                available_pct,
                self.config.low_memory_percent,
            )
        ]

    def _gpu_findings(self, snapshot: SystemSnapshot, now: float) -> list[_Finding]:
        config = self.config
        findings: list[_Finding] = []
        seen: set[int] = set()
        for gpu in snapshot.gpus:
            seen.add(gpu.index)
            idle_with_memory = (
                gpu.utilization_pct <= config.gpu_idle_utilization_pct
                and gpu.memory_used_mb >= config.gpu_idle_memory_mb
            )
            if not idle_with_memory:
                self._gpu_idle_since.pop(gpu.index, None)
                continue
            since = self._gpu_idle_since.setdefault(gpu.index, now)
            if now - since >= config.gpu_idle_seconds:
                findings.append(
                    _Finding(
                        AnomalyType.GPU_IDLE_MEMORY,
                        f"gpu:{gpu.index}",
                        "medium",
                        f"GPU {gpu.index} holds {gpu.memory_used_mb:.0f} MB while "
                        f"{gpu.utilization_pct:.0f}% busy for {now - since:.0f}s",
                        gpu.memory_used_mb,
                        config.gpu_idle_memory_mb,
                    )
                )
        for index in set(self._gpu_idle_since) - seen:
            del self._gpu_idle_since[index]
        return findings

    def _forget_gone(self, processes: Iterable[ProcessMetric]) -> None:
        alive = {(process.pid, process.start_time) for process in processes}
        for key in set(self._rss_history) - alive:
            del self._rss_history[key]
        for key in set(self._cpu_high_since) - alive:
            del self._cpu_high_since[key]

    def _reconcile(self, findings: list[_Finding], now: float) -> AnomalyChanges:
        current: dict[SubjectKey, _Finding] = {}
        for finding in findings:
            current.setdefault((finding.anomaly_type, finding.subject), finding)
        opened: list[Anomaly] = []
        for key, finding in current.items():
            if key in self._open:
                continue
            process = finding.process
            anomaly = Anomaly(
                anomaly_type=finding.anomaly_type,
                severity=finding.severity,
                started_at=now,
                pid=process.pid if process else None,
                job_id=process.job_id if process else None,
                sheet_num=process.sheet_num if process else None,
                description=finding.description,
                metric_value=finding.metric_value,
                threshold=finding.threshold,
            )
            self._open[key] = anomaly
            opened.append(anomaly)
        closed: list[Anomaly] = []
        for key in [key for key in self._open if key not in current]:
            closed.append(self._open.pop(key).model_copy(update={"ended_at": now}))
        return AnomalyChanges(opened=tuple(opened), closed=tuple(closed))


def _memory_spike(
    history: deque[tuple[float, float]], now: float, config: AnomalyConfig
) -> tuple[float, float] | None:
    """Return (before, after) RSS when RSS grew by the spike factor within the window."""
    window_start = now - config.memory_spike_window_seconds
    earlier = [rss for stamp, rss in history if window_start <= stamp < now]
    if not earlier:
        return None
    before = min(earlier)
    after = history[-1][1]
    if before > 0 and after >= before * config.memory_spike_factor:
        return before, after
    return None


def _growth_slope_mb_per_minute(
    history: deque[tuple[float, float]], now: float, config: AnomalyConfig
) -> float | None:
    """Least-squares RSS slope over the growth window, when the fit is a steady line."""
    window_start = now - config.memory_growth_window_seconds
    points = [(stamp, rss) for stamp, rss in history if stamp >= window_start]
    if len(points) < _MIN_GROWTH_SAMPLES:
        return None
    span = points[-1][0] - points[0][0]
    if span < config.memory_growth_window_seconds / 2:
        return None
    count = len(points)
    mean_t = sum(stamp for stamp, _ in points) / count
    mean_r = sum(rss for _, rss in points) / count
    covariance = sum((stamp - mean_t) * (rss - mean_r) for stamp, rss in points)
    variance_t = sum((stamp - mean_t) ** 2 for stamp, _ in points)
    variance_r = sum((rss - mean_r) ** 2 for _, rss in points)
    if variance_t == 0 or variance_r == 0:
        return None
    slope_per_second = covariance / variance_t
    r_squared = covariance * covariance / (variance_t * variance_r)
    if r_squared < _MIN_GROWTH_R_SQUARED:
        return None
    return slope_per_second * 60.0
