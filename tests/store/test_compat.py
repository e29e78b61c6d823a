"""Our readers on the conductor's own monitor.db return what the conductor's readers returned.

`monitor.read.json` holds the conductor's answers. Two differences are deliberate fixes and
are checked as such: `total_cpu_seconds` is computed (the conductor reports 0), and syscall
hotspots are shares that sum to 100 (the conductor sums percentages over samples).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mzt_tui.store import SCHEMA_VERSION, MonitorStore
from mzt_tui.store.schema import MARIANNE_TABLES

FIXED_PROFILE_KEYS = {"total_cpu_seconds", "syscall_hotspots"}


def _expected(upstream_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((upstream_dir / "monitor.read.json").read_text())
    return loaded


def project(ours: Any, theirs: Any) -> Any:
    """`ours` reduced to the keys `theirs` has (recursively): our models carry extra fields."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        return {key: project(ours.get(key), value) for key, value in theirs.items()}
    if isinstance(theirs, list) and isinstance(ours, list):
        return [project(mine, their) for mine, their in zip(ours, theirs, strict=False)] + ours[
            len(theirs) :
        ]
    return ours


@pytest.fixture
def readonly_store(upstream_copy: Path) -> Iterator[MonitorStore]:
    """A copy of the conductor's file in a read-only folder, opened read-only."""
    path = upstream_copy / "monitor.db"
    path.chmod(0o444)
    upstream_copy.chmod(0o555)
    store = MonitorStore(path, readonly=True)
    try:
        yield store
    finally:
        store.close()
        upstream_copy.chmod(0o755)


def test_all_snapshots_match_the_conductors_reader(
    readonly_store: MonitorStore, upstream_dir: Path
) -> None:
    expected = _expected(upstream_dir)
    snapshots = [s.model_dump(mode="json") for s in readonly_store.read_snapshots(0.0, 1000)]
    assert len(snapshots) == expected["snapshot_count"] == 12
    assert project(snapshots, expected["snapshots"]) == expected["snapshots"]
    assert readonly_store.count_snapshots() == 12


def test_limited_read_returns_the_newest_snapshots_in_time_order(
    readonly_store: MonitorStore, upstream_dir: Path
) -> None:
    # The conductor's reader returns the OLDEST `limit` rows; ours the newest, oldest first.
    expected = _expected(upstream_dir)["snapshots"][-5:]
    newest = readonly_store.read_snapshots(0.0, limit=5)
    assert [s.timestamp for s in newest] == [s["timestamp"] for s in expected]
    assert project([s.model_dump(mode="json") for s in newest], expected) == expected


def test_window_bounds_are_inclusive_then_exclusive(
    readonly_store: MonitorStore, upstream_dir: Path
) -> None:
    stamps = [s["timestamp"] for s in _expected(upstream_dir)["snapshots"]]
    window = readonly_store.read_snapshots(stamps[2], 100, until=stamps[5])
    assert [s.timestamp for s in window] == stamps[2:5]
    assert readonly_store.count_snapshots(stamps[2], stamps[5]) == 3


def test_job_filter_keeps_only_that_jobs_processes(readonly_store: MonitorStore) -> None:
    snapshots = readonly_store.read_snapshots(0.0, 100, job_id="alpha-review")
    assert len(snapshots) == 12
    assert all(p.job_id == "alpha-review" for s in snapshots for p in s.processes)
    assert [len(s.processes) for s in snapshots] == [2] * 6 + [3] * 6


def test_events_match(readonly_store: MonitorStore, upstream_dir: Path) -> None:
    expected = _expected(upstream_dir)
    events = [e.model_dump(mode="json") for e in readonly_store.read_events(0.0, 1000)]
    assert events == expected["events"]
    assert readonly_store.count_events() == expected["event_count"]
    # Limited: the newest events, in time order.
    newest = readonly_store.read_events(0.0, limit=3)
    assert [e.model_dump(mode="json") for e in newest] == expected["events"][-3:]
    beta = readonly_store.read_events(0.0, 100, job_id="beta-build")
    assert [e.model_dump(mode="json") for e in beta] == [
        e for e in expected["events"] if e["job_id"] == "beta-build"
    ]


def test_process_histories_match(readonly_store: MonitorStore, upstream_dir: Path) -> None:
    histories = _expected(upstream_dir)["process_history_first5_pids"]
    assert len(histories) == 5
    for pid, expected in histories.items():
        ours = [m.model_dump(mode="json") for m in readonly_store.read_process_history(int(pid), 0)]
        assert project(ours, expected) == expected, pid


def test_job_ids_match(readonly_store: MonitorStore, upstream_dir: Path) -> None:
    assert readonly_store.job_ids() == _expected(upstream_dir)["job_ids"]


@pytest.mark.parametrize("job_id", ["alpha-review", "beta-build", "gamma-docs"])
def test_job_profiles_match_except_the_two_documented_fixes(
    readonly_store: MonitorStore, upstream_dir: Path, job_id: str
) -> None:
    expected = _expected(upstream_dir)["job_profiles"][job_id]
    profile = readonly_store.read_job_resource_profile(job_id).model_dump(mode="json")
    unchanged = {key: value for key, value in expected.items() if key not in FIXED_PROFILE_KEYS}
    assert project(profile, unchanged) == unchanged

    # Fix 1: CPU seconds are computed. Every fixture process is older than the 5 s tick at
    # its first sample, so each sample stands for cpu% / 100 x 5 s.
    samples = readonly_store.read_snapshots(0.0, 1000, job_id=job_id)
    cpu_sum = sum(p.cpu_percent for s in samples for p in s.processes)
    assert expected["total_cpu_seconds"] == 0.0
    assert profile["total_cpu_seconds"] == pytest.approx(cpu_sum / 100.0 * 5.0)
    assert profile["total_cpu_seconds"] > 0

    # Fix 2: hotspots are shares summing to 100, ranked like the conductor's sums.
    theirs: dict[str, float] = expected["syscall_hotspots"]
    ours: dict[str, float] = profile["syscall_hotspots"]
    assert set(ours) == set(theirs)
    if theirs:
        assert sum(theirs.values()) > 100.0  # the conductor's fault
        assert sum(ours.values()) == pytest.approx(100.0)
        assert sorted(ours, key=ours.__getitem__) == sorted(theirs, key=theirs.__getitem__)
        # Every sample of every process has the same summary, so the shares equal it.
        assert ours == pytest.approx({"read": 41.5, "write": 33.25, "futex": 25.25})


def test_report_for_an_unknown_job_is_the_conductors_text(
    readonly_store: MonitorStore, upstream_dir: Path
) -> None:
    expected = _expected(upstream_dir)["reports"]["__nonexistent_job__"]
    assert readonly_store.generate_resource_report("__nonexistent_job__") == expected


def _without_syscall_section(lines: list[str]) -> list[str]:
    """Non-blank report lines, minus the syscall section (its header to the next blank line)."""
    kept: list[str] = []
    in_section = False
    for line in lines:
        if "Syscall hotspots" in line:
            in_section = True
        elif not line.strip():
            in_section = False
        elif not in_section:
            kept.append(line)
    return kept


@pytest.mark.parametrize("job_id", ["alpha-review", "beta-build", "gamma-docs"])
def test_reports_keep_every_conductor_line_but_the_syscall_sums(
    readonly_store: MonitorStore, upstream_dir: Path, job_id: str
) -> None:
    theirs = _expected(upstream_dir)["reports"][job_id].splitlines()
    ours = readonly_store.generate_resource_report(job_id).splitlines()
    kept = _without_syscall_section(theirs)
    assert len(kept) >= 6
    # In order, each kept line starts one of ours (ours may add to a line, e.g. CPU time).
    position = 0
    for line in kept:
        while position < len(ours) and not ours[position].startswith(line):
            position += 1
        assert position < len(ours), f"missing or out of order: {line!r}"
        position += 1
    assert any(line.startswith("  CPU time: ") for line in ours)
    if job_id != "gamma-docs":
        section = ours.index("  Syscall hotspots (share of syscall time):")
        assert ours[section + 1 : section + 4] == [
            "    read: 41.5%",
            "    write: 33.2%",
            "    futex: 25.2%",
        ]


def test_opening_for_writing_upgrades_in_place_and_keeps_every_row(
    upstream_copy: Path, upstream_dir: Path
) -> None:
    path = upstream_copy / "monitor.db"

    def marianne_rows() -> dict[str, list[tuple[Any, ...]]]:
        conn = sqlite3.connect(path)
        try:
            rows: dict[str, list[tuple[Any, ...]]] = {}
            for table in MARIANNE_TABLES:
                columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
                marianne = [c for c in columns if not c.startswith("mzt_")]
                rows[table] = conn.execute(
                    f"SELECT {', '.join(marianne)} FROM {table} ORDER BY id"
                ).fetchall()
            return rows
        finally:
            conn.close()

    before = marianne_rows()
    assert sum(len(rows) for rows in before.values()) == 12 + 78 + 10

    with MonitorStore(path) as store:
        assert store.read_snapshots(0.0, 5)[-1].timestamp == before["snapshots"][-1][1]

    assert marianne_rows() == before
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert {"mzt_snapshot_extras", "mzt_anomalies", "mzt_minutes_job"} <= tables

    # The upgraded file still reads exactly as before.
    expected = _expected(upstream_dir)
    with MonitorStore(path, readonly=True) as reader:
        snapshots = [s.model_dump(mode="json") for s in reader.read_snapshots(0.0, 1000)]
        assert project(snapshots, expected["snapshots"]) == expected["snapshots"]


def test_reading_the_conductors_file_changes_nothing(upstream_copy: Path) -> None:
    path = upstream_copy / "monitor.db"
    before = path.read_bytes()
    with MonitorStore(path, readonly=True) as store:
        store.read_snapshots(0.0, 100)
        store.generate_resource_report("beta-build")
        assert store.read_anomalies(0.0) == []
        assert store.read_job_minutes("beta-build", 0.0) == []
    assert path.read_bytes() == before
    assert sorted(p.name for p in upstream_copy.iterdir() if p.name.startswith("monitor.db")) == [
        "monitor.db"
    ]


def test_the_conductors_jsonl_lines_load_as_our_snapshots(upstream_dir: Path) -> None:
    from mzt_tui.models.process import SystemSnapshot

    for line in (upstream_dir / "monitor.jsonl").read_text().splitlines():
        conductor = json.loads(line)
        ours = json.loads(SystemSnapshot.model_validate_json(line).model_dump_json())
        assert project(ours, conductor) == conductor
