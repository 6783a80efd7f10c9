"""Asynchronous successive halving (ASHA; Li et al., MLSys 2020) over training epochs,
multi-objective as MO-ASHA promotes (Schmucker et al., 2021; Syne Tune's ``MOASHA``).

Random architectures (the same sampler and morphism mix as ``random``) start at the lowest
rung, trained ``min_epochs`` from scratch. Rung k holds networks trained ``min_epochs *
eta**k`` epochs in all, up to ``max_epochs``. Whenever a worker is free, the highest rung
with a network in the top ``1 / eta`` of its results (by non-dominated rank, then crowding
distance) that is not yet promoted sends it up one rung: it trains on from its own weights
for the epochs between the two rungs. Otherwise a new random network starts. Nothing waits
for a rung to fill. A promotion is recorded as a child with no morphisms, so the rungs are
rebuilt from the recorded history; the child factory makes no second continuation of a
network while one is in flight, and none of a network whose weights are gone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from evonas.core.individual import Individual, Proposal
from evonas.core.pareto import minimised_matrix
from evonas.strategy._deap import rank_and_crowding
from evonas.strategy.base import StrategyContext, register_strategy
from evonas.strategy.random_search import RandomSearch


@register_strategy("asha")
class ASHA(RandomSearch):
    """Random search with asynchronous successive halving over epochs.

    Args:
        min_epochs: training of a new network (the lowest rung).
        eta: rung growth factor and promotion rate (the top 1 / eta of a rung move up).
        max_epochs: training of a network at the top rung (at most).
        max_morphisms, p_approximate: the random architectures, as ``random`` draws them.
    """

    def __init__(
        self,
        *,
        min_epochs: float = 1.0,
        eta: int = 3,
        max_epochs: float = 9.0,
        max_morphisms: int = 8,
        p_approximate: float = 0.3,
    ) -> None:
        if not (math.isfinite(min_epochs) and min_epochs > 0):
            raise ValueError(f"asha min_epochs must be a number > 0, got {min_epochs}")
        if isinstance(eta, bool) or not isinstance(eta, int) or eta < 2:
            raise ValueError(f"asha eta must be an integer >= 2, got {eta!r}")
        if not (math.isfinite(max_epochs) and max_epochs >= min_epochs):
            raise ValueError(
                f"asha max_epochs must be a number >= min_epochs ({min_epochs}), got {max_epochs}"
            )
        super().__init__(
            max_morphisms=max_morphisms, p_approximate=p_approximate, epochs=min_epochs
        )
        self.eta = eta
        count = math.floor(math.log(max_epochs / min_epochs, eta) + 1e-9) + 1
        self.rungs = [min_epochs * eta**k for k in range(count)]  # total epochs per rung

    def setup(self, context: StrategyContext) -> None:
        super().setup(context)
        self.rung_of: dict[int, int] = {}  # every individual told: its rung
        self.results: list[list[Individual]] = [[] for _ in self.rungs]  # ok ones per rung
        self.promoted: set[int] = set()  # ids whose promotion was told
        # promotions proposed since the last tell: a state of the step, not of the history,
        # so asking again within a step moves on, and a restored strategy equals the live one
        self._proposed: set[int] = set()

    def propose(self, n: int) -> list[Proposal]:
        out = []
        for _ in range(max(1, n)):
            promotion = self._promotion()
            out.append(promotion if promotion is not None else super().propose(1)[0])
        return out

    def _promotion(self) -> Proposal | None:
        """The next promotion, from the highest rung that has one, or None."""
        for k in range(len(self.rungs) - 2, -1, -1):
            rung = self.results[k]
            top = len(rung) // self.eta
            if top == 0:
                continue
            for ind in self._ranked(rung)[:top]:
                if ind.id not in self.promoted and ind.id not in self._proposed:
                    self._proposed.add(ind.id)
                    extra = self.rungs[k + 1] - self.rungs[k]
                    return Proposal(ind.id, None, (), self.new_seed(), epochs=extra, continues=True)
        return None

    def _ranked(self, rung: list[Individual]) -> list[Individual]:
        """A rung's results best first: non-dominated rank (constrained), then larger
        crowding distance, then id."""
        ranks, crowding = rank_and_crowding(
            minimised_matrix(rung, self.context.objectives),
            np.array([i.violation for i in rung]),
        )
        order = sorted(range(len(rung)), key=lambda i: (ranks[i], -crowding[i], rung[i].id))
        return [rung[i] for i in order]

    def advance(self, individuals: list[Individual]) -> None:
        self._proposed = set()
        for ind in individuals:
            rung = 0
            if ind.parent_id is not None and not ind.morphisms:  # a promotion
                self.promoted.add(ind.parent_id)
                rung = min(self.rung_of.get(ind.parent_id, 0) + 1, len(self.rungs) - 1)
            self.rung_of[ind.id] = rung
            if ind.ok:
                self.results[rung].append(ind)

    def rebuild(self, history: Sequence[Individual]) -> bool:
        return False  # the rungs are rebuilt by telling the history again
