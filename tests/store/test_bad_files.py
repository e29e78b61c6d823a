"""Files we must not use: one clear line, and the file left exactly as it was."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from mzt_tui.models.config import RetentionConfig
from mzt_tui.models.errors import NewerSchemaError, StoreError
from mzt_tui.store import SCHEMA_VERSION, MonitorStore
from tests.conftest import read_only
from tests.store.factories import BASE_TIME, snapshot


def _fingerprint(path: Path) -> tuple[bytes, int, int]:
    stat = path.stat()
    return path.read_bytes(), stat.st_mtime_ns, stat.st_mode


def _open(path: Path, *, readonly: bool) -> None:
    store = MonitorStore(path, readonly=readonly)
    try:
        store.initialize()
    finally:
        store.close()


def _assert_one_line(error: BaseException, path: Path) -> str:
    message = str(error)
    assert "\n" not in message
    assert str(path) in message
    return message


@pytest.mark.parametrize("readonly", [False, True])
def test_a_file_that_is_not_sqlite(tmp_path: Path, readonly: bool) -> None:
    path = tmp_path / "monitor.db"
    path.write_bytes(b"this is a text file, not a database\n" * 20)
    before = _fingerprint(path)
    with pytest.raises(StoreError) as caught:
        _open(path, readonly=readonly)
    assert "is not a SQLite database" in _assert_one_line(caught.value, path)
    assert _fingerprint(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["monitor.db"]


@pytest.mark.parametrize("readonly", [False, True])
def test_a_corrupt_sqlite_file(tmp_path: Path, readonly: bool) -> None:
    # A real header followed by garbage: SQLite itself finds the file malformed.
    path = tmp_path / "monitor.db"
    good = tmp_path / "good.db"
    with MonitorStore(good) as store:
        store.write_snapshot(snapshot(BASE_TIME))
    path.write_bytes(good.read_bytes()[:100] + b"\xff" * 8000)
    before = _fingerprint(path)
    with pytest.raises(StoreError) as caught:
        _open(path, readonly=readonly)
    _assert_one_line(caught.value, path)
    assert _fingerprint(path) == before


@pytest.mark.parametrize("readonly", [False, True])
def test_a_directory_where_the_file_should_be(tmp_path: Path, readonly: bool) -> None:
    path = tmp_path / "monitor.db"
    path.mkdir()
    with pytest.raises(StoreError) as caught:
        _open(path, readonly=readonly)
    assert "is a directory" in _assert_one_line(caught.value, path)
    assert path.is_dir() and list(path.iterdir()) == []


def test_a_missing_file_opened_readonly_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    with pytest.raises(StoreError) as caught:
        _open(path, readonly=True)
    assert str(caught.value) == f"no monitor database at {path}"
    assert not path.exists()


@pytest.fixture
def read_only_file(tmp_path: Path) -> Iterator[Path]:
    """A valid monitor.db the current user cannot write (immutable when running as root)."""
    path = tmp_path / "monitor.db"
    with MonitorStore(path) as store:
        store.write_snapshot(snapshot(BASE_TIME))
    with read_only(path):
        yield path


def test_a_read_only_file_opened_for_writing(read_only_file: Path) -> None:
    before = _fingerprint(read_only_file)
    with pytest.raises(StoreError) as caught:
        _open(read_only_file, readonly=False)
    assert "is read-only" in _assert_one_line(caught.value, read_only_file)
    assert _fingerprint(read_only_file) == before
    # Read-only access still works, and still changes nothing.
    with MonitorStore(read_only_file, readonly=True) as store:
        assert store.count_snapshots() == 1
    assert _fingerprint(read_only_file) == before


def _newer_file(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE snapshots (id INTEGER PRIMARY KEY, timestamp REAL NOT NULL)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("readonly", [False, True])
def test_a_newer_schema_version(tmp_path: Path, readonly: bool) -> None:
    path = tmp_path / "monitor.db"
    _newer_file(path)
    before = _fingerprint(path)
    with pytest.raises(NewerSchemaError) as caught:
        _open(path, readonly=readonly)
    message = _assert_one_line(caught.value, path)
    assert f"schema version {SCHEMA_VERSION + 1}" in message
    assert f"version {SCHEMA_VERSION} " in message
    assert _fingerprint(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["monitor.db"]


def test_another_programs_database_is_refused(upstream_copy: Path) -> None:
    path = upstream_copy / "registry.db"
    before = _fingerprint(path)
    with pytest.raises(StoreError) as caught:
        _open(path, readonly=False)
    assert "not a monitor database" in _assert_one_line(caught.value, path)
    assert _fingerprint(path) == before


def test_writing_through_a_readonly_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    with MonitorStore(path) as store:
        store.write_snapshot(snapshot(BASE_TIME))
    before = _fingerprint(path)
    with MonitorStore(path, readonly=True) as store:
        with pytest.raises(StoreError, match="read-only"):
            store.write_snapshot(snapshot(BASE_TIME + 5))
        with pytest.raises(StoreError, match="read-only"):
            store.cleanup(RetentionConfig())
    assert _fingerprint(path) == before


def test_a_closed_store_refuses_work(tmp_path: Path) -> None:
    store = MonitorStore(tmp_path / "monitor.db")
    store.initialize()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.write_snapshot(snapshot(BASE_TIME))
    with pytest.raises(StoreError, match="closed"):
        store.read_snapshots(0.0)
