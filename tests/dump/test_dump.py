"""`mzt dump`: samples written with MonitorStore, dumped, parsed back by each format."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.samples import Timestamp

from mzt_tui.cli import run
from mzt_tui.cli.dump import (
    METRIC_FIELDS,
    MIB,
    DumpRequest,
    build_query,
    run_dump,
    write_samples,
)
from mzt_tui.models.errors import NoDataError, StoreError, UsageError
from mzt_tui.store import MonitorStore
from mzt_tui.store.dump import SAMPLE_FIELDS, SampleQuery, SampleRow
from tests.conftest import read_only
from tests.exporter.openmetrics import parse_openmetrics
from tests.store.factories import BASE_TIME, process, snapshot

NOW = BASE_TIME + 100.0
TICKS = 6
TICK_SECONDS = 10.0


def _processes(tick: int) -> tuple[Any, ...]:
    return (
        process(
            100,
            job_id="job-a",
            sheet_num=1,
            cpu_percent=10.0 + tick,
            rss_mb=100.5 + tick,
            start_time=BASE_TIME - 60.0,
        ),
        process(
            101,
            job_id="job-a",
            sheet_num=2,
            cpu_percent=0.0,
            rss_mb=50.0,
            command='sh -c "echo a, b"\nsecond line',
            start_time=BASE_TIME - 30.0,
        ),
        process(
            200,
            job_id="job-b",
            sheet_num=1,
            cpu_percent=99.5,
            rss_mb=2048.25,
            threads=12,
            open_fds=300,
        ),
        process(300, job_id=None, sheet_num=None, command="/usr/bin/sshd"),
    )


def _expected(tick: int) -> list[dict[str, Any]]:
    timestamp = BASE_TIME + tick * TICK_SECONDS
    return [
        {"timestamp": timestamp, **{f: getattr(p, f) for f in SAMPLE_FIELDS if f != "timestamp"}}
        for p in _processes(tick)
    ]


EXPECTED = [row for tick in range(TICKS) for row in _expected(tick)]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.db"
    with MonitorStore(path) as store:
        for tick in range(TICKS):
            store.write_snapshot(snapshot(BASE_TIME + tick * TICK_SECONDS, _processes(tick)))
    return path


def _dump(db: Path, **flags: Any) -> str:
    out = io.StringIO()
    run_dump(DumpRequest(db_path=db, **flags), out, now=NOW, chunk_rows=5)
    return out.getvalue()


def _seconds(timestamp: float | Timestamp | None) -> float:
    assert timestamp is not None
    if isinstance(timestamp, Timestamp):
        return timestamp.sec + timestamp.nsec / 1e9
    return timestamp


def _cells(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]


def test_json_lines_parse_back_to_what_was_written(db: Path) -> None:
    text = _dump(db, since="5m")
    assert [json.loads(line) for line in text.splitlines()] == EXPECTED


def test_csv_parses_back_to_what_was_written(db: Path) -> None:
    text = _dump(db, since="5m", output="csv")
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == SAMPLE_FIELDS
    assert list(reader) == _cells(EXPECTED)


def test_openmetrics_parses_back_strictly(db: Path) -> None:
    text = _dump(db, since="5m", output="openmetrics")
    assert text.endswith("# EOF\n")
    families = {family.name: family for family in parse_openmetrics(text)}
    assert set(families) == {name for name, _, _ in METRIC_FIELDS.values()}
    for field, (name, _, scale) in METRIC_FIELDS.items():
        got = {
            (s.labels["job"], s.labels["sheet"], s.labels["pid"], _seconds(s.timestamp), s.value)
            for s in families[name].samples
        }
        want = {
            (
                row["job_id"] or "",
                "" if row["sheet_num"] is None else str(row["sheet_num"]),
                str(row["pid"]),
                row["timestamp"],
                row[field] * scale,
            )
            for row in EXPECTED
        }
        assert got == want, name
        assert families[name].type == "gauge"
    rss = {s.value for s in families["mzt_process_rss_bytes"].samples}
    assert 2048.25 * MIB in rss


@pytest.mark.parametrize(
    ("flags", "keep"),
    [
        ({"score": "job-a"}, lambda r: r["job_id"] == "job-a"),
        ({"sheet": 2}, lambda r: r["sheet_num"] == 2),
        ({"score": "job-b", "sheet": 1}, lambda r: r["job_id"] == "job-b"),
        ({"score": "job-a", "sheet": 9}, lambda r: False),
        # 100 s ago is BASE_TIME; 70 s ago is BASE_TIME + 30: ticks 0, 1 and 2.
        ({"since": "100s", "until": "70s"}, lambda r: r["timestamp"] < BASE_TIME + 30.0),
        (
            {
                "since": datetime.fromtimestamp(BASE_TIME + 20.0, UTC).isoformat(),
                "until": datetime.fromtimestamp(BASE_TIME + 40.0, UTC)
                .replace(tzinfo=None)
                .isoformat(),
            },
            lambda r: BASE_TIME + 20.0 <= r["timestamp"] < BASE_TIME + 40.0,
        ),
    ],
)
def test_filters(db: Path, flags: dict[str, Any], keep: Any) -> None:
    wanted = [row for row in EXPECTED if keep(row)]
    flags.setdefault("since", "5m")
    if not wanted:
        with pytest.raises(NoDataError, match="no process samples match"):
            _dump(db, **flags)
        return
    got = [json.loads(line) for line in _dump(db, **flags).splitlines()]
    assert got == wanted


def test_fields_pick_and_order_the_columns(db: Path) -> None:
    text = _dump(db, since="5m", output="csv", fields="rss_mb,pid,job_id")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["rss_mb", "pid", "job_id"]
    assert rows[1:] == [[str(r["rss_mb"]), str(r["pid"]), r["job_id"] or ""] for r in EXPECTED]
    lines = _dump(db, since="5m", fields="timestamp,command").splitlines()
    assert [list(json.loads(line)) for line in lines] == [["timestamp", "command"]] * len(EXPECTED)
    families = parse_openmetrics(_dump(db, since="5m", output="openmetrics", fields="threads"))
    assert [family.name for family in families] == ["mzt_process_threads"]


def test_a_read_only_file_is_dumped(db: Path) -> None:
    with read_only(db):
        assert len(_dump(db, since="5m").splitlines()) == len(EXPECTED)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"fields": "pid,nope"}, "unknown field 'nope' in --fields: expected some of timestamp,"),
        ({"fields": "pid,pid"}, "a field is named twice"),
        ({"output": "openmetrics", "fields": "command"}, "unknown metric field for -O openm"),
        ({"output": "xml"}, "invalid --output 'xml': expected one of json, csv, openmetrics"),
        ({"since": "yesterday"}, "invalid --since 'yesterday'"),
        ({"until": "soon"}, "invalid --until 'soon'"),
        ({"since": "1m", "until": "2m"}, "--until '2m' is not after --since"),
        ({"sheet": -1}, "invalid --sheet -1"),
    ],
)
def test_bad_values_are_one_usage_line(db: Path, flags: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError) as raised:
        _dump(db, **flags)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        _dump(tmp_path / "none.db", since="5m")
    assert not (tmp_path / "none.db").exists()


def test_cli_errors_are_one_line(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["dump", "--db", str(db), "--fields", "bogus"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("mzt: error: unknown field 'bogus' in --fields")
    # The rows are BASE_TIME, long before the real clock's last hour.
    assert run(["dump", "--db", str(db)]) == 1
    assert capsys.readouterr().err.startswith("mzt: error: no process samples match")


def test_cli_writes_to_stdout(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    since = datetime.fromtimestamp(BASE_TIME, UTC).isoformat()
    assert run(["dump", "--db", str(db), "--since", since, "-O", "csv", "-s", "job-b"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows == _cells([row for row in EXPECTED if row["job_id"] == "job-b"])


def test_the_store_hands_out_bounded_chunks(db: Path) -> None:
    query = SampleQuery(since=0.0, chunk_rows=4)
    with MonitorStore(db, readonly=True) as store:
        chunks = list(store.iter_sample_chunks(query))
    assert [len(chunk) for chunk in chunks] == [4] * 6
    assert [row[SAMPLE_FIELDS.index("pid")] for chunk in chunks for row in chunk] == [
        row["pid"] for row in EXPECTED
    ]


@pytest.mark.parametrize("output", ["json", "csv", "openmetrics"])
def test_each_chunk_is_written_before_the_next_is_read(db: Path, output: Any) -> None:
    out = io.StringIO()
    written_when_read: list[int] = []
    sizes: list[int] = []

    with MonitorStore(db, readonly=True) as store:

        def source(query: SampleQuery) -> Any:
            for chunk in store.iter_sample_chunks(query):
                written_when_read.append(_records(out.getvalue(), output))
                sizes.append(len(chunk))
                yield chunk

        query = build_query(DumpRequest(db_path=db, since="5m"), NOW, chunk_rows=5)
        fields = ("cpu_percent",) if output == "openmetrics" else SAMPLE_FIELDS
        count = write_samples(source, query, output, fields, out)
    assert count == len(EXPECTED)
    assert max(sizes) == 5
    assert len(sizes) == 5  # 24 rows in chunks of 5
    # When chunk n is read, the rows of chunks before it are already out.
    header = {"json": 0, "csv": 1, "openmetrics": 2}[output]
    for n in range(1, len(sizes)):
        assert written_when_read[n] == header + sum(sizes[:n])


def _records(text: str, output: str) -> int:
    """Lines written so far (CSV records: a command may hold a newline)."""
    if output == "csv":
        return len(list(csv.reader(io.StringIO(text))))
    return text.count("\n")


def test_nothing_is_written_when_nothing_matches(db: Path) -> None:
    out = io.StringIO()

    def empty(query: SampleQuery) -> Any:
        rows: list[list[SampleRow]] = []
        yield from rows

    for output in ("json", "csv", "openmetrics"):
        assert write_samples(empty, SampleQuery(since=0.0), output, ("pid",), out) == 0
    assert out.getvalue() == ""
