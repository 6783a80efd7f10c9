"""The strategy interface: an ask/tell object that the search loop drives.

A strategy proposes children (:meth:`Strategy.ask`): which evaluated parent to start from
and which morphisms to apply, or a network to train from scratch. The loop makes the
children, computes their cheap objectives and lets the strategy choose which to train
(:meth:`Strategy.accept`); it trains them and reports the evaluated individuals back
(:meth:`Strategy.tell`).

Randomness is derived per step: :attr:`Strategy.rng` is seeded from the run's seed and the
number of individuals told so far, so a strategy whose state is restored from the recorded
history (:meth:`Strategy.restore`) draws exactly what the live one would have drawn, and a
run resumes without replaying its search.

A subclass implements :meth:`propose` and :meth:`advance`, and optionally :meth:`select`
(which children to train) and a faster :meth:`restore`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

import numpy as np

from evonas.core.individual import Candidate, Individual, Proposal
from evonas.core.pareto import ObjectiveInfo
from evonas.core.registry import Registry
from evonas.core.seeds import Stream, generator
from evonas.morphism.base import Morphism
from evonas.space.genome import Genome
from evonas.strategy.density import inverse_density_weights


@dataclass
class StrategyContext:
    """What the loop gives a strategy at setup."""

    objectives: list[ObjectiveInfo]  # all objectives, in the run's order
    morphisms: dict[str, Morphism]  # the enabled morphisms by name
    initial: list[Genome]  # the initial networks
    seed: int = 0  # the run's seed; every random choice derives from it

    @property
    def cheap(self) -> list[ObjectiveInfo]:
        return [o for o in self.objectives if o.cheap]


class Strategy(ABC):
    """Base class of search strategies.

    ``asynchronous`` strategies use each result as soon as it arrives (one child per free
    worker); generational ones get a batch at a time and are told the batch, by id, when all
    of it is evaluated.
    """

    name: str = ""
    asynchronous: bool = False

    def setup(self, context: StrategyContext) -> None:
        """Called once by the loop before the first ``ask``."""
        self.context = context
        self._told = 0
        self._rng: np.random.Generator | None = None
        self._initial_sent = False

    # --- what the loop calls --------------------------------------------------------------
    @property
    def step(self) -> int:
        """Individuals told so far: the step the next proposals belong to."""
        return self._told

    @property
    def rng(self) -> np.random.Generator:
        """This step's random stream (seed, step): the same after a restore."""
        if self._rng is None:
            self._rng = generator(self.context.seed, Stream.STRATEGY, self._told)
        return self._rng

    def ask(self, n: int = 1) -> list[Proposal]:
        """Proposals for the next evaluations (``n``: free workers, a hint). The initial
        networks come first, once."""
        if self._told == 0 and not self._initial_sent:
            self._initial_sent = True
            return [Proposal(None, g, (), self.new_seed()) for g in self.context.initial]
        return self.propose(n)

    def accept(self, candidates: list[Candidate]) -> list[Candidate]:
        """Which of the made children to train (they carry cheap objectives)."""
        return self.select(candidates) if candidates else []

    def tell(self, individuals: Sequence[Individual]) -> None:
        """Evaluated individuals (failed ones included, with ``ok`` False)."""
        self.advance(list(individuals))
        self._told += len(individuals)
        self._rng = None

    def restore(self, history: Sequence[Individual]) -> None:
        """Sets the state this strategy would have after being told ``history`` (the
        recorded individuals, in the order they were recorded). The default tells them as
        the loop did: one at a time (asynchronous) or in batches by step (generational)."""
        if self.asynchronous:
            for ind in history:
                self.tell([ind])
            return
        for _, group in groupby(history, key=lambda i: i.step):
            self.tell(sorted(group, key=lambda i: i.id))

    # --- what a strategy implements --------------------------------------------------------
    @abstractmethod
    def propose(self, n: int) -> list[Proposal]:
        """Proposals after the initial networks; draw every random choice from ``self.rng``."""

    def select(self, candidates: list[Candidate]) -> list[Candidate]:
        """Which children to train; default: all."""
        return candidates

    @abstractmethod
    def advance(self, individuals: list[Individual]) -> None:
        """Updates the state with evaluated individuals (no random choices here)."""

    # --- helpers for subclasses ---------------------------------------------------------
    def new_seed(self) -> int:
        return int(self.rng.integers(2**31))

    def restart(self) -> list[Proposal]:
        """Every individual so far failed: start again from a random initial network."""
        g = self.context.initial[int(self.rng.integers(len(self.context.initial)))]
        return [Proposal(None, g, (), self.new_seed())]

    def random_morphisms(
        self, genome: Genome, p_approximate: float, mean: float = 1.0
    ) -> tuple[str, ...]:
        """The morphisms of one child of ``genome``: approximate ones with probability
        ``p_approximate`` (if any applies), else function-preserving ones, so that a
        preserving child stays exactly its parent's function; their number drawn from a
        geometric distribution with mean ``mean`` (>= 1; exactly one when ``mean`` is 1).
        Each is drawn among those that apply to ``genome``; one that no longer applies once
        the earlier ones have changed it is skipped by the child factory. Empty: nothing
        applies."""
        rng = self.rng
        want_approx = rng.random() < p_approximate
        count = 1 if mean <= 1.0 else int(rng.geometric(1.0 / mean))
        morphisms = self.context.morphisms
        kind = sorted(n for n, m in morphisms.items() if m.preserving != want_approx)
        for group in (kind, sorted(morphisms)):  # the other kind only when none of it applies
            names = [n for n in group if morphisms[n].is_applicable(genome)]
            if names:
                return tuple(str(n) for n in rng.choice(names, size=count))
        return ()

    def cheap_points(self, objective_values: Sequence[dict[str, float]]) -> np.ndarray:
        """Normalised cheap objectives, one row per dict of values (all objectives when
        none is cheap, e.g. error alone)."""
        cheap = self.context.cheap or self.context.objectives
        return np.array(
            [[o.normalised(v[o.name]) for o in cheap] for v in objective_values], dtype=float
        ).reshape(len(objective_values), len(cheap))

    def select_sparse(
        self, candidates: list[Candidate], population: Sequence[Individual], n: int
    ) -> list[Candidate]:
        """``n`` of ``candidates`` drawn without replacement with probability inversely
        proportional to the population's kernel density at their cheap objectives
        (LEMONADE's acceptance: children in sparse regions are trained first); uniformly
        when no objective is cheap (nothing is known of a child before training). In the
        candidates' order."""
        if not population or len(candidates) <= n:
            return candidates
        if not self.context.cheap:
            picked = self.rng.choice(len(candidates), size=n, replace=False)
        else:
            weights = inverse_density_weights(
                self.cheap_points([p.objectives for p in population]),
                self.cheap_points([c.cheap for c in candidates]),
            )
            picked = self.rng.choice(len(candidates), size=n, replace=False, p=weights)
        return [candidates[int(i)] for i in sorted(picked)]

    @staticmethod
    def check_morphisms_per_child(value: float) -> float:
        """``value`` as a strategy's ``morphisms_per_child`` (a mean count, >= 1)."""
        if value < 1:
            raise ValueError(f"morphisms_per_child must be >= 1 (a mean count), got {value}")
        return value

    def random_morphism(self, genome: Genome, p_approximate: float) -> str | None:
        """One morphism applicable to ``genome`` (see :meth:`random_morphisms`)."""
        names = self.random_morphisms(genome, p_approximate)
        return names[0] if names else None


def check_candidates(value: int) -> int:
    """``value`` as a strategy's ``candidates`` (children made per child trained, >= 1)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"candidates must be an integer >= 1, got {value!r}")
    return value


STRATEGIES: Registry[Strategy] = Registry("strategy", Strategy)
"""Registered strategies (classes). ``@register_strategy("name")`` adds one."""

register_strategy = STRATEGIES.register
get_strategy = STRATEGIES.create
