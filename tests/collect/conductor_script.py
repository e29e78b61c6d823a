"""A stand-in conductor: starts sheet processes as its direct children, in their workspaces.

Run as `python conductor_script.py PLAN_JSON`. The plan is a list of steps
`{"cwd": str, "argv": [str, ...], "pause": float, "orphan": bool}`: after `pause` seconds, the
step's start is marked (`time.time()`, as the conductor marks a sheet's `started_at`) and its
process is started in a new session, like Marianne does. An `orphan` step runs a shell that
backgrounds its command, prints the background PID and exits, leaving an orphan behind.
Prints one JSON line `[{"pid": int, "mark": float}, ...]` (the orphan's PID for orphan steps),
then waits until killed.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time


def main() -> None:
    plan = json.loads(sys.argv[1])
    started: list[dict[str, float | int]] = []
    children: list[subprocess.Popen[bytes]] = []
    for step in plan:
        time.sleep(step.get("pause", 0.0))
        mark = time.time()
        if step.get("orphan"):
            shell = subprocess.run(
                ["sh", "-c", " ".join(step["argv"]) + " >/dev/null 2>&1 & echo $!"],
                cwd=step["cwd"],
                start_new_session=True,
                capture_output=True,
                check=True,
            )
            started.append({"pid": int(shell.stdout), "mark": mark})
        else:
            child = subprocess.Popen(step["argv"], cwd=step["cwd"], start_new_session=True)
            children.append(child)
            started.append({"pid": child.pid, "mark": mark})
    print(json.dumps(started), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        for child in children:
            child.kill()
            child.wait()


if __name__ == "__main__":
    main()
