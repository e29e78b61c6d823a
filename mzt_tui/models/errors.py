"""Errors that every layer raises and the CLI turns into one line on stderr."""

from __future__ import annotations


class MztError(Exception):
    """A failure the user can act on; its message is one complete line, no traceback."""

    exit_code = 1


class UsageError(MztError):
    """Bad input on the command line (a flag, a duration, a job name)."""

    exit_code = 2


class StoreError(MztError):
    """A database or data file that cannot be opened, read or written as asked."""


class MissingRowError(StoreError):
    """A row asked for by id is not in the database (deleted, or another file)."""


class NewerSchemaError(StoreError):
    """A file written by a newer mzt_tui (or conductor) than this one understands."""


class NoDataError(MztError):
    """The request is valid but there is nothing recorded to answer it."""
