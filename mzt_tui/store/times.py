"""Light reads of timestamps only: when snapshots, events and anomalies were recorded.

History playback keeps these in memory (a few floats per tick) and reads whole snapshots one
small chunk at a time. Windows are `since <= timestamp < until`, in time order.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from mzt_tui.store.reader import window

_KNOWN_EVENTS = "('spawn', 'exit', 'signal', 'kill', 'oom')"


def snapshot_times(conn: sqlite3.Connection, since: float, until: float | None) -> list[float]:
    """The timestamps of the window's snapshots, oldest first."""
    params: list[Any] = [since]
    where = window("timestamp", until, params)
    return [
        float(row[0])
        for row in conn.execute(
            f"SELECT timestamp FROM snapshots WHERE {where} ORDER BY timestamp, id", params
        )
    ]


def event_times(conn: sqlite3.Connection, since: float, until: float | None) -> list[float]:
    """The timestamps of the window's lifecycle events, oldest first."""
    params: list[Any] = [since]
    where = window("timestamp", until, params)
    return [
        float(row[0])
        for row in conn.execute(
            f"SELECT timestamp FROM process_events WHERE event_type IN {_KNOWN_EVENTS}"
            f" AND {where} ORDER BY timestamp",
            params,
        )
    ]


def anomaly_start_times(conn: sqlite3.Connection, since: float, until: float | None) -> list[float]:
    """When the anomalies that started in the window started, oldest first."""
    params: list[Any] = [since]
    where = window("started_at", until, params)
    return [
        float(row[0])
        for row in conn.execute(
            f"SELECT started_at FROM mzt_anomalies WHERE {where} ORDER BY started_at", params
        )
    ]
