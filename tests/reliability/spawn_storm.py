"""Spawn short-lived processes at a target rate for a while; print how many, as JSON.

Usage: python -m tests.reliability.spawn_storm RATE SECONDS

Each batch of `/bin/true` children is started with posix_spawn (cheaper than fork+exec from
Python) and reaped before the next; the rate is best effort and the achieved one is printed.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time

BATCH = 25


def main() -> None:
    rate, seconds = float(sys.argv[1]), float(sys.argv[2])
    true = shutil.which("true") or "/bin/true"
    spawned = 0
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        pids = [os.posix_spawn(true, [true], {}) for _ in range(BATCH)]
        for pid in pids:
            os.waitpid(pid, 0)
        spawned += len(pids)
        ahead = spawned / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)
    elapsed = time.monotonic() - started
    print(json.dumps({"spawned": spawned, "seconds": elapsed, "rate": spawned / elapsed}))


if __name__ == "__main__":
    main()
