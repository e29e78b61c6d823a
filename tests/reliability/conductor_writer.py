"""Write monitor.db the way the conductor's `MonitorStorage` does, for SECONDS seconds.

Usage: python -m tests.reliability.conductor_writer DB SECONDS INTERVAL

Each tick opens a connection, inserts one snapshot and its five process rows one INSERT at a
time in one transaction, commits, then writes one event in a transaction of its own (as the
conductor's `write_snapshot` and `write_event` do). Prints a JSON summary of what it wrote.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time

DAEMON_PID = 777_777
JOB = "conductor-writer-job"


def write_tick(db: str, stamp: float, tick: int) -> None:
    """One snapshot with five processes, then one event: the conductor's statements."""
    conn = sqlite3.connect(db, timeout=5.0)
    try:
        cursor = conn.execute(
            "INSERT INTO snapshots (timestamp, daemon_pid, system_memory_total_mb,"
            " system_memory_available_mb, system_memory_used_mb, daemon_rss_mb, child_count,"
            " zombie_count, load_avg_1, load_avg_5, load_avg_15, gpu_count,"
            " gpu_utilization_pct, gpu_memory_used_mb, gpu_temperature, pressure_level,"
            " running_jobs, active_sheets) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                stamp,
                DAEMON_PID,
                8000.0,
                4000.0,
                4000.0,
                50.0,
                5,
                0,
                0.5,
                0.5,
                0.5,
                0,
                "[]",
                "[]",
                "[]",
                "none",
                1,
                1,
            ),
        )
        snapshot_id = cursor.lastrowid
        for index in range(5):
            conn.execute(
                "INSERT INTO process_metrics (snapshot_id, pid, ppid, command, state,"
                " cpu_percent, rss_mb, vms_mb, threads, open_fds, age_seconds, job_id,"
                " sheet_num, syscall_counts, syscall_time_pct)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    snapshot_id,
                    900_000 + index,
                    DAEMON_PID,
                    f"claude -p step {tick}",
                    "S",
                    1.0,
                    100.0,
                    300.0,
                    4,
                    10,
                    1.0,
                    JOB,
                    1,
                    "{}",
                    "{}",
                ),
            )
        conn.commit()
    finally:
        conn.close()
    conn = sqlite3.connect(db, timeout=5.0)
    try:
        conn.execute(
            "INSERT INTO process_events (timestamp, pid, event_type, exit_code, signal_num,"
            " job_id, sheet_num, details) VALUES (?,?,?,?,?,?,?,?)",
            (stamp, 900_000, "spawn", None, None, JOB, 1, "{}"),
        )
        conn.commit()
    finally:
        conn.close()


def main() -> None:
    db, seconds, interval = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    ticks = 0
    errors: list[str] = []
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            write_tick(db, time.time(), ticks)
            ticks += 1
        except sqlite3.Error as error:
            errors.append(str(error))
        time.sleep(interval)
    print(json.dumps({"ticks": ticks, "errors": errors}))


if __name__ == "__main__":
    main()
