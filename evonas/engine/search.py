"""The engine: one small loop that drives any strategy through ask / accept / tell.

The strategy proposes; the engine makes the children (applying morphisms to the parent's
genome and weights), skips architectures already seen, computes cheap objectives, lets the
strategy accept, trains what was accepted, computes the remaining objectives, and tells the
strategy. A Pareto archive over every evaluated network is updated as results arrive.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from evonas.engine.archive import ParetoArchive
from evonas.engine.evaluator import Evaluator
from evonas.engine.individual import Candidate, Individual
from evonas.engine.weights import WeightStore
from evonas.executor.base import Executor, InProcessExecutor, Job, Outcome, WorkerLost
from evonas.model.builder import StateDict, count_params
from evonas.morphism.base import (
    Morphism,
    MorphismRecord,
    NotApplicable,
    get_morphism,
    list_morphisms,
)
from evonas.objectives.base import EvalContext, Objective
from evonas.space.genome import Genome
from evonas.strategy.base import Proposal, Strategy, StrategyContext
from evonas.trainer.trainer import TrainResult


@dataclass(frozen=True)
class Budget:
    """When to stop: whichever limit is reached first (unset limits do not apply)."""

    evaluations: int | None = None  # networks evaluated (failed ones count)
    seconds: float | None = None  # wall-clock time of the search
    epochs: float | None = None  # training epochs summed over all networks

    def __post_init__(self) -> None:
        if self.evaluations is None and self.seconds is None and self.epochs is None:
            raise ValueError("a budget needs at least one of evaluations, seconds or epochs")
        for name in ("evaluations", "seconds", "epochs"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"budget {name} must be > 0, got {value}")


@dataclass(frozen=True)
class SpaceLimits:
    """Children beyond these limits are discarded before training."""

    max_nodes: int | None = None  # nodes in the genome
    max_channels: int | None = None  # widest node
    max_params: int | None = None  # trainable parameters

    def admits(self, genome: Genome, input_shape: tuple[int, int, int], num_classes: int) -> bool:
        if self.max_nodes is not None and len(genome) > self.max_nodes:
            return False
        if self.max_channels is not None and max(genome.channels.values()) > self.max_channels:
            return False
        if self.max_params is None:
            return True
        return count_params(genome, input_shape, num_classes) <= self.max_params


@dataclass
class Progress:
    """Running totals, also what the budget is checked against."""

    evaluations: int = 0
    epochs: float = 0.0
    seconds: float = 0.0
    hypervolume: float = 0.0


class Search:
    """A multi-objective architecture search.

    Args:
        strategy: proposes and selects (see :mod:`evonas.strategy`).
        evaluator: trains or scores candidates, in this process; or
        executor: trains them elsewhere (a pool of processes, Ray); give one of the two.
        objectives: what is optimised; the cheap ones are computed before training.
        initial: the initial networks, trained from scratch first.
        budget: when to stop.
        seed: one seed for every random choice of the run.
        morphisms: names of the enabled morphisms (default: all registered), or instances.
        inheritance: children start from their parent's weights (Lamarckian); False trains
            every child from scratch, to measure the benefit.
        limits: children beyond these are discarded.
        weights: where parents' weights are kept (default: all in memory).
        on_individual: called with every newly evaluated individual, in order (the run
            record); its weights are already in ``weights`` then.
        on_cheap: called with (genome hash, cheap objective values) for every child made.
        replay: individuals of an earlier, interrupted run of the same scenario, in order.
            They are not trained again: the strategy is driven through the same steps and
            gets the recorded results, so it (and every random stream) ends where the
            original run was, and the search continues as it would have.
        cheap_cache: recorded cheap objectives by genome hash (used instead of measuring).
        elapsed: seconds already spent by the interrupted run (counts against the budget).
    """

    def __init__(
        self,
        *,
        strategy: Strategy,
        evaluator: Evaluator | None = None,
        executor: Executor | None = None,
        objectives: Sequence[Objective],
        initial: Sequence[Genome],
        budget: Budget,
        seed: int = 0,
        morphisms: Sequence[str | Morphism] | None = None,
        inheritance: bool = True,
        limits: SpaceLimits | None = None,
        weights: WeightStore | None = None,
        on_individual: Callable[[Individual], None] | None = None,
        on_cheap: Callable[[str, dict[str, float]], None] | None = None,
        replay: Sequence[Individual] = (),
        cheap_cache: dict[str, dict[str, float]] | None = None,
        elapsed: float = 0.0,
    ) -> None:
        if not objectives:
            raise ValueError("a search needs at least one objective")
        names = [o.name for o in objectives]
        if len(set(names)) != len(names):
            raise ValueError(f"objective names must be unique, got {names}")
        if not initial:
            raise ValueError("a search needs at least one initial network")
        if (evaluator is None) == (executor is None):
            raise ValueError("give a search either an evaluator or an executor")
        self.strategy = strategy
        self.executor = executor if executor is not None else InProcessExecutor(evaluator)  # type: ignore[arg-type]
        self.input_shape = self.executor.input_shape
        self.num_classes = self.executor.num_classes
        self.objectives = list(objectives)
        self.budget = budget
        self.seed = seed
        self.inheritance = inheritance
        self.limits = limits or SpaceLimits()
        self.on_individual = on_individual
        self.on_cheap = on_cheap
        self._replay = {ind.id: ind for ind in replay}
        self._replay_order = [ind.id for ind in replay]  # the order results arrived in
        self.cheap_cache = dict(cheap_cache or {})
        enabled = [
            get_morphism(m) for m in (morphisms if morphisms is not None else list_morphisms())
        ]
        self.morphisms = {m.name: m for m in enabled}
        self.archive = ParetoArchive(self.objectives)
        self.progress = Progress()
        self.weights = weights or WeightStore()  # weights of individuals that may be parents
        self.individuals: dict[int, Individual] = {}
        self._seen: set[str] = set()
        self._next_id = 0
        # one seed splits into the strategy's stream and, per evaluation id, a training seed
        (strategy_seq,) = np.random.SeedSequence(seed).spawn(1)
        self.context = StrategyContext(
            objectives=self.objectives,
            morphisms=self.morphisms,
            initial=list(initial),
            rng=np.random.default_rng(strategy_seq),
        )
        self.strategy.setup(self.context)
        self._started = time.perf_counter() - elapsed

    # --- the loop -----------------------------------------------------------------------
    def run(self) -> ParetoArchive:
        """Runs until the budget is spent; returns the archive.

        Generational strategies get one batch at a time (all of it submitted, told in id
        order when complete); asynchronous ones get a new child whenever a worker is free.
        """
        pending: dict[int, Job] = {}
        batch: list[Individual] = []
        idle = 0
        while True:
            while self._may_ask(pending) and idle < 50:
                free = max(1, self.executor.slots - len(pending))
                children = self._make_children(self.strategy.ask(free))
                accepted = self.strategy.accept(children) if children else []
                idle = 0 if accepted else idle + 1  # 50 asks with nothing new: exhausted
                for child in accepted:
                    if self._can_submit(len(pending)):
                        job = self._job(child)
                        pending[job.ident] = job
                        if job.ident not in self._replay:
                            self.executor.submit(job)
                if not self.strategy.asynchronous:
                    break
            if not pending:
                break
            job, outcome = self._next_result(pending)
            del pending[job.ident]
            individual = self._finish(job, outcome)
            if self.strategy.asynchronous:
                self.strategy.tell([individual])
            else:
                batch.append(individual)
                if not pending:
                    self.strategy.tell(sorted(batch, key=lambda i: i.id))
                    batch = []
        self.executor.close()
        return self.archive

    def _may_ask(self, pending: dict[int, Job]) -> bool:
        if not self._can_submit(len(pending)):
            return False
        if self.strategy.asynchronous:
            return len(pending) < self.executor.slots
        return not pending

    def _can_submit(self, in_flight: int) -> bool:
        b, p = self.budget, self.progress
        if b.evaluations is not None and p.evaluations + in_flight >= b.evaluations:
            return False
        return not self.done()

    def _job(self, candidate: Candidate) -> Job:
        ident = self._next_id
        self._next_id += 1
        seed = int(np.random.SeedSequence([self.seed, 1, ident]).generate_state(1)[0])
        teacher = None
        if candidate.parent_id is not None and candidate.state is not None:
            parent_state = self.weights.get(candidate.parent_id)
            if parent_state is not None:
                teacher = (self.individuals[candidate.parent_id].genome, parent_state)
        return Job(ident, candidate, seed, teacher)

    def _next_result(self, pending: dict[int, Job]) -> tuple[Job, Outcome | Individual]:
        """The next finished job: from the record while replaying, else from the executor."""
        if self._replay_order:
            ident = self._replay_order[0]
            if ident not in pending:
                raise RuntimeError(
                    f"the run does not replay its record: candidate {ident} was never proposed "
                    "again. Was the scenario, the seed or the evonas version changed?"
                )
            self._replay_order.pop(0)
            return pending[ident], self._replay.pop(ident)
        return self.executor.wait()

    def done(self) -> bool:
        b, p = self.budget, self.progress
        p.seconds = time.perf_counter() - self._started
        return (
            (b.evaluations is not None and p.evaluations >= b.evaluations)
            or (b.seconds is not None and p.seconds >= b.seconds)
            or (b.epochs is not None and p.epochs >= b.epochs)
        )

    # --- children -----------------------------------------------------------------------
    def _make_children(self, proposals: Sequence[Proposal]) -> list[Candidate]:
        out: list[Candidate] = []
        for p in proposals:
            child = self.make_child(p)
            if child is not None and child.genome.hash not in self._seen:
                self._seen.add(child.genome.hash)  # duplicates within a batch count as seen
                out.append(child)
        return out

    def make_child(self, proposal: Proposal) -> Candidate | None:
        """Applies a proposal's morphisms; ``None`` when none applies. Computes cheap objectives."""
        if proposal.parent_id is None:
            if proposal.genome is None:
                raise ValueError("a proposal needs a parent_id or a genome")
            genome, state = proposal.genome, None
        else:
            genome = self.individuals[proposal.parent_id].genome
            state = self.weights.get(proposal.parent_id) if self.inheritance else None
        rng = np.random.default_rng(proposal.seed)
        records: list[MorphismRecord] = []
        approximate = False
        for name in proposal.morphisms:
            try:  # raises before drawing from rng when there is no site
                child = self.morphisms[name].apply(genome, state, rng)
            except NotApplicable:
                continue
            genome, state = child.genome, child.state
            records.append(child.record)
            approximate |= not self.morphisms[name].preserving
        if proposal.morphisms and not records:
            return None
        shape, classes = self.input_shape, self.num_classes
        if not self.limits.admits(genome, shape, classes):
            return None
        candidate = Candidate(genome, proposal.parent_id, tuple(records), state, approximate)
        cached = self.cheap_cache.get(genome.hash)
        if cached is not None and all(o.name in cached for o in self.objectives if o.cheap):
            candidate.cheap = {o.name: cached[o.name] for o in self.objectives if o.cheap}
        else:
            ctx = EvalContext(genome, shape, classes)
            candidate.cheap = {o.name: float(o(ctx)) for o in self.objectives if o.cheap}
            self.cheap_cache[genome.hash] = candidate.cheap
            if self.on_cheap is not None:
                self.on_cheap(genome.hash, candidate.cheap)
        return candidate

    # --- evaluation ---------------------------------------------------------------------
    def _finish(self, job: Job, outcome: Outcome | Individual) -> Individual:
        """Turns a finished job into a recorded individual; a failure (NaN, out of memory,
        an exception, a lost worker) is recorded as failed and the search goes on."""
        candidate = job.candidate
        if isinstance(outcome, Individual):
            return self._replayed(candidate, outcome)
        result: TrainResult | None = None
        details: dict[str, dict[str, object]] = {}
        if isinstance(outcome, BaseException):
            objectives = {o.name: float("nan") for o in self.objectives}
            status = "lost" if isinstance(outcome, WorkerLost) else "error"
            error: str | None = "".join(traceback.format_exception_only(outcome)).strip()
        else:
            result = outcome
            try:
                objectives, details = self._objectives(candidate, result)
                status, error = result.status, result.error
            except Exception as exc:  # a broken custom objective fails the candidate only
                objectives = {o.name: float("nan") for o in self.objectives}
                status, error = "error", "".join(traceback.format_exception_only(exc)).strip()
        individual = Individual(
            id=job.ident,
            genome=candidate.genome,
            parent_id=candidate.parent_id,
            morphisms=candidate.morphisms,
            objectives=objectives,
            status=status,
            error=error,
            train=_train_summary(result, candidate),
            details=details,
        )
        self._record(individual, result.state if result is not None else None)
        return individual

    def _replayed(self, candidate: Candidate, recorded: Individual) -> Individual:
        if recorded.genome.hash != candidate.genome.hash:
            raise RuntimeError(
                f"the run does not replay its record: candidate {recorded.id} was "
                f"{recorded.genome.short_hash} but now comes out as "
                f"{candidate.genome.short_hash}. Was the scenario, the seed or the evonas "
                "version changed since the run started?"
            )
        self._record(recorded, None, replayed=True)
        return recorded

    def _objectives(
        self, candidate: Candidate, result: TrainResult
    ) -> tuple[dict[str, float], dict[str, dict[str, object]]]:
        values = {o.name: candidate.cheap.get(o.name, float("nan")) for o in self.objectives}
        details: dict[str, dict[str, object]] = {}
        ctx = EvalContext(
            candidate.genome,
            self.input_shape,
            self.num_classes,
            result.state,
            result,
        )
        for o in self.objectives:
            if not o.cheap and result.ok:
                values[o.name] = float(o(ctx))
            extra = o.details(ctx) if o.cheap else {}
            if extra:
                details[o.name] = extra
        return values, details

    def _record(
        self, individual: Individual, state: StateDict | None, replayed: bool = False
    ) -> None:
        self.individuals[individual.id] = individual
        self._seen.add(individual.genome.hash)
        if individual.ok and state is not None:
            self.weights.put(individual.id, state)
        elif replayed and individual.ok:
            self.weights.mark(individual.id)  # its weights are in the run directory
        p = self.progress
        p.evaluations += 1
        p.epochs += float(individual.train.get("epochs", 0.0) or 0.0)
        self.archive.add([individual])
        p.hypervolume = self.archive.hypervolume()
        if replayed:  # the clock continues from the interrupted run
            self._started = time.perf_counter() - float(individual.train.get("elapsed", 0.0))
        else:
            individual.train["elapsed"] = round(time.perf_counter() - self._started, 3)
        p.seconds = time.perf_counter() - self._started
        if self.on_individual is not None and not replayed:
            self.on_individual(individual)


def _train_summary(result: TrainResult | None, candidate: Candidate) -> dict[str, object]:
    out: dict[str, object] = {
        "inherited": candidate.state is not None,
        "approximate": candidate.approximate,
    }
    if result is not None:
        out.update(
            epochs=result.epochs,
            steps=result.steps,
            train_seconds=round(result.seconds, 4),
            train_loss=result.train_loss if math.isfinite(result.train_loss) else None,
        )
    return out
