"""monitor.jsonl: one compact JSON snapshot per line, rotated to `.1` and `.2` at a size."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

from mzt_tui.models.errors import StoreError
from mzt_tui.models.process import SystemSnapshot
from mzt_tui.store.connection import FILE_MODE
from mzt_tui.store.text import without_surrogates

ROTATED_SUFFIXES = (".1", ".2")
"""Older files, newest first; what would be rotated past the last one is dropped."""


class JsonlAppender:
    """Appends snapshots to an NDJSON file from any thread (never from the event loop).

    The line is the model's compact JSON dump, the shape of the conductor's own lines plus
    our extra fields. Before a line is appended to a file already at `max_bytes` or more,
    the file becomes `.1`, `.1` becomes `.2`, and the old `.2` is dropped.
    """

    def __init__(self, path: Path, max_bytes: int) -> None:
        """Remember where to write; nothing is opened or created yet.

        Args:
            path: The NDJSON file (created with mode 0600 on the first append).
            max_bytes: The size at which the file is rotated.
        """
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def rotated_path(self, suffix: str) -> Path:
        """The path of a rotated file (`suffix` is `.1` or `.2`)."""
        return self.path.with_name(self.path.name + suffix)

    def append(self, snapshot: SystemSnapshot) -> None:
        """Append one line for `snapshot`, rotating first when the file is full.

        Raises:
            StoreError: The file or its folder cannot be written (one line, with the reason).
        """
        try:
            line = snapshot.model_dump_json().encode() + b"\n"
        except ValueError:  # pydantic's serialization error
            # Undecodable bytes in a command line: write them replaced.
            line = without_surrogates(snapshot).model_dump_json().encode() + b"\n"
        if self.path.is_dir():
            raise StoreError(f"cannot append to {self.path}: it is a directory")
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._rotate_if_full()
                descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
                try:
                    _write_whole_line(descriptor, line)
                finally:
                    os.close(descriptor)
            except OSError as exc:
                reason = exc.strerror or str(exc)
                raise StoreError(f"cannot append to {self.path}: {reason}") from exc

    def _rotate_if_full(self) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size < self.max_bytes:
            return
        newest, oldest = (self.rotated_path(suffix) for suffix in ROTATED_SUFFIXES)
        if newest.exists():
            os.replace(newest, oldest)
        os.replace(self.path, newest)


def _write_whole_line(descriptor: int, line: bytes) -> None:
    """Append `line` in one write(), or leave the file as it was and raise OSError.

    One write() of the whole line: O_APPEND keeps it in one piece even when the conductor
    appends to the same file. A short write (the file size limit or the disk reached
    mid-line) is cut off again, so no half line is ever left for a reader to trip on.
    """
    written = os.write(descriptor, line)
    if written < len(line):
        end = os.fstat(descriptor).st_size
        os.ftruncate(descriptor, max(0, end - written))
        raise OSError(errno.ENOSPC, "no space left for a whole line (file size limit or disk)")
