"""Readers and writers of Marianne's own files: paths, PID file, job registry, learning store.

Imports only the models, `sqlite3` and the standard library (import-linter checks it).
"""

from __future__ import annotations

from mzt_tui.marianne.conductor import find_conductor, read_pid_file
from mzt_tui.marianne.learning import LearningStore
from mzt_tui.marianne.learning_hashes import content_hash, hash_job, hash_workspace, pattern_id
from mzt_tui.marianne.liveness import pid_alive
from mzt_tui.marianne.paths import MarianneHome, resolve_home
from mzt_tui.marianne.registry import RegistryReader, sheet_started_at_or_before

__all__ = [
    "LearningStore",
    "MarianneHome",
    "RegistryReader",
    "content_hash",
    "find_conductor",
    "hash_job",
    "hash_workspace",
    "pattern_id",
    "pid_alive",
    "read_pid_file",
    "resolve_home",
    "sheet_started_at_or_before",
]
