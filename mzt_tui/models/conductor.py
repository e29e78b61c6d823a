"""Where the Marianne conductor runs, as far as its PID file and registry tell."""

from __future__ import annotations

from typing import Literal

from mzt_tui.models.process import Frozen

ConductorSource = Literal["pid_file", "registry"]


class ConductorStatus(Frozen):
    """The conductor's live PID and where it was found, or why none was found."""

    pid: int | None = None
    """The PID of a live conductor, or None when none could be confirmed."""
    source: ConductorSource | None = None
    """Which file gave the PID: the PID file first, else a `running` registry row."""
    reasons: tuple[str, ...] = ()
    """One line per thing that did not work out (missing file, junk, dead PID ...)."""

    @property
    def found(self) -> bool:
        """Whether a live conductor was found."""
        return self.pid is not None
