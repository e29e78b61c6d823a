"""What reads repaired or skipped in rows another writer stored, so that readers can say it.

Reads make every foreign row valid (see `rows.py`) or skip it; each value repaired or row
skipped is noted here by `(table, column, what)` and the row's id. Ids make the accounting
count values, not reads: reading the same bad row twice (history playback, a profile after a
snapshot read) counts it once. Rows our own writer stored are valid by construction and are
never checked, so the accounting costs nothing on the usual path.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

RepairKey = tuple[str, str, str]
"""(table, column, what was wrong), e.g. ("process_metrics", "rss_mb", "negative")."""

SKIPPED = "row skipped"
"""The end of every `what` that says the whole row was skipped rather than repaired."""
SUMMARY_ENTRIES = 6
"""At most this many (table.column what) entries are named in a summary; the rest are counted."""
MAX_TRACKED_IDS = 200_000
"""Row ids remembered at most; past that, values are counted without telling re-reads apart."""


@dataclass(frozen=True)
class ReadRepairs:
    """How many values reads repaired, and rows they skipped, by `(table, column, what)`.

    Attributes:
        counts: `(key, count)` pairs, sorted by key; no count is zero.
    """

    counts: tuple[tuple[RepairKey, int], ...] = ()

    def __bool__(self) -> bool:
        """Whether anything was repaired or skipped."""
        return bool(self.counts)

    def count(self, table: str, column: str, what: str) -> int:
        """How many values of `table.column` were found `what` (0 when none)."""
        return dict(self.counts).get((table, column, what), 0)

    @property
    def kinds(self) -> frozenset[RepairKey]:
        """Every key counted."""
        return frozenset(key for key, _ in self.counts)

    def summary(self, name: str = "monitor.db") -> str | None:
        """One line saying what was repaired and skipped in `name`, or None when nothing was.

        `monitor.db: repaired 3 values in rows another writer stored (process_metrics.rss_mb
        2 negative, snapshots.gpu_temperature 1 invalid JSON); skipped 1 row
        (process_events.event_type 1 unknown)`
        """
        repaired = [(key, n) for key, n in self.counts if not key[2].endswith(SKIPPED)]
        skipped = [(key, n) for key, n in self.counts if key[2].endswith(SKIPPED)]
        parts: list[str] = []
        if repaired:
            total = sum(n for _, n in repaired)
            parts.append(
                f"repaired {total} value{'s' * (total != 1)} in rows another writer stored"
                f" ({_entries(repaired)})"
            )
        if skipped:
            total = sum(n for _, n in skipped)
            parts.append(f"skipped {total} row{'s' * (total != 1)} ({_entries(skipped)})")
        return f"{name}: {'; '.join(parts)}" if parts else None


def _entries(counts: list[tuple[RepairKey, int]]) -> str:
    ranked = sorted(counts, key=lambda item: (-item[1], item[0]))
    named = [
        f"{table}.{column} {n} {what.removesuffix(SKIPPED).rstrip(': ')}"
        for (table, column, what), n in ranked[:SUMMARY_ENTRIES]
    ]
    rest = len(ranked) - SUMMARY_ENTRIES
    if rest > 0:
        named.append(f"and {rest} more")
    return ", ".join(named)


class RepairLog:
    """The repairs a store's reads noted since the last `take`; thread-safe."""

    def __init__(self) -> None:
        """Start with nothing noted."""
        self._lock = threading.Lock()
        self._ids: defaultdict[RepairKey, set[int]] = defaultdict(set)
        self._untracked: Counter[RepairKey] = Counter()
        self._tracked = 0

    def note(self, notes: Iterable[tuple[RepairKey, int]]) -> None:
        """Note each `(key, row id)`: a value of that row was repaired, or the row skipped."""
        batch = list(notes)  # read (from SQLite, maybe) before taking the lock
        with self._lock:
            for key, row_id in batch:
                ids = self._ids[key]
                if row_id in ids:
                    continue
                if self._tracked < MAX_TRACKED_IDS:
                    ids.add(row_id)
                    self._tracked += 1
                else:
                    self._untracked[key] += 1

    def note_faults(
        self, table: str, columns: tuple[str, ...], rows: Iterable[tuple[object, ...]]
    ) -> None:
        """Note rows of `(row id, fault of columns[0], fault of columns[1], ...)`.

        Each fault is None (the value was valid) or the text saying what was wrong.
        """
        self.note(
            ((table, column, str(fault)), int(str(row[0])))
            for row in rows
            for column, fault in zip(columns, row[1:], strict=True)
            if fault is not None
        )

    def peek(self) -> ReadRepairs:
        """Everything noted so far (kept)."""
        with self._lock:
            return self._counted()

    def take(self) -> ReadRepairs:
        """Everything noted so far, forgetting it."""
        with self._lock:
            counted = self._counted()
            self._ids.clear()
            self._untracked.clear()
            self._tracked = 0
        return counted

    def _counted(self) -> ReadRepairs:
        counts = Counter({key: len(ids) for key, ids in self._ids.items() if ids})
        counts.update(self._untracked)
        return ReadRepairs(tuple(sorted(counts.items())))
