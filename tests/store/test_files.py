"""The files themselves: schema as the conductor makes it, our version, 0600, and monitor.jsonl."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from mzt_tui.models.errors import StoreError
from mzt_tui.models.process import SystemSnapshot
from mzt_tui.store import SCHEMA_VERSION, MonitorStore
from mzt_tui.store.schema import MARIANNE_TABLES
from tests.store.factories import BASE_TIME, full_snapshot, raw_rows, snapshot


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _schema(path: Path) -> dict[str, list[tuple[object, ...]]]:
    return {table: raw_rows(path, f"PRAGMA table_info({table})") for table in MARIANNE_TABLES}


def _index_sql(path: Path) -> set[object]:
    return {
        row[0]
        for row in raw_rows(
            path, "SELECT sql FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%'"
        )
    }


def test_a_new_file_has_the_conductors_tables_and_indexes(
    tmp_path: Path, upstream_copy: Path
) -> None:
    path = tmp_path / "monitor.db"
    MonitorStore(path).initialize()
    theirs = _schema(upstream_copy / "monitor.db")
    ours = _schema(path)
    # Same columns, types, NOT NULL, defaults and keys, in the same order ...
    for table in MARIANNE_TABLES:
        assert ours[table][: len(theirs[table])] == theirs[table], table
    # ... and only our own `mzt_` columns after them.
    extra = [row[1] for row in ours["process_metrics"][len(theirs["process_metrics"]) :]]
    assert extra == ["mzt_start_time", "mzt_gpu_memory_mb", "mzt_attribution_guessed"]
    assert len(ours["snapshots"]) == len(theirs["snapshots"])
    assert len(ours["process_events"]) == len(theirs["process_events"])
    assert _index_sql(path) == _index_sql(upstream_copy / "monitor.db")
    assert len(_index_sql(path)) == 5
    # The table statements are the conductor's, word for word (ALTER TABLE appends ours).
    for table in ("snapshots", "process_events"):
        query = f"SELECT sql FROM sqlite_master WHERE name = '{table}'"
        assert raw_rows(path, query) == raw_rows(upstream_copy / "monitor.db", query)
    assert raw_rows(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert raw_rows(path, "PRAGMA journal_mode") == [("wal",)]
    tables = {
        str(row[0]) for row in raw_rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    assert all(name in MARIANNE_TABLES or name.startswith("mzt_") for name in tables)


def test_files_we_create_are_private(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "monitor.db"
    jsonl = tmp_path / "sub" / "monitor.jsonl"
    old_umask = os.umask(0o022)
    try:
        store = MonitorStore(path, jsonl_path=jsonl)
        store.write_snapshot(snapshot(BASE_TIME))
        store.append_jsonl(snapshot(BASE_TIME))
        assert _mode(path) == 0o600
        assert _mode(jsonl) == 0o600
        for suffix in ("-wal", "-shm"):
            sidecar = path.with_name(path.name + suffix)
            if sidecar.exists():
                assert _mode(sidecar) == 0o600
        store.close()
    finally:
        os.umask(old_umask)


def test_opening_again_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    with MonitorStore(path) as store:
        store.write_snapshot(full_snapshot(BASE_TIME))
    before = raw_rows(path, "SELECT type, name, sql FROM sqlite_master ORDER BY name")
    with MonitorStore(path) as store:
        assert store.read_snapshots(0.0) == [full_snapshot(BASE_TIME)]
    assert raw_rows(path, "SELECT type, name, sql FROM sqlite_master ORDER BY name") == before


def test_a_file_the_conductor_created_empty_is_completed(tmp_path: Path) -> None:
    # The conductor's CREATE TABLE IF NOT EXISTS ran first: user_version 0, its tables only.
    path = tmp_path / "monitor.db"
    conn = sqlite3.connect(path)
    from mzt_tui.store.schema import create_marianne_schema

    create_marianne_schema(conn)
    conn.commit()
    conn.close()
    with MonitorStore(path) as store:
        store.write_snapshot(full_snapshot(BASE_TIME))
        assert store.read_snapshots(0.0) == [full_snapshot(BASE_TIME)]
    assert raw_rows(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


# -- monitor.jsonl --------------------------------------------------------------------------


def test_jsonl_lines_are_the_models_compact_dump(tmp_path: Path) -> None:
    jsonl = tmp_path / "monitor.jsonl"
    store = MonitorStore(tmp_path / "monitor.db", jsonl_path=jsonl)
    written = [full_snapshot(BASE_TIME + i) for i in range(3)]
    for item in written:
        store.append_jsonl(item)
    lines = jsonl.read_text().splitlines()
    assert lines == [item.model_dump_json() for item in written]
    assert [SystemSnapshot.model_validate_json(line) for line in lines] == written
    assert ": " not in lines[0] and ", " not in lines[0].replace('", "', "")
    store.close()


def test_jsonl_rotates_to_dot_1_and_dot_2_and_drops_the_oldest(tmp_path: Path) -> None:
    jsonl = tmp_path / "monitor.jsonl"
    line_size = len(snapshot(BASE_TIME).model_dump_json()) + 1
    # Room for two lines per file: a file is rotated once it holds two.
    store = MonitorStore(tmp_path / "monitor.db", jsonl_path=jsonl, jsonl_max_bytes=2 * line_size)
    for index in range(9):
        store.append_jsonl(snapshot(BASE_TIME + index))

    def stamps(path: Path) -> list[float]:
        return [json.loads(line)["timestamp"] for line in path.read_text().splitlines()]

    assert stamps(jsonl) == [BASE_TIME + 8]
    assert stamps(jsonl.with_name("monitor.jsonl.1")) == [BASE_TIME + 6, BASE_TIME + 7]
    assert stamps(jsonl.with_name("monitor.jsonl.2")) == [BASE_TIME + 4, BASE_TIME + 5]
    assert not jsonl.with_name("monitor.jsonl.3").exists()
    assert _mode(jsonl) == 0o600
    store.close()


def test_jsonl_from_several_threads_keeps_every_line_whole(tmp_path: Path) -> None:
    jsonl = tmp_path / "monitor.jsonl"
    store = MonitorStore(tmp_path / "monitor.db", jsonl_path=jsonl)

    def append(offset: int) -> None:
        for index in range(25):
            store.append_jsonl(full_snapshot(BASE_TIME + offset * 100 + index))

    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = jsonl.read_text().splitlines()
    assert len(lines) == 100
    assert all(
        SystemSnapshot.model_validate_json(line).zombie_pids == (7001, 7002) for line in lines
    )
    store.close()


@pytest.mark.parametrize("case", ["parent is a file", "path is a directory"])
def test_jsonl_failures_are_one_line_store_errors(tmp_path: Path, case: str) -> None:
    if case == "parent is a file":
        (tmp_path / "blocker").write_text("")
        jsonl = tmp_path / "blocker" / "monitor.jsonl"
    else:
        jsonl = tmp_path / "monitor.jsonl"
        jsonl.mkdir()
    store = MonitorStore(tmp_path / "monitor.db", jsonl_path=jsonl)
    with pytest.raises(StoreError) as caught:
        store.append_jsonl(snapshot(BASE_TIME))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"cannot append to {jsonl}: ")
    store.close()


def test_no_jsonl_path_means_no_file(tmp_path: Path) -> None:
    store = MonitorStore(tmp_path / "monitor.db")
    store.append_jsonl(snapshot(BASE_TIME))
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    store.close()
