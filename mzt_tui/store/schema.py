"""monitor.db schema: Marianne's three tables exactly as the conductor makes them, plus ours.

Marianne's tables (`snapshots`, `process_metrics`, `process_events`) and their five indexes
are created with the conductor's own column list, types and index names, so either tool can
create the file. Everything they cannot hold lives in `mzt_*` tables, and three
`mzt_`-prefixed columns on `process_metrics`:

- `mzt_start_time`, `mzt_gpu_memory_mb`, `mzt_attribution_guessed` are per process row. As
  columns they are written by the same `executemany` as the row itself (a side table would
  need every row's id back, which `executemany` does not give), and they disappear with
  the row when anything deletes it, so they can never be orphans. The conductor's reader
  names its columns and tolerates extra ones.
- Per-snapshot extras (`mzt_snapshot_extras`, `mzt_gpus`, `mzt_gpu_processes`,
  `mzt_job_progress`) are keyed by `snapshot_id`. An AFTER DELETE trigger on `snapshots`
  removes them, and the snapshot's process rows, whoever deletes the snapshot: the
  conductor's hourly clean-up too.
- `mzt_anomalies` and the 1-minute history (`mzt_minutes_job`, `mzt_minutes_system`) stand
  alone and are aged out by our own clean-up.
- `mzt_sheet_runs` (version 2) holds one summary per sheet attempt (see `sheet_runs.py`). It
  stands alone too: a summary outlives the ticks it was built from.

Our schema version is `PRAGMA user_version` (0 in files the conductor made). Migrations
only add tables, indexes, columns and triggers, so a conductor-made file is upgraded in
place without losing a row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from mzt_tui.store.sheet_runs import CREATE_SHEET_RUNS, SHEET_RUN_INDEXES

SCHEMA_VERSION = 2
"""The `PRAGMA user_version` this code writes and understands."""

MARIANNE_TABLES: tuple[str, ...] = ("snapshots", "process_metrics", "process_events")

CREATE_SNAPSHOTS = """CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY,
    timestamp REAL NOT NULL,
    daemon_pid INTEGER,
    system_memory_total_mb REAL,
    system_memory_available_mb REAL,
    system_memory_used_mb REAL,
    daemon_rss_mb REAL,
    child_count INTEGER,
    zombie_count INTEGER,
    load_avg_1 REAL,
    load_avg_5 REAL,
    load_avg_15 REAL,
    gpu_count INTEGER,
    gpu_utilization_pct TEXT,
    gpu_memory_used_mb TEXT,
    gpu_temperature TEXT,
    pressure_level TEXT,
    running_jobs INTEGER,
    active_sheets INTEGER
)"""

CREATE_PROCESS_METRICS = """CREATE TABLE IF NOT EXISTS process_metrics (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER REFERENCES snapshots(id),
    pid INTEGER NOT NULL,
    ppid INTEGER,
    command TEXT,
    state TEXT,
    cpu_percent REAL,
    rss_mb REAL,
    vms_mb REAL,
    threads INTEGER,
    open_fds INTEGER,
    age_seconds REAL,
    job_id TEXT,
    sheet_num INTEGER,
    syscall_counts TEXT,
    syscall_time_pct TEXT
)"""

CREATE_PROCESS_EVENTS = """CREATE TABLE IF NOT EXISTS process_events (
    id INTEGER PRIMARY KEY,
    timestamp REAL NOT NULL,
    pid INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    exit_code INTEGER,
    signal_num INTEGER,
    job_id TEXT,
    sheet_num INTEGER,
    details TEXT
)"""

MARIANNE_INDEXES: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS idx_snapshots_ts ON snapshots(timestamp)",
    "CREATE INDEX IF NOT EXISTS idx_process_metrics_snapshot ON process_metrics(snapshot_id)",
    "CREATE INDEX IF NOT EXISTS idx_process_metrics_job ON process_metrics(job_id)",
    "CREATE INDEX IF NOT EXISTS idx_process_events_ts ON process_events(timestamp)",
    "CREATE INDEX IF NOT EXISTS idx_process_events_job ON process_events(job_id)",
)

PROCESS_EXTRA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("mzt_start_time", "REAL"),
    ("mzt_gpu_memory_mb", "REAL"),
    ("mzt_attribution_guessed", "INTEGER"),
)
"""Our columns on `process_metrics`: (name, type), added by ALTER TABLE."""

MZT_TABLES: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS mzt_snapshot_extras (
    snapshot_id INTEGER PRIMARY KEY,
    cpu_percent REAL NOT NULL,
    per_core_cpu_percent TEXT NOT NULL,
    zombie_pids TEXT NOT NULL,
    conductor_uptime_seconds REAL NOT NULL,
    monitor_cpu_percent REAL NOT NULL,
    monitor_rss_mb REAL NOT NULL,
    monitor_tick_seconds REAL NOT NULL,
    monitor_late_ticks INTEGER NOT NULL
)""",
    # `position` is the GPU's place in the snapshot's JSON arrays; `gpu_index` its NVML index.
    """CREATE TABLE IF NOT EXISTS mzt_gpus (
    snapshot_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    gpu_index INTEGER NOT NULL,
    name TEXT NOT NULL,
    memory_total_mb REAL NOT NULL,
    power_w REAL,
    PRIMARY KEY (snapshot_id, position)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS mzt_gpu_processes (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    gpu_index INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    memory_used_mb REAL NOT NULL,
    utilization_pct REAL
)""",
    """CREATE TABLE IF NOT EXISTS mzt_job_progress (
    snapshot_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    job_id TEXT NOT NULL,
    total_sheets INTEGER NOT NULL,
    last_completed_sheet INTEGER NOT NULL,
    current_sheet INTEGER,
    status TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, position)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS mzt_anomalies (
    id INTEGER PRIMARY KEY,
    anomaly_type TEXT NOT NULL,
    severity TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    pid INTEGER,
    job_id TEXT,
    sheet_num INTEGER,
    description TEXT NOT NULL,
    metric_value REAL,
    threshold REAL
)""",
    # sheet_num is -1 for a job's processes that have no sheet (a primary key cannot hold NULL).
    """CREATE TABLE IF NOT EXISTS mzt_minutes_job (
    minute REAL NOT NULL,
    job_id TEXT NOT NULL,
    sheet_num INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    cpu_percent_mean REAL NOT NULL,
    cpu_percent_max REAL NOT NULL,
    rss_mb_max REAL NOT NULL,
    process_rss_mb_max REAL NOT NULL,
    open_fds_max INTEGER NOT NULL,
    threads_max INTEGER NOT NULL,
    process_count_mean REAL NOT NULL,
    process_count_max INTEGER NOT NULL,
    gpu_memory_mb_max REAL NOT NULL,
    PRIMARY KEY (minute, job_id, sheet_num)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS mzt_minutes_system (
    minute REAL PRIMARY KEY,
    samples INTEGER NOT NULL,
    cpu_percent_mean REAL,
    cpu_percent_max REAL,
    memory_used_mb_max REAL NOT NULL,
    memory_available_mb_min REAL NOT NULL,
    load_avg_1_max REAL NOT NULL,
    daemon_rss_mb_max REAL NOT NULL,
    process_count_max INTEGER NOT NULL,
    zombie_count_max INTEGER NOT NULL,
    running_jobs_max INTEGER NOT NULL,
    active_sheets_max INTEGER NOT NULL
) WITHOUT ROWID""",
)

MZT_INDEXES: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS mzt_idx_gpu_processes_snapshot ON mzt_gpu_processes(snapshot_id)",
    "CREATE INDEX IF NOT EXISTS mzt_idx_anomalies_started ON mzt_anomalies(started_at)",
    "CREATE INDEX IF NOT EXISTS mzt_idx_anomalies_job ON mzt_anomalies(job_id)",
    "CREATE INDEX IF NOT EXISTS mzt_idx_minutes_job_job ON mzt_minutes_job(job_id, minute)",
)

SNAPSHOT_DELETE_TRIGGER = """CREATE TRIGGER IF NOT EXISTS mzt_snapshot_deleted
AFTER DELETE ON snapshots
BEGIN
    DELETE FROM process_metrics WHERE snapshot_id = OLD.id;
    DELETE FROM mzt_snapshot_extras WHERE snapshot_id = OLD.id;
    DELETE FROM mzt_gpus WHERE snapshot_id = OLD.id;
    DELETE FROM mzt_gpu_processes WHERE snapshot_id = OLD.id;
    DELETE FROM mzt_job_progress WHERE snapshot_id = OLD.id;
END"""

SNAPSHOT_CHILD_TABLES: tuple[str, ...] = (
    "process_metrics",
    "mzt_snapshot_extras",
    "mzt_gpus",
    "mzt_gpu_processes",
    "mzt_job_progress",
)
"""Tables whose rows belong to a snapshot (through `snapshot_id`)."""


def create_marianne_schema(conn: sqlite3.Connection) -> None:
    """Create Marianne's tables and indexes where missing (what the conductor itself runs)."""
    for statement in (CREATE_SNAPSHOTS, CREATE_PROCESS_METRICS, CREATE_PROCESS_EVENTS):
        conn.execute(statement)
    for statement in MARIANNE_INDEXES:
        conn.execute(statement)


def _column_names(conn: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")}


def _migrate_to_1(conn: sqlite3.Connection) -> None:
    """Version 1: our process columns, extras tables, anomalies, 1-minute history, trigger."""
    create_marianne_schema(conn)
    existing = _column_names(conn, "process_metrics")
    for name, sql_type in PROCESS_EXTRA_COLUMNS:
        if name not in existing:
            conn.execute(f"ALTER TABLE process_metrics ADD COLUMN {name} {sql_type}")
    for statement in (*MZT_TABLES, *MZT_INDEXES, SNAPSHOT_DELETE_TRIGGER):
        conn.execute(statement)


def _migrate_to_2(conn: sqlite3.Connection) -> None:
    """Version 2: sheet-run summaries (`mzt_sheet_runs`)."""
    for statement in (CREATE_SHEET_RUNS, *SHEET_RUN_INDEXES):
        conn.execute(statement)


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _migrate_to_1, 2: _migrate_to_2}
"""Target version → the additive step that reaches it from the version before."""


def migrate(conn: sqlite3.Connection, from_version: int) -> None:
    """Bring the schema from `from_version` to `SCHEMA_VERSION` inside the caller's transaction.

    Args:
        conn: A connection inside a write transaction (`BEGIN IMMEDIATE`).
        from_version: The file's current `PRAGMA user_version`.
    """
    for target in range(from_version + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[target](conn)
    # user_version lives in the database header and is part of the transaction.
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
