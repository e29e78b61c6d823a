"""`mzt dump`: recorded process samples to scripts, streamed as they are read.

Rows come from monitor.db a chunk at a time and are written before the next chunk is read,
so memory stays flat whatever the window. Formats:

- `json`: JSON Lines, one object per sample (a stream a script can read line by line);
- `csv`: a header row, then one row per sample (an empty cell for a missing value);
- `openmetrics`: one gauge family per numeric field, a sample per process and tick with
  its timestamp, labels `job`, `sheet` and `pid`, ending with `# EOF`. Each family is its
  own streamed query, ordered by series as OpenMetrics requires.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TextIO

from mzt_tui.cli.repairs import warn_repairs
from mzt_tui.models.durations import parse_duration
from mzt_tui.models.errors import NoDataError, UsageError
from mzt_tui.store.dump import DEFAULT_CHUNK_ROWS, SAMPLE_FIELDS, SampleQuery, SampleRow

OutputFormat = Literal["json", "csv", "openmetrics"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("json", "csv", "openmetrics")
MIB = 1024 * 1024

# field -> (OpenMetrics family, help, scale to base units)
METRIC_FIELDS: dict[str, tuple[str, str, float]] = {
    "cpu_percent": ("mzt_process_cpu_percent", "CPU use of the process (100 = one core).", 1.0),
    "rss_mb": ("mzt_process_rss_bytes", "Resident memory of the process.", MIB),
    "vms_mb": ("mzt_process_vms_bytes", "Virtual memory of the process.", MIB),
    "threads": ("mzt_process_threads", "Threads of the process.", 1.0),
    "open_fds": ("mzt_process_open_fds", "Open file descriptors of the process.", 1.0),
    "age_seconds": ("mzt_process_age_seconds", "How long the process had run.", 1.0),
    "gpu_memory_mb": ("mzt_process_gpu_memory_bytes", "GPU memory held by the process.", MIB),
}

ChunkSource = Callable[[SampleQuery], Iterator[list[SampleRow]]]


@dataclass(frozen=True)
class DumpRequest:
    """The flags of `mzt dump`, as given."""

    db_path: Path
    since: str = "1h"
    until: str | None = None
    score: str | None = None
    sheet: int | None = None
    output: str = "json"
    fields: str | None = None


def parse_time(text: str, now: float, flag: str) -> float:
    """A duration ago (`30m`, `2h`) or an ISO 8601 time (UTC unless it names a zone).

    Raises:
        UsageError: Neither.
    """
    try:
        return now - parse_duration(text)
    except UsageError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"invalid {flag} {text!r}: expected a duration ago (30s, 5m, 1h, 2h30m) or an"
            " ISO time (2026-01-31T14:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_output(text: str) -> OutputFormat:
    """Check `-O`.

    Raises:
        UsageError: Not one of the formats.
    """
    for name in OUTPUT_FORMATS:
        if text == name:
            return name
    raise UsageError(f"invalid --output {text!r}: expected one of {', '.join(OUTPUT_FORMATS)}")


def parse_fields(text: str | None, output: OutputFormat) -> tuple[str, ...]:
    """The fields to write, in the order given (all of them by default).

    Raises:
        UsageError: An unknown, repeated or (for openmetrics) non-numeric field.
    """
    allowed = tuple(METRIC_FIELDS) if output == "openmetrics" else SAMPLE_FIELDS
    if text is None:
        return allowed
    fields = tuple(part.strip() for part in text.split(","))
    for name in fields:
        if name not in allowed:
            what = "metric field for -O openmetrics" if output == "openmetrics" else "field"
            raise UsageError(
                f"unknown {what} {name!r} in --fields: expected some of {','.join(allowed)}"
            )
    if len(set(fields)) != len(fields):
        raise UsageError(f"invalid --fields {text!r}: a field is named twice")
    return fields


def build_query(request: DumpRequest, now: float, chunk_rows: int) -> SampleQuery:
    """The window and filters of a request.

    Raises:
        UsageError: A bad time, a window that ends before it starts, a bad sheet number.
    """
    since = parse_time(request.since, now, "--since")
    # A fixed end, so that every query of one dump (openmetrics runs several) sees one window.
    until = parse_time(request.until, now, "--until") if request.until is not None else now
    if until <= since:
        raise UsageError(f"invalid window: --until {request.until!r} is not after --since")
    if request.sheet is not None and request.sheet < 0:
        raise UsageError(f"invalid --sheet {request.sheet}: it must be 0 or more")
    return SampleQuery(
        since=since,
        until=until,
        job_id=request.score,
        sheet_num=request.sheet,
        chunk_rows=chunk_rows,
    )


def run_dump(
    request: DumpRequest,
    out: TextIO | None = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    now: float | None = None,
) -> int:
    """Stream the samples the request asks for to `out` and return how many were written.

    What the read repaired in rows another writer stored is said on stderr, in one line.

    Raises:
        UsageError: A bad flag.
        StoreError: The database is missing or unreadable.
        NoDataError: Nothing recorded matches.
    """
    from mzt_tui.store import MonitorStore

    output = parse_output(request.output)
    fields = parse_fields(request.fields, output)
    query = build_query(request, time.time() if now is None else now, chunk_rows)
    stream = out if out is not None else sys.stdout
    store = MonitorStore(request.db_path, readonly=True)
    try:
        store.initialize()
        written = write_samples(store.iter_sample_chunks, query, output, fields, stream)
    finally:
        store.close()
    warn_repairs(store.take_repairs(), request.db_path)
    if not written:
        raise NoDataError(f"no process samples match in {request.db_path}")
    return written


def write_samples(
    source: ChunkSource,
    query: SampleQuery,
    output: OutputFormat,
    fields: tuple[str, ...],
    out: TextIO,
) -> int:
    """Write what `source` streams for `query` in `output`; return the samples written.

    Only `fields` are read. Nothing at all is written when the window holds no sample.
    """
    if output == "openmetrics":
        return _write_openmetrics(source, query, fields, out)
    chunks = source(replace(query, fields=fields))
    first = next(chunks, None)
    if first is None:
        return 0
    rows = _prepend(first, chunks)
    if output == "csv":
        return _write_csv(rows, fields, out)
    return _write_json_lines(rows, fields, out)


def _prepend(first: list[SampleRow], rest: Iterator[list[SampleRow]]) -> Iterator[list[SampleRow]]:
    yield first
    yield from rest


def _write_json_lines(
    chunks: Iterable[list[SampleRow]], fields: tuple[str, ...], out: TextIO
) -> int:
    written = 0
    encode = json.JSONEncoder(separators=(",", ":")).encode
    for chunk in chunks:
        out.write("".join(encode(dict(zip(fields, row, strict=True))) + "\n" for row in chunk))
        written += len(chunk)
    return written


def _write_csv(chunks: Iterable[list[SampleRow]], fields: tuple[str, ...], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    written = 0
    for chunk in chunks:
        writer.writerows(chunk)
        written += len(chunk)
    return written


def _label(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def _write_openmetrics(
    source: ChunkSource, query: SampleQuery, fields: tuple[str, ...], out: TextIO
) -> int:
    written = 0
    for number, field in enumerate(fields):
        series = replace(
            query, order="series", fields=("timestamp", "job_id", "sheet_num", "pid", field)
        )
        chunks = source(series)
        first = next(chunks, None)
        if first is None:
            return 0  # every family reads the same window: the first is empty only if all are
        name, documentation, scale = METRIC_FIELDS[field]
        out.write(f"# TYPE {name} gauge\n# HELP {name} {documentation}\n")
        for chunk in _prepend(first, chunks):
            out.write(
                "".join(
                    f'{name}{{job="{_label(job)}",sheet="{_label(sheet)}",pid="{pid}"}} '
                    f"{_number(value * scale)} {_number(timestamp)}\n"
                    for timestamp, job, sheet, pid, value in chunk
                )
            )
            if number == 0:
                written += len(chunk)
    out.write("# EOF\n")
    return written
