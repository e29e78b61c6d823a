"""The demo feeds its home's learning store the way a conductor does.

Each sheet that reaches a final status is recorded once as an execution outcome (read back
from the registry the demo just wrote), and each retry after a failure is recorded as an
error recovery: the error code, the wait the demo planned, the wait it really took, and
whether the retry succeeded. So `mzt learning` over the demo's home has statistics, an
hour-of-day window and learned wait times to show. A learning store that cannot be written
is reported through `announce` and never stops the demo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mzt_tui.marianne.learning import LearningStore
from mzt_tui.marianne.registry import RegistryReader
from mzt_tui.models.errors import MztError

LEARNING_FILE_NAME = "global-learning.db"


@dataclass
class _Failure:
    error_code: str
    ended_at: float
    planned_wait: float


@dataclass
class DemoLearning:
    """Records the demo's sheet outcomes and error recoveries.

    Args:
        home: The demo's home (its `global-learning.db` is created on the first record).
        registry_path: The registry the demo writes.
        announce: Where one-line problems go.
    """

    home: Path
    registry_path: Path
    announce: Callable[[str], None]
    _store: LearningStore = field(init=False)
    _registry: RegistryReader = field(init=False)
    _failures: dict[tuple[str, int], _Failure] = field(default_factory=dict)
    _complained: bool = False

    def __post_init__(self) -> None:
        self._store = LearningStore(self.home / LEARNING_FILE_NAME)
        self._registry = RegistryReader(self.registry_path)

    def attempt_failed(
        self, job_id: str, sheet_num: int, error_code: str, ended_at: float, planned_wait: float
    ) -> None:
        """Remember a failed attempt that will be retried after `planned_wait` seconds."""
        self._failures[(job_id, sheet_num)] = _Failure(error_code, ended_at, planned_wait)

    def attempt_ended(
        self,
        job_id: str,
        sheet_num: int,
        *,
        started_at: float | None,
        succeeded: bool,
        final: bool,
        model: str | None,
    ) -> None:
        """Record the recovery this attempt was (if it was a retry) and, if final, the outcome."""
        failure = self._failures.pop((job_id, sheet_num), None)
        try:
            if failure is not None and started_at is not None:
                self._store.record_error_recovery(
                    failure.error_code,
                    failure.planned_wait,
                    max(0.0, started_at - failure.ended_at),
                    succeeded,
                    model=model,
                )
            if final:
                job = self._registry.get_job(job_id)
                sheet = job.sheets.get(sheet_num) if job is not None else None
                if job is not None and sheet is not None and sheet.finished:
                    self._store.record_sheet_outcome_once(job, sheet)
        except (MztError, ValueError) as error:
            if not self._complained:
                self._complained = True
                self.announce(f"learning store not written: {error}")
