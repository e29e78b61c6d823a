"""Retention by age and by size, in bounded batches.

Each batch is its own short write transaction and the writer lock is released between
batches, so a tick's `write_snapshot` waits for one batch at most, never a whole clean-up.
Closed minutes are summarised into the 1-minute history before anything is deleted.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from mzt_tui.models.config import RetentionConfig
from mzt_tui.models.report import CleanupResult
from mzt_tui.store.connection import used_bytes
from mzt_tui.store.downsample import PAUSE_SECONDS, Downsampler, Transaction
from mzt_tui.store.schema import SNAPSHOT_CHILD_TABLES

MAX_SNAPSHOTS_PER_BATCH = 900
"""Snapshot ids per DELETE: below SQLite's smallest limit on bound parameters."""


@dataclass
class CleanupCounts:
    """Running totals of one clean-up pass."""

    snapshots: int = 0
    process_rows: int = 0
    events: int = 0
    anomalies: int = 0
    minutes: int = 0
    snapshots_for_size: int = 0


def _oldest_snapshot_batch(
    conn: sqlite3.Connection, cutoff: float | None, batch_rows: int
) -> list[int]:
    # Take the oldest snapshots while they and their process rows fit in one batch
    # (always at least one, so a huge snapshot cannot stop the clean-up).
    where = "" if cutoff is None else "WHERE timestamp < ?"
    most = min(batch_rows, MAX_SNAPSHOTS_PER_BATCH)
    params: tuple[float | int, ...] = (most,) if cutoff is None else (cutoff, most)
    ids: list[int] = []
    rows_taken = 0
    for snapshot_id, child_count in conn.execute(
        f"SELECT id, COALESCE(child_count, 0) FROM snapshots {where}"
        " ORDER BY timestamp, id LIMIT ?",
        params,
    ):
        cost = 1 + max(int(child_count), 0)
        if ids and rows_taken + cost > batch_rows:
            break
        ids.append(int(snapshot_id))
        rows_taken += cost
    return ids


def delete_oldest_snapshots(
    transaction: Transaction, counts: CleanupCounts, cutoff: float | None, batch_rows: int
) -> int:
    """Delete one batch of the oldest snapshots (before `cutoff` when given); return how many."""
    with transaction() as conn:
        ids = _oldest_snapshot_batch(conn, cutoff, batch_rows)
        if not ids:
            return 0
        marks = ", ".join("?" * len(ids))
        # Process rows first (counted); the trigger then removes our per-snapshot rows.
        counts.process_rows += conn.execute(
            f"DELETE FROM process_metrics WHERE snapshot_id IN ({marks})", ids
        ).rowcount
        deleted = conn.execute(f"DELETE FROM snapshots WHERE id IN ({marks})", ids).rowcount
    counts.snapshots += deleted
    return deleted


def _delete_in_batches(
    transaction: Transaction, statement: str, cutoff: float | None, batch_rows: int
) -> int:
    # `statement` takes (cutoff, limit), or (limit) alone when cutoff is None.
    params: tuple[float | int, ...] = (batch_rows,) if cutoff is None else (cutoff, batch_rows)
    total = 0
    while True:
        with transaction() as conn:
            deleted = conn.execute(statement, params).rowcount
        total += deleted
        if deleted < batch_rows:
            return total


def delete_orphans(transaction: Transaction, batch_rows: int) -> int:
    """Delete rows left by snapshots deleted before our trigger existed (cheap: by id range)."""
    total = 0
    for table in SNAPSHOT_CHILD_TABLES:
        key = "id" if table in ("process_metrics", "mzt_gpu_processes") else "snapshot_id"
        total += _delete_in_batches(
            transaction,
            f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table}"
            " WHERE snapshot_id < COALESCE((SELECT MIN(id) FROM snapshots), 9223372036854775807)"
            " LIMIT ?)",
            None,
            batch_rows,
        )
    return total


def apply_retention(
    transaction: Transaction, retention: RetentionConfig, now: float, counts: CleanupCounts
) -> None:
    """Delete, batch by batch, what is older than each retention period, then orphans."""
    batch = retention.cleanup_batch_rows
    snapshot_cutoff = now - retention.full_resolution_hours * 3600.0
    while delete_oldest_snapshots(transaction, counts, snapshot_cutoff, batch):
        pass
    event_cutoff = now - retention.events_days * 86400.0
    counts.events += _delete_in_batches(
        transaction,
        "DELETE FROM process_events WHERE id IN (SELECT id FROM process_events"
        " WHERE timestamp < ? ORDER BY timestamp LIMIT ?)",
        event_cutoff,
        batch,
    )
    counts.anomalies += _delete_in_batches(
        transaction,
        "DELETE FROM mzt_anomalies WHERE id IN (SELECT id FROM mzt_anomalies"
        " WHERE ended_at IS NOT NULL AND ended_at < ? LIMIT ?)",
        event_cutoff,
        batch,
    )
    minute_cutoff = now - retention.downsampled_days * 86400.0
    counts.minutes += _delete_in_batches(
        transaction,
        "DELETE FROM mzt_minutes_job WHERE (minute, job_id, sheet_num) IN"
        " (SELECT minute, job_id, sheet_num FROM mzt_minutes_job WHERE minute < ? LIMIT ?)",
        minute_cutoff,
        batch,
    )
    counts.minutes += _delete_in_batches(
        transaction,
        "DELETE FROM mzt_minutes_system WHERE minute IN"
        " (SELECT minute FROM mzt_minutes_system WHERE minute < ? LIMIT ?)",
        minute_cutoff,
        batch,
    )
    delete_orphans(transaction, batch)


def enforce_byte_cap(
    transaction: Transaction, max_bytes: int, batch_rows: int, counts: CleanupCounts
) -> None:
    """Delete the oldest snapshots, batch by batch, until the pages in use fit in `max_bytes`."""
    while True:
        with transaction() as conn:
            over = used_bytes(conn) > max_bytes
        if not over:
            return
        before = counts.snapshots
        if not delete_oldest_snapshots(transaction, counts, None, batch_rows):
            return
        counts.snapshots_for_size += counts.snapshots - before


def _pausing(transaction: Transaction) -> Transaction:
    """`transaction`, pausing after each one: a lock is not fair, and without the pause a
    clean-up could take it back before a waiting `write_snapshot` wakes up."""

    @contextmanager
    def pausing() -> Iterator[sqlite3.Connection]:
        with transaction() as conn:
            yield conn
        time.sleep(PAUSE_SECONDS)

    return pausing


def run_cleanup(
    transaction: Transaction,
    downsampler: Downsampler,
    retention: RetentionConfig,
    now: float,
) -> CleanupResult:
    """One retention pass: summarise closed minutes, delete by age, then by the byte cap."""
    transaction = _pausing(transaction)
    with transaction() as conn:
        bytes_before = used_bytes(conn)
    minutes = downsampler.close_minutes(now)
    counts = CleanupCounts()
    apply_retention(transaction, retention, now, counts)
    enforce_byte_cap(transaction, retention.max_bytes, retention.cleanup_batch_rows, counts)
    with transaction() as conn:
        bytes_after = used_bytes(conn)
    return CleanupResult(
        snapshots_deleted=counts.snapshots,
        process_rows_deleted=counts.process_rows,
        events_deleted=counts.events,
        anomalies_deleted=counts.anomalies,
        minutes_deleted=counts.minutes,
        minutes_downsampled=minutes,
        snapshots_deleted_for_size=counts.snapshots_for_size,
        used_bytes_before=bytes_before,
        used_bytes_after=bytes_after,
    )
