"""The search loop: a thin driver of named parts (pymoo's ``Algorithm.run``/``next``).

Per step the strategy proposes; the :class:`~evonas.engine.children.ChildFactory` makes
the children; the :class:`~evonas.engine.scorer.Scorer` adds their cheap objectives; the
strategy accepts some; the executor trains them; the scorer turns each result into an
individual, which the archive, the observers (run record, progress display) and the
strategy receive. The :class:`~evonas.core.budget.Budget` says when to stop and how far.

Resume is a restore, not a replay: given the recorded ``history``, the strategy's state
is rebuilt from it (:meth:`Strategy.restore`) and the search goes on. Only the last step,
whose children may be partly recorded, is asked again: children that come out as recorded
take their recorded result instead of training, so a killed run continues exactly; a child
that now comes out differently (the code changed) is trained, and the recorded ones are
told as well, so nothing recorded is lost.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from evonas.core.budget import Budget, Progress
from evonas.core.deadline import CandidateTimeout
from evonas.core.individual import Candidate, Individual
from evonas.core.observer import Observer
from evonas.core.pareto import ParetoArchive
from evonas.core.seeds import Stream, derive_seed
from evonas.engine.children import ChildFactory
from evonas.engine.scorer import Scorer
from evonas.executor.base import Executor, Job
from evonas.executor.recorded import RecordedOutcomes
from evonas.strategy.base import Strategy, StrategyContext

UNFIT_ASKS = 5  # asks in a row whose candidates are all too long for what is left
EMPTY_ASKS = 100  # asks in a row that give nothing new before the space counts as exhausted


class Search:
    """A multi-objective architecture search.

    Args:
        strategy: proposes and selects (see :mod:`evonas.strategy`).
        executor: trains candidates (in this process, a pool of processes, Ray).
        children: makes children from proposals (morphisms, limits, duplicates).
        scorer: the objectives.
        budget: when to stop.
        seed: one seed for every random choice of the run.
        observers: notified of every step (the run record, a progress display).
        history: a stopped run's recorded individuals, in the order they were recorded.
    """

    def __init__(
        self,
        *,
        strategy: Strategy,
        executor: Executor,
        children: ChildFactory,
        scorer: Scorer,
        budget: Budget,
        seed: int = 0,
        observers: Sequence[Observer] = (),
        history: Sequence[Individual] = (),
    ) -> None:
        self.strategy = strategy
        self.children = children
        self.scorer = scorer
        self.budget = budget
        self.seed = seed
        self.observers = list(observers)
        self.archive = ParetoArchive(scorer.infos)
        self.progress = Progress()
        self.individuals: dict[int, Individual] = {}
        self.stop_reason: str | None = None
        self.outcomes = RecordedOutcomes(executor)  # every outcome comes back through it
        self._batch: list[Individual] = []  # a generation's individuals, told together
        # asks in a row whose candidates all ran past an epoch budget: at UNFIT_ASKS,
        # nothing more is asked (the budget is spent)
        self._unfit_asks = 0
        scorer.on_measured = self._cheap_measured  # cheap values go on record as measured
        strategy.setup(
            StrategyContext(scorer.infos, dict(children.morphisms), children.initial, seed)
        )
        self._started = time.perf_counter()
        self._restore(list(history))

    @property
    def executor(self) -> Executor:
        """Where candidates train (the loop waits on it through :attr:`outcomes`)."""
        return self.outcomes.executor

    @executor.setter
    def executor(self, executor: Executor) -> None:
        self.outcomes.executor = executor

    # --- the loop -----------------------------------------------------------------------
    def run(self) -> ParetoArchive:
        """Runs until the budget is spent or nothing new can be made; returns the archive."""
        try:
            while self.stop_reason is None:
                self.next()
        finally:
            self.outcomes.close()
            self.scorer.close()
        for ind in self.outcomes.unclaimed():  # recorded, not yet counted at the stop
            self._count(ind)
        for o in self.observers:
            o.on_stop(self, self.stop_reason)
        return self.archive

    def next(self) -> None:
        """One step: fill the free slots, then take one outcome (or stop). When the
        wall-clock budget is spent, work in flight is abandoned (a resume redoes it), so a
        run ends within one candidate's time limit of its budget."""
        self._fill()
        if self.budget.time_up(self._tick()) or not self.outcomes.pending:
            self.stop_reason = self.stop_reason or self.budget.reason(self.progress)
            return
        individual = self._collect()
        if individual is None:  # held past the wall-clock budget: abandoned, as in flight
            self.stop_reason = self.stop_reason or self.budget.reason(self._tick())
            return
        self._deliver(individual)

    def _fill(self) -> None:
        empty = 0
        while self._may_ask():
            extra = 2 + empty // 10  # try harder while asks keep giving nothing new
            if self._ask(extra):
                empty = 0
                if not self.strategy.asynchronous:
                    return
                continue
            empty += 1
            if empty >= EMPTY_ASKS:
                if not self.outcomes.pending:
                    self.stop_reason = (
                        f"search space exhausted: {EMPTY_ASKS} asks in a row gave no new child "
                        f"within the limits, even with up to {extra} extra morphisms per child "
                        f"(after {self.progress.evaluations} evaluations)"
                    )
                return

    def _ask(self, extra: int) -> bool:
        """Asks, makes and scores children, lets the strategy accept, submits; says whether
        anything was accepted."""
        made = self.children.make_all(self.strategy.ask(self._free()), extra)
        scored, failed = [], []
        for c in made:
            try:
                c.cheap = self.scorer.cheap(c.genome)
                scored.append(c)
            except (Exception, SystemExit) as exc:  # fails this candidate, not the run
                failed.append((c, exc))
        accepted = self.strategy.accept(scored)
        unfit = 0
        for child, error in [(c, None) for c in accepted] + failed:
            if not self.budget.may_submit(self.progress, self.outcomes.pending_epochs):
                continue
            if error is None and not self._fits(child):
                unfit += 1
                continue
            self._submit(child, failure=error)
        if accepted and unfit == len(accepted) and not failed:
            self._unfit_asks += 1  # only candidates too long for what is left of the budget
        elif accepted or failed:
            self._unfit_asks = 0
        if self.outcomes.recorded is not None:  # the step a resume asked again is made
            for ind in self.outcomes.release():
                self.children.mark_seen(ind.genome)
        return bool(accepted or failed)

    def _fits(self, candidate: Candidate) -> bool:
        """Whether a candidate of known epochs ends within an epoch budget (one a resumed
        run recorded always does: it is not trained again)."""
        recorded = self.outcomes.recorded
        if recorded is not None and candidate.genome.hash in recorded:
            return True
        return self.budget.fits(self.progress, self.outcomes.pending_epochs, candidate.epochs)

    def _cheap_measured(self, genome_hash: str, values: dict[str, float]) -> None:
        for o in self.observers:
            o.on_cheap(genome_hash, values)

    def _may_ask(self) -> bool:
        if self._unfit_asks >= UNFIT_ASKS:
            return False
        if not self.budget.may_submit(self._tick(), self.outcomes.pending_epochs):
            return False
        if self.strategy.asynchronous:
            return self.outcomes.pending < self.outcomes.slots
        return not self.outcomes.pending and not self._batch

    def _free(self) -> int:
        return max(1, self.outcomes.slots - self.outcomes.pending)

    def _tick(self) -> Progress:
        self.progress.seconds = time.perf_counter() - self._started
        return self.progress

    # --- children and jobs --------------------------------------------------------------
    def _submit(self, candidate: Candidate, failure: BaseException | None = None) -> None:
        """Starts training a candidate; one that ``failure`` already ended (its cheap
        objectives failed) is recorded as failed without training; one a resumed run
        recorded in the step it asks again takes its recorded result."""
        self.children.mark_seen(candidate.genome)
        if self.outcomes.answer_from_record(candidate):
            return
        ident = self.children.reserve(candidate)
        seed = derive_seed(self.seed, Stream.TRAINING, ident)
        limit, budget_bound = self.budget.job_limit(self._tick())
        job = Job(
            ident,
            candidate,
            seed,
            self.children.teacher(candidate),
            limit,
            step=self.strategy.step,
            failure=failure,
            budget_bound=budget_bound,
        )
        if failure is None:
            for o in self.observers:
                o.on_submit(self, ident, candidate)
        self.outcomes.submit(job)

    def _collect(self) -> Individual | None:
        """Waits for an outcome; scores and records a new one (a recorded one is counted only).
        None: a job ran past the wall-clock budget (it is abandoned, not recorded: a
        resume trains it again)."""
        job, outcome = self.outcomes.wait()
        if isinstance(outcome, Individual):  # recorded in the step asked again
            self._count(outcome)
            return outcome
        assert job is not None
        if job.budget_bound and isinstance(outcome, CandidateTimeout):
            return None
        individual = self.scorer.individual(job.ident, job.candidate, outcome, job.step)
        state = outcome.state if individual.ok and not isinstance(outcome, BaseException) else None
        self.children.remember(individual.id, individual.genome, state)
        self._count(individual)
        individual.train.elapsed = round(self.progress.seconds, 3)
        for o in self.observers:
            o.on_individual(self, individual)
        return individual

    def _deliver(self, individual: Individual) -> None:
        if self.strategy.asynchronous:
            self.strategy.tell([individual])
            return
        self._batch.append(individual)
        if not self.outcomes.pending:
            self.strategy.tell(sorted(self._batch, key=lambda i: i.id))
            self._batch = []

    def _count(self, individual: Individual) -> None:
        self.individuals[individual.id] = individual
        p = self._tick()
        p.evaluations += 1
        p.epochs += individual.train.epochs
        self.archive.add([individual])
        p.hypervolume = self.archive.hypervolume()

    # --- resume -------------------------------------------------------------------------
    def _restore(self, history: list[Individual]) -> None:
        """Rebuilds the totals, the archive, the parents and the strategy from a history;
        a last step that may be partly recorded is asked again (its recorded individuals
        answer the children that come out the same)."""
        if not history:
            return
        last = max((i.step for i in history if i.step is not None), default=None)
        prior = [i for i in history if i.step is not None and last is not None and i.step < last]
        batch = [i for i in history if i.step == last]
        asked_again = not (
            last is None or len(prior) != last or len(prior) + len(batch) != len(history)
        )
        # the step asked again is counted as its outcomes come back, as the whole run
        # counted it: until then its candidates are in flight (the budget counts them so)
        for ind in prior if asked_again else history:
            self._count(ind)
        self._started = time.perf_counter() - history[-1].train.elapsed
        self._tick()
        if not asked_again:
            self.children.restore(history)
            self.strategy.restore(history)  # no step to ask again: continue from here
            return
        self.children.restore(history, asked_again=last)
        self.strategy.restore(prior)
        self.outcomes.recorded = {i.genome.hash: i for i in batch}
