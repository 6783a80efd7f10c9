"""One path for every outcome: a wrapper around the executor that the search loop waits on.

An outcome reaches the loop in one of three ways, and all come back through :meth:`wait`:
trained by the wrapped executor; failed before training (the job carries its failure, and
is never trained); answered from the run record when a resumed run asks its last step
again (a child that comes out as recorded takes its recorded individual instead of
training). Recorded individuals no child matched are handed back too (:meth:`release`),
so nothing recorded is lost.
"""

from __future__ import annotations

from collections import deque

from evonas.core.individual import Candidate, Individual
from evonas.executor.base import Executor, Job, Outcome


class RecordedOutcomes:
    """The executor the loop talks to.

    Args:
        executor: trains the jobs that need training.
        recorded: a resumed run's individuals of the step it asks again, by genome hash.
    """

    def __init__(self, executor: Executor, recorded: dict[str, Individual] | None = None) -> None:
        self.executor = executor
        self.recorded = recorded
        self._answered: deque[tuple[Job | None, Outcome | Individual]] = deque()
        self._training = 0

    @property
    def slots(self) -> int:
        return self.executor.slots

    @property
    def pending(self) -> int:
        """Outcomes still to come back."""
        return self._training + len(self._answered)

    def answer_from_record(self, candidate: Candidate) -> bool:
        """Whether ``candidate`` was recorded in the step asked again; its recorded
        individual is then its outcome."""
        found = (self.recorded or {}).pop(candidate.genome.hash, None)
        if found is not None:
            self._answered.append((None, found))
        return found is not None

    def release(self) -> list[Individual]:
        """Once the step asked again is made: the recorded individuals no child matched,
        queued as outcomes too (returned, so their genomes count as seen)."""
        rest = sorted((self.recorded or {}).values(), key=lambda i: i.id)
        self._answered.extend((None, ind) for ind in rest)
        self.recorded = None
        return rest

    def submit(self, job: Job) -> None:
        if job.failure is not None:
            self._answered.append((job, job.failure))
            return
        self._training += 1
        self.executor.submit(job)

    def wait(self) -> tuple[Job | None, Outcome | Individual]:
        """The next outcome: one already known first, else a trained one (blocking). An
        :class:`Individual` (with no job) is an outcome answered from the record."""
        if self._answered:
            return self._answered.popleft()
        job, outcome = self.executor.wait()
        self._training -= 1
        return job, outcome

    def close(self) -> None:
        self.executor.close()
