"""Contract suites for every plug-in kind, in the style of Optuna's
``optuna/testing/pytest_samplers.py``: inherit a class in your own tests and override its
fixture, and your plug-in is checked like the built-ins are::

    from evonas.testing.contracts import StrategyContract

    class TestMyStrategy(StrategyContract):
        @pytest.fixture
        def make_strategy(self):
            return lambda: MyStrategy(population_size=8)

The built-ins run the same suites with fixtures generated from the registries.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import numpy as np
import pytest

from evonas.core.evaluator import Evaluator
from evonas.core.individual import Candidate, Individual, Status, TrainResult
from evonas.executor.base import Executor, Job
from evonas.model.builder import count_params
from evonas.morphism.base import Morphism
from evonas.objectives.base import EvalContext, Objective
from evonas.space.sampler import random_genome, simple_genome
from evonas.strategy.base import Strategy, StrategyContext
from evonas.strategy.random_search import RandomSearch
from evonas.strategy.steps import Acceptance, ParentChooser
from evonas.testing import check_morphism
from evonas.testing.driver import context, drive
from evonas.testing.surrogate import SurrogateEvaluator

__all__ = ["ExecutorContract", "MorphismContract", "ObjectiveContract", "StrategyContract"]


class MorphismContract:
    """Override ``morphism``: valid children, seeded, weights inherited, the function kept
        (function-preserving ones), a finite deviation (approximate ones) and no growth
    (shrinking ones); see
        :func:`evonas.testing.check_morphism`."""

    @pytest.fixture
    def morphism(self) -> Morphism:
        raise NotImplementedError("override the 'morphism' fixture")

    @pytest.mark.parametrize("seed", range(6))
    def test_contract_on_random_genomes(self, morphism: Morphism, seed: int) -> None:
        genome = random_genome(np.random.default_rng(seed))
        if not morphism.is_applicable(genome):
            pytest.skip(f"{morphism.name} has no site in this random genome")
        child = check_morphism(morphism, genome, seed)
        if morphism.shrinks:
            assert count_params(child.genome, (1, 16, 16), 5) <= count_params(
                genome, (1, 16, 16), 5
            ), "a shrinking morphism must not grow the network"

    def test_sites_are_deterministic(self, morphism: Morphism) -> None:
        genome = random_genome(np.random.default_rng(0))
        assert morphism.sites(genome) == morphism.sites(genome)


class StrategyContract:
    """Override ``make_strategy`` (a zero-argument function giving a fresh strategy). The
    strategy is driven without the search loop (see :mod:`evonas.testing.driver`)."""

    steps = 12  # ask/accept/tell rounds per check

    @pytest.fixture
    def make_strategy(self) -> Callable[[], Strategy]:
        raise NotImplementedError("override the 'make_strategy' fixture")

    def test_proposals_are_valid(self, make_strategy: Callable[[], Strategy]) -> None:
        run = drive(make_strategy(), 0, self.steps)
        told: set[int] = set()
        names = set(_morphism_names())
        for batch, proposals in enumerate(run.proposals):
            assert proposals, f"ask {batch} proposed nothing"
            for p in proposals:
                if p.parent_id is None:
                    assert p.genome is not None, "no parent and no genome"
                assert set(p.morphisms) <= names, f"unknown morphisms {p.morphisms}"
            told |= {i.id for i in run.history}
        assert {p.parent_id for ps in run.proposals for p in ps} - {None} <= told

    def test_same_seed_same_proposals(self, make_strategy: Callable[[], Strategy]) -> None:
        assert (
            drive(make_strategy(), 0, self.steps).proposals
            == drive(make_strategy(), 0, self.steps).proposals
        )

    def test_different_seed_different_proposals(
        self, make_strategy: Callable[[], Strategy]
    ) -> None:
        a = [i.genome.hash for i in drive(make_strategy(), 0, self.steps).history]
        b = [i.genome.hash for i in drive(make_strategy(), 1, self.steps).history]
        assert a != b

    def test_failed_individuals_are_told_without_crashing(
        self, make_strategy: Callable[[], Strategy]
    ) -> None:
        run = drive(make_strategy(), 0, self.steps, fails=lambda ident: True)
        assert all(not i.ok for i in run.history)
        assert all(run.proposals), "a strategy whose every child failed must go on proposing"

    def test_restore_from_history_equals_live_state(
        self, make_strategy: Callable[[], Strategy]
    ) -> None:
        live = make_strategy()
        run = drive(live, 3, self.steps)
        restored = make_strategy()
        restored.setup(live.context)
        restored.restore(run.history)
        assert restored.step == live.step
        assert restored.ask(2) == live.ask(2)


def _morphism_names() -> list[str]:
    from evonas.morphism.base import MORPHISMS

    return MORPHISMS.names()


class ObjectiveContract:
    """Override ``objective``. Set ``deterministic = False`` for a measured objective."""

    deterministic = True

    @pytest.fixture
    def objective(self) -> Objective:
        raise NotImplementedError("override the 'objective' fixture")

    def test_describes_itself(self, objective: Objective) -> None:
        info = objective.info
        assert info.name and info.direction in ("min", "max")
        assert info.bounds[0] < info.bounds[1]

    @pytest.mark.parametrize("seed", range(3))
    def test_finite_value(self, objective: Objective, seed: int) -> None:
        ctx = _context(seed, objective.cheap)
        value = float(objective(ctx))
        assert math.isfinite(value)
        if self.deterministic:
            assert float(objective(_context(seed, objective.cheap))) == value
        assert 0.0 <= objective.info.normalised(value) <= 1.0


def _context(seed: int, cheap: bool) -> EvalContext:
    genome = random_genome(np.random.default_rng(seed), max_ops_per_stage=4)
    if cheap:
        return EvalContext(genome, (1, 16, 16), 5)
    result = TrainResult(Status.OK, None, 0.25, 0.5, 1.0, 10, 0.1, 100.0)
    return EvalContext(genome, (1, 16, 16), 5, None, result)


@functools.cache
def _job(ident: int) -> Job:
    genome = simple_genome(channels=(4 + ident,))
    return Job(ident, Candidate(genome, None, (), None, False), ident, None)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
class ExecutorContract:
    """Override ``make_executor``: a function that takes an evaluator factory (a picklable
    zero-argument callable) and returns a fresh executor."""

    @pytest.fixture
    def make_executor(self) -> Callable[[Callable[[], Evaluator]], Executor]:
        raise NotImplementedError("override the 'make_executor' fixture")

    def test_every_job_comes_back_once(
        self, make_executor: Callable[[Callable[[], Evaluator]], Executor]
    ) -> None:
        executor = make_executor(SurrogateEvaluator)
        try:
            assert executor.slots >= 1
            for i in range(5):
                executor.submit(_job(i))
            back = [executor.wait() for _ in range(5)]
        finally:
            executor.close()
        assert sorted(job.ident for job, _ in back) == list(range(5))
        for _, outcome in back:
            assert isinstance(outcome, TrainResult) and outcome.ok, outcome

    def test_an_exception_fails_only_its_job(
        self, make_executor: Callable[[Callable[[], Evaluator]], Executor]
    ) -> None:
        executor = make_executor(RaisingEvaluator)
        try:
            for i in range(4):
                executor.submit(_job(i))
            by_id = {job.ident: outcome for job, outcome in (executor.wait() for _ in range(4))}
        finally:
            executor.close()
        assert all(isinstance(by_id[i], BaseException) for i in (1, 3))
        assert all(isinstance(by_id[i], TrainResult) for i in (0, 2))


class RaisingEvaluator(SurrogateEvaluator):
    """The surrogate, but raising for odd seeds (a picklable factory for worker processes)."""

    def evaluate(self, candidate: Candidate, seed: int, teacher: object) -> TrainResult:
        if seed % 2:
            raise RuntimeError(f"failed on purpose (seed {seed})")
        return super().evaluate(candidate, seed, None)


def _pool(seed: int) -> tuple[StrategyContext, list[Individual]]:
    """A strategy context and the successful individuals of a short random search."""
    history = drive(RandomSearch(max_morphisms=4), seed, 12).history
    return context(seed), [i for i in history if i.ok]


class ParentChooserContract:
    """Override ``make_chooser``: a zero-argument callable returning a fresh chooser."""

    @pytest.fixture
    def make_chooser(self) -> Callable[[], ParentChooser]:
        raise NotImplementedError("override the 'make_chooser' fixture")

    @pytest.mark.parametrize("seed", range(3))
    def test_draws_members_of_the_pool(
        self, make_chooser: Callable[[], ParentChooser], seed: int
    ) -> None:
        ctx, pool = _pool(seed)
        draw = make_chooser().prepare(pool, ctx)
        if draw is None:
            pytest.skip("the chooser says nothing of this pool")
        rng = np.random.default_rng(seed)
        ids = {i.id for i in pool}
        assert all(draw(rng).id in ids for _ in range(50))

    def test_same_generator_same_parents_other_generator_others(
        self, make_chooser: Callable[[], ParentChooser]
    ) -> None:
        ctx, pool = _pool(0)
        draw = make_chooser().prepare(pool, ctx)
        again = make_chooser().prepare(pool, ctx)
        if draw is None or again is None:
            pytest.skip("the chooser says nothing of this pool")

        def parents(d: Callable[[np.random.Generator], Individual], seed: int) -> list[int]:
            rng = np.random.default_rng(seed)
            return [d(rng).id for _ in range(40)]

        assert parents(draw, 1) == parents(again, 1)
        if len({i.id for i in pool}) > 2:
            assert parents(draw, 1) != parents(draw, 2)

    def test_a_single_member_is_the_parent(self, make_chooser: Callable[[], ParentChooser]) -> None:
        ctx, pool = _pool(1)
        draw = make_chooser().prepare(pool[:1], ctx)
        if draw is not None:
            assert draw(np.random.default_rng(0)).id == pool[0].id


class AcceptanceContract:
    """Override ``make_acceptance``: a zero-argument callable returning a fresh step."""

    @pytest.fixture
    def make_acceptance(self) -> Callable[[], Acceptance]:
        raise NotImplementedError("override the 'make_acceptance' fixture")

    @pytest.mark.parametrize("n", [1, 3])
    def test_accepts_at_most_n_in_order(
        self, make_acceptance: Callable[[], Acceptance], n: int
    ) -> None:
        ctx, pool = _pool(2)
        candidates = _candidates(pool)
        chosen = make_acceptance().choose(candidates, pool, n, np.random.default_rng(0), ctx)
        assert chosen, "nothing accepted"
        index = [candidates.index(c) for c in chosen]
        assert index == sorted(set(index))  # a subsequence, in order, no repeats
        few = candidates[:n]
        assert make_acceptance().choose(few, pool, n, np.random.default_rng(0), ctx) == few

    def test_same_generator_same_children(self, make_acceptance: Callable[[], Acceptance]) -> None:
        ctx, pool = _pool(0)
        candidates = _candidates(pool)
        a = make_acceptance().choose(candidates, pool, 2, np.random.default_rng(5), ctx)
        b = make_acceptance().choose(candidates, pool, 2, np.random.default_rng(5), ctx)
        assert a == b

    def test_children_far_apart_in_cheap_values_never_raise(
        self, make_acceptance: Callable[[], Acceptance]
    ) -> None:
        """A cheap objective with two values (binary) puts some children on a dense
        cluster and others nowhere near it: inverse densities underflow to 0 there."""
        ctx, pool = _pool(0)
        binary = [dataclasses.replace(i, objectives={**i.objectives, "params": 1e3}) for i in pool]
        candidates = [
            dataclasses.replace(c, cheap={"params": 1e3 if k % 4 else 1e8})
            for k, c in enumerate(_candidates(pool) * 3)
        ]
        chosen = make_acceptance().choose(candidates, binary, 6, np.random.default_rng(0), ctx)
        assert 1 <= len(chosen) <= len(candidates)


def _candidates(pool: list[Individual]) -> list[Candidate]:
    return [
        Candidate(i.genome, i.id, (), None, False, {"params": i.objectives["params"]}) for i in pool
    ]
