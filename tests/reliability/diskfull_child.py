"""Run the recorder with a real file size limit that is lifted when a flag file goes away.

Usage: python -m tests.reliability.diskfull_child HOME LIMIT_BYTES FLAG SECONDS JSONL_MAX

Writes beyond LIMIT_BYTES fail with EFBIG (SIGXFSZ is ignored), as on a full disk; once FLAG
is deleted the process raises its own soft limit back to the hard one ("space returns").
A LIMIT_BYTES of 0 sets no limit (HOME on a small file system fills up by itself).
Snapshots stream to stdout as NDJSON (a pipe: never limited), the status to stderr.
"""

from __future__ import annotations

import resource
import signal
import sys
import threading
import time
from pathlib import Path

from mzt_tui.headless.run import HeadlessOptions, run_headless
from mzt_tui.marianne.paths import resolve_home
from mzt_tui.models import MonitorConfig


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
    sys.exit(run_headless(options, stop=stop))


if __name__ == "__main__":
    main()
