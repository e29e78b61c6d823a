"""`--record-outcomes`: every sheet that ends in the registry goes to the learning store once.

Current conductors no longer write `executions` themselves; this feeds the learning store's
execution side from the registry. Each finished sheet attempt is recorded once, ever: the
store keeps the attempts it recorded (`record_sheet_outcome_once`), and this class keeps
the ones it has seen this run so that a finished sheet costs nothing on later ticks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mzt_tui.marianne.learning import LearningStore
from mzt_tui.marianne.learning_executions import attempt_key
from mzt_tui.models import JobRecord
from mzt_tui.models.errors import MztError

AttemptName = tuple[str, int, int, str]


@dataclass
class OutcomeRecorder:
    """Records the outcomes of finished sheets from the registry's jobs."""

    learning: LearningStore
    recorded: int = 0
    _seen: set[AttemptName] = field(default_factory=set)

    def record(self, jobs: Iterable[JobRecord]) -> list[str]:
        """Record every finished sheet attempt not recorded yet; return one line per problem."""
        problems: list[str] = []
        for job in jobs:
            if not job.workspace:
                continue
            for sheet in job.sheets.values():
                if not sheet.finished:
                    continue
                name = (job.job_id, *attempt_key(sheet))
                if name in self._seen:
                    continue
                try:
                    if self.learning.record_sheet_outcome_once(job, sheet) is not None:
                        self.recorded += 1
                except (MztError, ValueError) as error:
                    problems.append(f"outcome of {job.job_id} sheet {sheet.sheet_num}: {error}")
                    continue  # not marked seen: tried again next tick
                self._seen.add(name)
        return problems
