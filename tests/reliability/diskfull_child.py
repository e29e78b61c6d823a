"""Run the recorder with a real file size limit that is lifted when a flag file goes away.

Usage: python -m tests.reliability.diskfull_child HOME LIMIT_BYTES FLAG SECONDS JSONL_MAX

Writes beyond LIMIT_BYTES fail with EFBIG (SIGXFSZ is ignored), as on a full disk; once FLAG
is deleted the process raises its own soft limit back to the hard one ("space returns").
A LIMIT_BYTES of 0 sets no limit (HOME on a small file system fills up by itself).
Snapshots stream to stdout as NDJSON (a pipe: never limited), the status to stderr.

One sheet run and two anomalies are scripted into the real ticks (`ScriptedOutage`), so that
the test can start and end them while nothing can be written: FLAG.outage opens the first
anomaly; FLAG.close closes it, ends the sheet run and opens the second, left open until exit.
"""

from __future__ import annotations

import dataclasses
import resource
import signal
import sys
import threading
import time
from pathlib import Path

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.collect.ticks import TickStats
from mzt_tui.headless.engine import MonitorEngine, TickResult
from mzt_tui.headless.run import HeadlessOptions, run_headless
from mzt_tui.marianne.paths import resolve_home
from mzt_tui.models import Anomaly, AnomalyType, MonitorConfig, ProcessMetric

SCRIPTED_JOB = "outage-job"
SCRIPTED_CONDUCTOR = 4_194_401
"""PIDs above the largest the kernel gives (2**22), so no real process is taken for them."""
SHEET_ROOT = ProcessMetric(
    pid=4_194_402,
    ppid=SCRIPTED_CONDUCTOR,
    command="claude -p sheet",
    rss_mb=100.0,
    job_id=SCRIPTED_JOB,
    sheet_num=1,
    start_time=1.0,
)


@dataclasses.dataclass(kw_only=True)
class ScriptedOutage(MonitorEngine):
    """The real engine, with a sheet run and two anomalies that files beside FLAG script.

    Until `close_file` exists every snapshot holds the sheet's root (as a child of a
    conductor); each file moves the script on by one step, at most one step a tick.
    """

    outage_file: Path
    close_file: Path
    _step: int = dataclasses.field(default=0, init=False)
    _open: tuple[Anomaly, ...] = dataclasses.field(default=(), init=False)

    def tick(self, stats: TickStats | None = None) -> TickResult:
        """A real tick, with the scripted root and anomaly changes added."""
        result = super().tick(stats)
        stamp = result.snapshot.timestamp
        opened: tuple[Anomaly, ...] = ()
        closed: tuple[Anomaly, ...] = ()
        if self._step == 0 and self.outage_file.exists():
            opened = (_anomaly(AnomalyType.MEMORY_SPIKE, stamp),)
            self._step, self._open = 1, opened
        elif self._step == 1 and self.close_file.exists():
            closed = tuple(a.model_copy(update={"ended_at": stamp}) for a in self._open)
            opened = (_anomaly(AnomalyType.FD_EXHAUSTION, stamp),)
            self._step, self._open = 2, opened
        processes = result.snapshot.processes + ((SHEET_ROOT,) if self._step < 2 else ())
        snapshot = result.snapshot.model_copy(
            update={"daemon_pid": SCRIPTED_CONDUCTOR, "processes": processes}
        )
        changes = AnomalyChanges(
            opened=result.anomalies.opened + opened, closed=result.anomalies.closed + closed
        )
        return dataclasses.replace(result, snapshot=snapshot, anomalies=changes)

    def close_anomalies(self, now: float) -> AnomalyChanges:
        """The real open anomalies and the scripted one still open, ended at `now`."""
        real = super().close_anomalies(now)
        scripted = tuple(a.model_copy(update={"ended_at": now}) for a in self._open)
        return AnomalyChanges(closed=real.closed + scripted)


def _anomaly(anomaly_type: AnomalyType, started_at: float) -> Anomaly:
    return Anomaly(
        anomaly_type=anomaly_type,
        started_at=started_at,
        pid=SHEET_ROOT.pid,
        job_id=SCRIPTED_JOB,
        sheet_num=1,
        description=f"scripted {anomaly_type.value} while the disk is full",
    )


def main() -> None:
    home_dir, limit, flag, seconds, jsonl_max = sys.argv[1:6]
    if int(limit):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), hard))
        flag_path = Path(flag)

        def lift_when_flag_goes() -> None:
            while flag_path.exists():
                time.sleep(0.05)
            resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))

        threading.Thread(target=lift_when_flag_goes, daemon=True).start()
    home = resolve_home(Path(home_dir))
    stop = threading.Event()
    threading.Timer(float(seconds), stop.set).start()
    options = HeadlessOptions(
        home=home,
        db_path=home.monitor_db,
        config=MonitorConfig(interval_seconds=0.1, jsonl_max_bytes=int(jsonl_max)),
        record=True,
        stream_json=True,
        record_system=True,
    )
    engine = ScriptedOutage(
        home=home,
        record_system=True,
        keep_all_processes=False,
        outage_file=Path(f"{flag}.outage"),
        close_file=Path(f"{flag}.close"),
    )
    sys.exit(run_headless(options, stop=stop, engine=engine))


if __name__ == "__main__":
    main()
