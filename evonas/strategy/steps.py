"""The named steps strategies are composed of (pymoo's ``selection=``/``survival=`` objects).

* **Parent choosers** (:data:`PARENTS`): which evaluated member a child is made from.
  ``contribution`` (exclusive hypervolume among the pool's non-dominated members, as SMS-EMOA
  ranks), ``uniform``, ``density`` (1 / kernel density over the cheap objectives, LEMONADE's
  paper), ``tournament`` (NSGA-II's binary tournament on rank and crowding), ``aging``
  (AmoebaNet's tournament: a random sample's best rank, then an inner chooser).
* **Acceptance** (:data:`ACCEPTANCES`): which of the children made are trained. ``all``, or
  ``sparse`` (drawn by 1 / kernel density of their cheap objectives in the population,
  LEMONADE's acceptance).
* **Survival**: who stays in the population: the Pareto front (LEMONADE), the youngest
  (aging), NSGA-II's rank and crowding.

A chooser prepares a draw over a pool once (weights computed once) and the strategy draws
from it with its own generator, so every random number comes from the strategy's stream.
A scenario names a chooser or an acceptance by its registered name or ``module:attribute``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from evonas.core.individual import Candidate, Individual
from evonas.core.pareto import contribution_weights, minimised_matrix, pareto_front
from evonas.core.registry import Registry
from evonas.strategy._deap import rank_and_crowding, select_nsga2
from evonas.strategy.density import inverse_density_weights

if TYPE_CHECKING:
    from evonas.strategy.base import StrategyContext

Draw = Callable[[np.random.Generator], Individual]
"""Draws one parent with the strategy's generator."""


def cheap_points(
    context: StrategyContext, objective_values: Sequence[dict[str, float]]
) -> np.ndarray:
    """Normalised cheap objectives, one row per dict of values (all objectives when none is
    cheap, e.g. error alone)."""
    cheap = context.cheap or context.objectives
    return np.array(
        [[o.normalised(v[o.name]) for o in cheap] for v in objective_values], dtype=float
    ).reshape(len(objective_values), len(cheap))


def _ranks(pool: Sequence[Individual], context: StrategyContext) -> tuple[np.ndarray, np.ndarray]:
    return rank_and_crowding(
        minimised_matrix(pool, context.objectives), np.array([i.violation for i in pool])
    )


def _weighted(pool: Sequence[Individual], weights: np.ndarray) -> Draw:
    return lambda rng: pool[int(rng.choice(len(pool), p=weights))]


# --- parent choosers ------------------------------------------------------------------------
class ParentChooser(ABC):
    """Chooses parents from a pool of evaluated, successful members."""

    name: str = ""

    @abstractmethod
    def prepare(self, pool: Sequence[Individual], context: StrategyContext) -> Draw | None:
        """A draw over the non-empty ``pool``, or None where this chooser says nothing of it
        (the strategy then uses its fallback)."""


PARENTS: Registry[ParentChooser] = Registry("parent chooser", ParentChooser)
"""Registered parent choosers (classes)."""


@PARENTS.register("uniform")
class Uniform(ParentChooser):
    """Every member alike."""

    def prepare(self, pool: Sequence[Individual], context: StrategyContext) -> Draw:
        return lambda rng: pool[int(rng.integers(len(pool)))]


@PARENTS.register("contribution")
class Contribution(ParentChooser):
    """Among the pool's best (constrained) non-dominated rank, in proportion to each
    member's exclusive hypervolume over all objectives (normalised, reference point 1): a
    member that adds little to the front rarely breeds. Says nothing when the front is
    infeasible or no member adds anything (every one beyond the bounds)."""

    def prepare(self, pool: Sequence[Individual], context: StrategyContext) -> Draw | None:
        ranks, _ = _ranks(pool, context)
        front = [pool[int(i)] for i in np.flatnonzero(ranks == ranks.min())]
        weights = contribution_weights(front, context.objectives)
        return None if weights is None else _weighted(front, weights)


@PARENTS.register("density")
class Density(ParentChooser):
    """In proportion to 1 / kernel density over the cheap objectives (LEMONADE's paper):
    sparse regions of the front are explored."""

    def prepare(self, pool: Sequence[Individual], context: StrategyContext) -> Draw:
        points = cheap_points(context, [p.objectives for p in pool])
        return _weighted(pool, inverse_density_weights(points, points))


@PARENTS.register("tournament")
class Tournament(ParentChooser):
    """NSGA-II's binary tournament: the better of two uniform draws by (non-dominated rank,
    then larger crowding distance)."""

    def prepare(self, pool: Sequence[Individual], context: StrategyContext) -> Draw:
        ranks, crowding = _ranks(pool, context)

        def draw(rng: np.random.Generator) -> Individual:
            a, b = (int(i) for i in rng.integers(len(pool), size=2))
            return pool[a if (ranks[a], -crowding[a]) <= (ranks[b], -crowding[b]) else b]

        return draw


@PARENTS.register("aging")
class AgingTournament(ParentChooser):
    """AmoebaNet's tournament, multi-objective: ``sample_size`` members drawn without
    replacement (all while fewer are alive), the sample's best (constrained) non-dominated
    rank kept, and the parent drawn among those by ``inner`` (uniformly where it says
    nothing). Crowding would always pick one of the two extremes (their distance is
    infinite), so the interior would never breed."""

    def __init__(
        self, *, sample_size: int = 5, inner: ParentChooser | str = "contribution"
    ) -> None:
        if sample_size < 2:
            raise ValueError(f"aging sample_size must be >= 2, got {sample_size}")
        self.sample_size = sample_size
        self.inner = get_parent_chooser(inner)

    def prepare(self, pool: Sequence[Individual], context: StrategyContext) -> Draw:
        def draw(rng: np.random.Generator) -> Individual:
            size = min(self.sample_size, len(pool))
            sample = [pool[int(i)] for i in rng.choice(len(pool), size=size, replace=False)]
            ranks, _ = _ranks(sample, context)
            best = [sample[int(i)] for i in np.flatnonzero(ranks == ranks.min())]
            inner = self.inner.prepare(best, context) or Uniform().prepare(best, context)
            return inner(rng)

        return draw


def get_parent_chooser(ref: ParentChooser | str, **params: object) -> ParentChooser:
    """A chooser by registered name, ``module:attribute``, class or instance."""
    return PARENTS.create(ref, **params)


# --- acceptance ----------------------------------------------------------------------------
class Acceptance(ABC):
    """Chooses which of the children made are trained (they carry cheap objectives)."""

    name: str = ""

    @abstractmethod
    def choose(
        self,
        candidates: list[Candidate],
        population: Sequence[Individual],
        n: int,
        rng: np.random.Generator,
        context: StrategyContext,
    ) -> list[Candidate]:
        """At most ``n`` of ``candidates`` (in their order), drawing from ``rng``."""

    def observe(self, individuals: Sequence[Individual], context: StrategyContext) -> None:
        """Evaluated individuals, in the order they are told (failed ones included): what a
        step that learns from the history sees. Default: nothing."""
        return None


ACCEPTANCES: Registry[Acceptance] = Registry("acceptance", Acceptance)
"""Registered acceptance steps (classes)."""


@ACCEPTANCES.register("all")
class AcceptAll(Acceptance):
    """Every child made is trained."""

    def choose(
        self,
        candidates: list[Candidate],
        population: Sequence[Individual],
        n: int,
        rng: np.random.Generator,
        context: StrategyContext,
    ) -> list[Candidate]:
        return candidates


@ACCEPTANCES.register("sparse")
class AcceptSparse(Acceptance):
    """``n`` children drawn without replacement with probability inversely proportional to
    the population's kernel density at their cheap objectives (LEMONADE's acceptance:
    children in sparse regions are trained first); uniformly when no objective is cheap
    (nothing is known of a child before training)."""

    def choose(
        self,
        candidates: list[Candidate],
        population: Sequence[Individual],
        n: int,
        rng: np.random.Generator,
        context: StrategyContext,
    ) -> list[Candidate]:
        if not population or len(candidates) <= n:
            return candidates
        if not context.cheap:
            picked = rng.choice(len(candidates), size=n, replace=False)
        else:
            weights = inverse_density_weights(
                cheap_points(context, [p.objectives for p in population]),
                cheap_points(context, [c.cheap for c in candidates]),
            )
            picked = rng.choice(len(candidates), size=n, replace=False, p=weights)
        return [candidates[int(i)] for i in sorted(picked)]


def get_acceptance(ref: Acceptance | str, **params: object) -> Acceptance:
    """An acceptance step by registered name, ``module:attribute``, class or instance."""
    return ACCEPTANCES.create(ref, **params)


# --- survival ------------------------------------------------------------------------------
class Survival(ABC):
    """Who stays in the population once new members are evaluated (no random choices)."""

    @abstractmethod
    def survive(
        self,
        population: list[Individual],
        new: Sequence[Individual],
        context: StrategyContext,
    ) -> list[Individual]:
        """The population after ``new`` (failed ones included) were evaluated."""

    def restore(
        self, history: Sequence[Individual], context: StrategyContext
    ) -> list[Individual] | None:
        """The population after the whole ``history`` at once, where that is known without
        replaying it; None: the strategy replays the history step by step."""
        return None


class KeepFront(Survival):
    """The Pareto front of everything evaluated (LEMONADE)."""

    def survive(
        self, population: list[Individual], new: Sequence[Individual], context: StrategyContext
    ) -> list[Individual]:
        return pareto_front(population + list(new), context.objectives)

    def restore(self, history: Sequence[Individual], context: StrategyContext) -> list[Individual]:
        return pareto_front(list(history), context.objectives)


class KeepYoungest(Survival):
    """The ``size`` most recent successful members (aging evolution: the oldest die)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def survive(
        self, population: list[Individual], new: Sequence[Individual], context: StrategyContext
    ) -> list[Individual]:
        return (population + [i for i in new if i.ok])[-self.size :]

    def restore(self, history: Sequence[Individual], context: StrategyContext) -> list[Individual]:
        return self.survive([], history, context)


class RankAndCrowding(Survival):
    """NSGA-II's survivors: DEAP's ``selNSGA2`` over population and the new successful
    members (constrained domination first)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def survive(
        self, population: list[Individual], new: Sequence[Individual], context: StrategyContext
    ) -> list[Individual]:
        pool = population + [i for i in new if i.ok]
        if len(pool) <= self.size:
            return pool
        return select_nsga2(pool, minimised_matrix(pool, context.objectives), self.size)
