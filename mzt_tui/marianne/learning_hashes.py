"""The learning store's identifiers, computed exactly as the conductor computes them."""

from __future__ import annotations

import hashlib
from pathlib import Path

_SHORT_HASH_CHARS = 16
_CONTENT_HASH_CHARS = 32


def _sha256_hex(text: str) -> str:
    """Return the hex SHA-256 of `text` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_job(job_id: str, config_hash: str | None = None) -> str:
    """Return the job hash: first 16 hex of sha256(`"{job_id}:{config_hash or ''}"`).

    Args:
        job_id: The job ID (the score name).
        config_hash: The conductor's optional config version; it leaves it out today.
    """
    return _sha256_hex(f"{job_id}:{config_hash or ''}")[:_SHORT_HASH_CHARS]


def hash_workspace(workspace: str | Path) -> str:
    """Return the workspace hash: first 16 hex of sha256 of the resolved absolute path."""
    resolved = str(Path(workspace).resolve())
    return _sha256_hex(resolved)[:_SHORT_HASH_CHARS]


def normalize_pattern_name(name: str) -> str:
    """Lower-case a pattern name and collapse each run of white space to one space."""
    return " ".join(name.lower().split())


def pattern_id(pattern_type: str, name: str) -> str:
    """Return a pattern's ID: first 16 hex of sha256(`"{type}:{normalized name}"`)."""
    return _sha256_hex(f"{pattern_type}:{normalize_pattern_name(name)}")[:_SHORT_HASH_CHARS]


def content_hash(pattern_type: str, name: str, description: str | None) -> str:
    """Return a pattern's content hash: first 32 hex of sha256(`"{type}:{normalized}:{desc}"`)."""
    text = f"{pattern_type}:{normalize_pattern_name(name)}:{description or ''}"
    return _sha256_hex(text)[:_CONTENT_HASH_CHARS]
