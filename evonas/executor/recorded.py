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
        # known outcomes and the epochs each counts in flight (see pending_epochs)
        self._answered: deque[tuple[Job | None, Outcome | Individual, float | None]] = deque()
        self._training: dict[int, float | None] = {}  # jobs training: ident -> their epochs

    @property
    def slots(self) -> int:
        return self.executor.slots

    @property
    def pending(self) -> int:
        """Outcomes still to come back."""
        return len(self._training) + len(self._answered)

    @property
    def pending_epochs(self) -> list[float | None]:
        """What each outcome still to come back trains, where known, as the epoch budget
        counts it in flight: a candidate's own epochs (None: the trainer's setting); one
        answered from the record as its candidate, so a resumed run counts what the whole
        one counted; a failure none."""
        return list(self._training.values()) + [e for _, _, e in self._answered]

    def answer_from_record(self, candidate: Candidate) -> bool:
        """Whether ``candidate`` was recorded in the step asked again; its recorded
        individual is then its outcome."""
        found = (self.recorded or {}).pop(candidate.genome.hash, None)
        if found is not None:
            self._answered.append((None, found, candidate.epochs))
        return found is not None

    def release(self) -> list[Individual]:
        """Once the step asked again is made: the recorded individuals no child matched,
        queued as outcomes too (returned, so their genomes count as seen)."""
        rest = sorted((self.recorded or {}).values(), key=lambda i: i.id)
        self._answered.extend((None, ind, ind.train.epochs) for ind in rest)
        self.recorded = None
        return rest

    def unclaimed(self) -> list[Individual]:
        """At a stop: the recorded individuals of the step asked again that were not handed
        back (the budget ran out first); they are results all the same. Taken out."""
        self.release()
        rest = [o for _, o, _ in self._answered if isinstance(o, Individual)]
        self._answered = deque(a for a in self._answered if not isinstance(a[1], Individual))
        return sorted(rest, key=lambda i: i.id)

    def submit(self, job: Job) -> None:
        if job.failure is not None:
            self._answered.append((job, job.failure, 0.0))
            return
        self._training[job.ident] = job.candidate.epochs
        self.executor.submit(job)

    def wait(self) -> tuple[Job | None, Outcome | Individual]:
        """The next outcome: one already known first, else a trained one (blocking). An
        :class:`Individual` (with no job) is an outcome answered from the record."""
        if self._answered:
            job, outcome, _ = self._answered.popleft()
            return job, outcome
        job, outcome = self.executor.wait()
        self._training.pop(job.ident, None)
        return job, outcome

    def close(self) -> None:
        self.executor.close()
