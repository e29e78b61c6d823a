"""The part of the learning store's schema that mzt_tui creates when the file is missing.

The column definitions are those of the conductor's version-15 file (read from
its own `sqlite_master`). Only the tables mzt_tui uses are created, and
`schema_version` is left EMPTY: the conductor then sees version 0 and creates
everything else itself. Writing 15 here would tell it the schema is complete
when it is not.
"""

from __future__ import annotations

import sqlite3

SUPPORTED_SCHEMA_VERSION = 15
"""The newest learning-store schema this code writes to."""

_TABLES: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS executions (
        id TEXT PRIMARY KEY,
        workspace_hash TEXT NOT NULL,
        job_hash TEXT NOT NULL,
        sheet_num INTEGER NOT NULL,
        started_at TIMESTAMP,
        completed_at TIMESTAMP,
        duration_seconds REAL,
        status TEXT,
        retry_count INTEGER DEFAULT 0,
        success_without_retry BOOLEAN,
        validation_pass_rate REAL,
        confidence_score REAL,
        model TEXT,
        error_codes TEXT
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS patterns (
        id TEXT PRIMARY KEY,
        pattern_type TEXT NOT NULL,
        pattern_name TEXT NOT NULL,
        description TEXT,
        occurrence_count INTEGER DEFAULT 1,
        first_seen TIMESTAMP,
        last_seen TIMESTAMP,
        last_confirmed TIMESTAMP,
        led_to_success_count INTEGER DEFAULT 0,
        led_to_failure_count INTEGER DEFAULT 0,
        effectiveness_score REAL DEFAULT 0.5,
        variance REAL DEFAULT 0.0,
        suggested_action TEXT,
        context_tags TEXT,
        priority_score REAL DEFAULT 0.5,
        quarantine_status TEXT DEFAULT 'pending',
        provenance_job_hash TEXT,
        provenance_sheet_num INTEGER,
        quarantined_at TIMESTAMP,
        validated_at TIMESTAMP,
        quarantine_reason TEXT,
        trust_score REAL DEFAULT 0.5,
        trust_calculation_date TIMESTAMP,
        success_factors TEXT,
        success_factors_updated_at TIMESTAMP,
        active INTEGER DEFAULT 1,
        content_hash TEXT,
        instrument_name TEXT
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS error_recoveries (
        id TEXT PRIMARY KEY,
        error_code TEXT NOT NULL,
        suggested_wait REAL,
        actual_wait REAL,
        recovery_success BOOLEAN,
        recorded_at TIMESTAMP,
        model TEXT,
        time_of_day INTEGER
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS workspace_clusters (
        workspace_hash TEXT PRIMARY KEY,
        cluster_id TEXT,
        assigned_at TIMESTAMP
    )
    """,
)

# The conductor's own index names, so its `CREATE INDEX IF NOT EXISTS` finds them.
_INDEXES: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS idx_exec_workspace_job ON executions(workspace_hash, job_hash)",
    "CREATE INDEX IF NOT EXISTS idx_exec_status ON executions(status)",
    "CREATE INDEX IF NOT EXISTS idx_exec_started ON executions(started_at)",
    "CREATE INDEX IF NOT EXISTS idx_patterns_type ON patterns(pattern_type)",
    "CREATE INDEX IF NOT EXISTS idx_patterns_priority ON patterns(priority_score DESC)",
    "CREATE INDEX IF NOT EXISTS idx_patterns_confirmed ON patterns(last_confirmed)",
    "CREATE INDEX IF NOT EXISTS idx_patterns_quarantine ON patterns(quarantine_status)",
    "CREATE INDEX IF NOT EXISTS idx_patterns_trust ON patterns(trust_score)",
    "CREATE INDEX IF NOT EXISTS idx_patterns_content_hash ON patterns(content_hash)",
    "CREATE INDEX IF NOT EXISTS idx_patterns_instrument ON patterns(instrument_name)",
    "CREATE INDEX IF NOT EXISTS idx_recovery_code ON error_recoveries(error_code)",
    "CREATE INDEX IF NOT EXISTS idx_recovery_success ON error_recoveries(recovery_success)",
)

OWN_TABLES: tuple[str, ...] = ("executions", "patterns", "error_recoveries", "workspace_clusters")
"""The tables mzt_tui reads and writes, and creates where they are missing."""


def create_missing_tables(connection: sqlite3.Connection) -> None:
    """Create our tables and their indexes where missing; never touch `schema_version` rows.

    Existing tables are left exactly as they are (an older conductor's file keeps
    its columns: the conductor migrates them itself).

    Args:
        connection: A connection inside the caller's write transaction.
    """
    for statement in _TABLES:
        connection.execute(statement)
    for statement in _INDEXES:
        try:
            connection.execute(statement)
        except sqlite3.OperationalError as exc:
            # An older conductor's table may lack the column (it adds it when it migrates).
            if "no such column" not in str(exc):
                raise


def read_schema_version(connection: sqlite3.Connection) -> int | None:
    """Return the file's schema version, or None when `schema_version` is missing or empty."""
    try:
        row = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    if row is None or row[0] is None:
        return None
    value = row[0]
    return value if isinstance(value, int) else None
