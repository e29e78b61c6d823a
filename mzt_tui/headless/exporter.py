"""`mzt top --headless --prometheus HOST:PORT`: the latest tick as Prometheus metrics.

A custom collector builds every metric family from the latest `TickResult` at scrape time,
so the series of a sheet whose processes are gone disappear by themselves on the next
tick. Series are per job and sheet, never per PID (a PID label would grow without bound).
prometheus_client serves them on its own thread, in OpenMetrics when the scraper asks for
it (Accept negotiation), else in the classic text format.

Units are in the names (`_bytes`, `_percent`, `_celsius`, `_watts`, `_seconds`); memory the
collector reads in MiB is exported in bytes.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from wsgiref.simple_server import WSGIServer

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import start_http_server
from prometheus_client.registry import Collector, CollectorRegistry

from mzt_tui.headless.engine import TickResult
from mzt_tui.models import Anomaly, JobRecord, ProcessMetric
from mzt_tui.models.errors import MztError, UsageError
from mzt_tui.models.jobs import SHEET_FINAL_STATUSES

MIB = 1024 * 1024
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9108
ENDED_JOB_GRACE_SECONDS = 600.0
"""A job's counters stay this long after it ends, so a scrape sees their final values."""

JOB_LABELS = ("job", "sheet")
GPU_LABELS = ("gpu", "name")

AnomalyKey = tuple[str, float, int | None, str | None]
SheetKey = tuple[str, int, int]


def parse_listen_address(text: str) -> tuple[str, int]:
    """Parse `HOST:PORT`, `:PORT` (loopback) or `[IPv6]:PORT` for `--prometheus`.

    Raises:
        UsageError: Not an address with a port from 1 to 65535.
    """
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise UsageError(
            f"invalid --prometheus {text!r}: expected HOST:PORT or :PORT with a port from 1"
            " to 65535 (e.g. 127.0.0.1:9108)"
        )
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host or DEFAULT_HOST, int(port_text)


def _sheet_label(sheet_num: int | None) -> str:
    return "" if sheet_num is None else str(sheet_num)


@dataclass
class _JobTotals:
    cpu_percent: float = 0.0
    rss_bytes: float = 0.0
    fds: int = 0
    threads: int = 0
    gpu_memory_bytes: float = 0.0
    processes: int = 0

    def add(self, process: ProcessMetric) -> None:
        self.cpu_percent += process.cpu_percent
        self.rss_bytes += process.rss_mb * MIB
        self.fds += process.open_fds
        self.threads += process.threads
        self.gpu_memory_bytes += process.gpu_memory_mb * MIB
        self.processes += 1


@dataclass(eq=False)
class TickCollector(Collector):
    """Turns the latest tick into metric families at each scrape.

    `update` runs in the tick thread, `collect` in the HTTP server's threads; both hold
    the lock only to swap or copy plain state.

    Args:
        cpu_seconds: The monitor's own CPU seconds so far (the process's, all threads).
    """

    cpu_seconds: Callable[[], float] = time.process_time
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _latest: TickResult | None = None
    _ticks: int = 0
    _open_anomalies: dict[AnomalyKey, Anomaly] = field(default_factory=dict)
    _anomalies_opened: dict[tuple[str, str], int] = field(default_factory=dict)
    _outcomes: dict[tuple[str, str], int] = field(default_factory=dict)
    _seen_final: set[SheetKey] = field(default_factory=set)
    _known_jobs: set[str] = field(default_factory=set)
    _kept_jobs: frozenset[str] = frozenset()

    def update(self, result: TickResult) -> None:
        """Take one tick (the tick loop's emit calls it after recording)."""
        with self._lock:
            self._latest = result
            self._ticks += 1
            for anomaly in result.anomalies.opened:
                self._open_anomalies[_anomaly_key(anomaly)] = anomaly
                key = (anomaly.job_id or "", anomaly.anomaly_type.value)
                self._anomalies_opened[key] = self._anomalies_opened.get(key, 0) + 1
            for anomaly in result.anomalies.closed:
                self._open_anomalies.pop(_anomaly_key(anomaly), None)
            self._count_outcomes(result.jobs)
            self._kept_jobs = _kept_jobs(result)
            self._anomalies_opened = {
                key: count
                for key, count in self._anomalies_opened.items()
                if key[0] == "" or key[0] in self._kept_jobs
            }
            self._outcomes = {
                key: count for key, count in self._outcomes.items() if key[0] in self._kept_jobs
            }
            self._seen_final = {key for key in self._seen_final if key[0] in self._kept_jobs}
            self._known_jobs &= self._kept_jobs

    def _count_outcomes(self, jobs: Iterable[JobRecord]) -> None:
        """Count each sheet attempt that reached a final status since the job was first seen."""
        for job in jobs:
            first_sight = job.job_id not in self._known_jobs
            self._known_jobs.add(job.job_id)
            for sheet in job.sheets.values():
                if sheet.status not in SHEET_FINAL_STATUSES:
                    continue
                key = (job.job_id, sheet.sheet_num, sheet.attempt_count)
                if key in self._seen_final:
                    continue
                self._seen_final.add(key)
                if not first_sight:
                    outcome = (job.job_id, sheet.status)
                    self._outcomes[outcome] = self._outcomes.get(outcome, 0) + 1

    def describe(self) -> Iterable[Metric]:
        """Nothing: the families depend on the ticks, so registering must not collect."""
        return ()

    def collect(self) -> Iterator[Metric]:
        """Build every family from the latest tick (called by prometheus_client per scrape)."""
        with self._lock:
            latest = self._latest
            ticks = self._ticks
            open_anomalies = list(self._open_anomalies.values())
            opened = dict(self._anomalies_opened)
            outcomes = dict(self._outcomes)
            kept_jobs = self._kept_jobs
        yield _counter("mzt_ticks", "Collection ticks taken since the monitor started.", ticks)
        monitor_cpu = CounterMetricFamily(
            "mzt_monitor_cpu_seconds", "CPU seconds the monitor itself has used (all threads)."
        )
        monitor_cpu.add_metric([], self.cpu_seconds())
        yield monitor_cpu
        if latest is None:
            return
        yield from _monitor_families(latest)
        yield from _job_families(latest)
        yield from _sheet_status_families(latest.jobs, kept_jobs)
        yield from _anomaly_families(open_anomalies, opened)
        outcome_family = CounterMetricFamily(
            "mzt_sheet_outcomes",
            "Sheet attempts that reached a final status (completed, failed, skipped,"
            " cancelled) since the monitor first saw the job.",
            labels=("job", "outcome"),
        )
        for (job, outcome), count in sorted(outcomes.items()):
            outcome_family.add_metric([job, outcome], count)
        yield outcome_family
        yield from _gpu_families(latest)


def _anomaly_key(anomaly: Anomaly) -> AnomalyKey:
    return (anomaly.anomaly_type.value, anomaly.started_at, anomaly.pid, anomaly.job_id)


def _kept_jobs(result: TickResult) -> frozenset[str]:
    """Jobs whose series are kept: running ones, and those that ended a short while ago."""
    now = result.snapshot.timestamp
    kept = {
        job.job_id
        for job in result.jobs
        if job.running
        or (job.completed_at is not None and now - job.completed_at <= ENDED_JOB_GRACE_SECONDS)
    }
    kept.update(p.job_id for p in result.snapshot.processes if p.job_id is not None)
    return frozenset(kept)


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation)
    family.add_metric([], value)
    return family


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _monitor_families(result: TickResult) -> Iterator[Metric]:
    snapshot = result.snapshot
    cost = snapshot.monitor
    yield _gauge(
        "mzt_last_tick_timestamp_seconds",
        "When the latest tick was taken (unix time).",
        snapshot.timestamp,
    )
    yield _gauge(
        "mzt_monitor_cpu_percent",
        "The monitor's own CPU use over the latest tick.",
        cost.cpu_percent,
    )
    yield _gauge("mzt_monitor_rss_bytes", "The monitor's own resident memory.", cost.rss_mb * MIB)
    yield _gauge(
        "mzt_monitor_tick_duration_seconds",
        "How long the latest tick took to collect.",
        cost.tick_seconds,
    )
    yield _counter(
        "mzt_monitor_late_ticks",
        "Ticks skipped because a tick overran its slot.",
        cost.late_ticks,
    )
    yield _gauge(
        "mzt_conductor_up",
        "1 when the conductor was found on the latest tick, else 0.",
        1.0 if snapshot.daemon_pid else 0.0,
    )
    yield _gauge(
        "mzt_conductor_rss_bytes",
        "The conductor process's resident memory.",
        snapshot.daemon_rss_mb * MIB,
    )
    yield _gauge("mzt_jobs_running", "Jobs running under the conductor.", snapshot.running_jobs)
    yield _gauge("mzt_sheets_active", "Sheets running now.", snapshot.active_sheets)
    yield _gauge(
        "mzt_zombies", "Zombie processes among the jobs' processes.", snapshot.zombie_count
    )
    yield _gauge(
        "mzt_system_cpu_percent",
        "The machine's CPU use (100 = all cores busy).",
        snapshot.cpu_percent,
    )
    yield _gauge(
        "mzt_system_memory_available_bytes",
        "Memory still available to new processes.",
        snapshot.system_memory_available_mb * MIB,
    )
    yield _gauge(
        "mzt_system_memory_total_bytes",
        "The machine's memory.",
        snapshot.system_memory_total_mb * MIB,
    )


def _job_families(result: TickResult) -> Iterator[Metric]:
    totals: dict[tuple[str, str], _JobTotals] = defaultdict(_JobTotals)
    for process in result.snapshot.processes:
        if process.job_id is not None:
            totals[(process.job_id, _sheet_label(process.sheet_num))].add(process)
    specs: tuple[tuple[str, str, Callable[[_JobTotals], float]], ...] = (
        (
            "mzt_job_cpu_percent",
            "CPU use of a sheet's processes (100 = one core).",
            lambda t: t.cpu_percent,
        ),
        ("mzt_job_rss_bytes", "Resident memory of a sheet's processes.", lambda t: t.rss_bytes),
        ("mzt_job_fds", "Open file descriptors of a sheet's processes.", lambda t: t.fds),
        ("mzt_job_threads", "Threads of a sheet's processes.", lambda t: t.threads),
        (
            "mzt_job_gpu_memory_bytes",
            "GPU memory held by a sheet's processes.",
            lambda t: t.gpu_memory_bytes,
        ),
        ("mzt_job_processes", "Processes of a sheet (its process tree).", lambda t: t.processes),
    )
    ordered = sorted(totals.items())
    for name, documentation, value in specs:
        family = GaugeMetricFamily(
            name,
            documentation + " Sheet '' holds a job's processes of no sheet.",
            labels=JOB_LABELS,
        )
        for (job, sheet), job_totals in ordered:
            family.add_metric([job, sheet], value(job_totals))
        yield family


def _sheet_status_families(jobs: Iterable[JobRecord], kept: frozenset[str]) -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "mzt_job_sheets",
        "A job's sheets by status, as the conductor's registry reports.",
        labels=("job", "status"),
    )
    for job in sorted(jobs, key=lambda j: j.job_id):
        if job.job_id not in kept:
            continue
        counts: dict[str, int] = defaultdict(int)
        for sheet in job.sheets.values():
            counts[sheet.status] += 1
        for status, count in sorted(counts.items()):
            family.add_metric([job.job_id, status], count)
    yield family


def _anomaly_families(
    open_anomalies: list[Anomaly], opened: dict[tuple[str, str], int]
) -> Iterator[Metric]:
    current: dict[tuple[str, str], int] = defaultdict(int)
    for anomaly in open_anomalies:
        current[(anomaly.job_id or "", anomaly.anomaly_type.value)] += 1
    open_family = GaugeMetricFamily(
        "mzt_anomalies_open",
        "Anomalies open now, by job and type (job '' for the machine's own).",
        labels=("job", "type"),
    )
    for (job, kind), count in sorted(current.items()):
        open_family.add_metric([job, kind], count)
    yield open_family
    total = CounterMetricFamily(
        "mzt_anomalies",
        "Anomalies opened since the monitor started, by job and type.",
        labels=("job", "type"),
    )
    for (job, kind), count in sorted(opened.items()):
        total.add_metric([job, kind], count)
    yield total


def _gpu_families(result: TickResult) -> Iterator[Metric]:
    gpus = result.snapshot.gpus
    specs: tuple[tuple[str, str, Callable[..., float | None]], ...] = (
        ("mzt_gpu_utilization_percent", "GPU utilisation.", lambda g: g.utilization_pct),
        ("mzt_gpu_memory_used_bytes", "GPU memory in use.", lambda g: g.memory_used_mb * MIB),
        ("mzt_gpu_memory_total_bytes", "GPU memory in all.", lambda g: g.memory_total_mb * MIB),
        ("mzt_gpu_temperature_celsius", "GPU temperature.", lambda g: g.temperature_c),
        (
            "mzt_gpu_power_watts",
            "GPU power draw (where the driver reports it).",
            lambda g: g.power_w,
        ),
    )
    for name, documentation, value in specs:
        family = GaugeMetricFamily(name, documentation, labels=GPU_LABELS)
        for gpu in gpus:
            reading = value(gpu)
            if reading is not None:
                family.add_metric([str(gpu.index), gpu.name], reading)
        yield family


@dataclass
class PrometheusExporter:
    """The collector, its registry and the HTTP server that serves them.

    Args:
        host: The address to bind (loopback unless told otherwise).
        port: The port to bind (0 picks a free one; see `port` after `start`).
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    collector: TickCollector = field(default_factory=TickCollector)
    _server: WSGIServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind and serve on a daemon thread.

        Raises:
            MztError: The address cannot be bound (unknown host, port in use, no permission).
        """
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self.collector)
        try:
            server, thread = start_http_server(self.port, addr=self.host, registry=registry)
        except (OSError, ValueError, UnicodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            raise MztError(
                f"cannot serve Prometheus metrics on {self.url_host}:{self.port}: {reason}"
            ) from error
        self._server, self._thread = server, thread
        self.port = int(server.server_address[1])

    @property
    def url_host(self) -> str:
        """The host as it goes in a URL (IPv6 in brackets)."""
        try:
            is_v6 = ipaddress.ip_address(self.host).version == 6
        except ValueError:
            is_v6 = False
        return f"[{self.host}]" if is_v6 else self.host

    @property
    def url(self) -> str:
        """Where the metrics are served."""
        return f"http://{self.url_host}:{self.port}/metrics"

    def update(self, result: TickResult) -> None:
        """Hand the latest tick to the collector."""
        self.collector.update(result)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def is_loopback(host: str) -> bool:
    """Whether `host` names only this machine (used to say so when it does not)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)
