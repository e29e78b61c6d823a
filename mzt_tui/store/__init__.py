"""monitor.db storage: Marianne's schema plus ours, batched writer, readers, retention, JSONL.

Imports only `mzt_tui.models`, sqlite3 and the standard library.
"""

from __future__ import annotations

from mzt_tui.store.monitor import MonitorStore
from mzt_tui.store.schema import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "MonitorStore"]
