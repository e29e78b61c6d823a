"""mzt_tui: a `top` for Marianne AI-agent job fleets."""

from __future__ import annotations

__version__ = "0.1.0"
