"""`mzt top --trace PID`: stream a full strace of a process tree to the terminal."""

from __future__ import annotations

import os
import subprocess

from mzt_tui.models.errors import MztError, UsageError


def run_trace(pid: int) -> int:
    """Run strace on `pid` (following its children) until it ends or Ctrl-C; return its code.

    Raises:
        UsageError: No such process.
        MztError: strace is missing or cannot attach.
    """
    from mzt_tui.collect.strace import trace_command

    if pid <= 0 or not os.path.exists(f"/proc/{pid}"):
        raise UsageError(f"--trace {pid}: no such process")
    try:
        command = trace_command(pid)
    except FileNotFoundError as error:
        raise MztError(f"--trace needs strace: {error} (apt-get install strace)") from error
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    first_lines: list[str] = []
    try:
        for line in process.stderr:
            # strace writes the trace itself to stderr; pass it through as it comes.
            if len(first_lines) < 3:
                first_lines.append(line)
            print(line, end="", flush=True)
        code = process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait()
        return 0
    if code != 0 and any("Operation not permitted" in line for line in first_lines):
        raise MztError(f"--trace {pid}: strace cannot attach (ptrace denied)")
    return code
