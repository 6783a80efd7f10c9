"""LEMONADE (Elsken, Metzen & Hutter, ICLR 2019): Lamarckian evolution over the Pareto front.

Each generation (as in the paper): the population is the current Pareto front; parents are
sampled with probability inversely proportional to a kernel density estimate over the
*cheap* objectives (so sparse regions of the front get explored); ``n_children`` children
are made by morphisms (approximate ones with probability ``p_approximate``); of these,
``n_accept`` are accepted, again favouring low density in cheap-objective space; only
accepted children are trained; the new population is the Pareto front of population and
accepted children.

Parents are drawn, by default (``parent="contribution"``), in proportion to each front
member's exclusive hypervolume (normalised objectives, reference point 1; the box it alone
dominates, over *all* objectives, which are known for a trained parent), as aging's
tournament does; ``parent="density"`` is the paper's 1 / KDE over the cheap objectives.
Acceptance stays the paper's 1 / KDE over cheap objectives (a child's error is not known
before training). The contribution falls back to density when it says nothing (a single
member, every member beyond the bounds, or an infeasible front).
Measured, density -> contribution: surrogate (15 seeds x 1000 evaluations) median HV
0.525 -> 0.567, better on 14 of 15 seeds (half of each: 0.548); quick scenario, 4 minutes,
HV seeds 0 / 1 (a 2-core AMD CPU, fp32): 0.390 / 0.405 -> 0.411 / 0.413.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evonas.core.individual import Candidate, Individual, Proposal
from evonas.core.pareto import contribution_weights, pareto_front
from evonas.strategy.base import Strategy, register_strategy
from evonas.strategy.density import inverse_density_weights, kde_density, kde_log_density

__all__ = ["Lemonade", "inverse_density_weights", "kde_density", "kde_log_density"]

PARENT_CHOICES = ("contribution", "density")


@register_strategy("lemonade")
class Lemonade(Strategy):
    """LEMONADE: parents drawn by exclusive hypervolume (or the paper's density), children
    accepted by density over cheap objectives.

    Args:
        n_children: children generated per generation (the paper's ``n_pc``).
        n_accept: children accepted and trained per generation (``n_ac``).
        p_approximate: probability that a child is made with approximate morphisms.
        morphisms_per_child: mean number of morphisms a child is made with (geometric, >= 1).
        parent: how parents are drawn from the front: ``"contribution"`` (by exclusive
            hypervolume) or ``"density"`` (1 / KDE over cheap objectives, the paper's).
    """

    def __init__(
        self,
        *,
        n_children: int = 16,
        n_accept: int = 4,
        p_approximate: float = 0.3,
        morphisms_per_child: float = 1.0,
        parent: str = "contribution",
    ) -> None:
        if parent not in PARENT_CHOICES:
            raise ValueError(f"lemonade parent {parent!r} must be one of {PARENT_CHOICES}")
        self.parent = parent
        self.morphisms_per_child = self.check_morphisms_per_child(morphisms_per_child)
        if n_children < 1 or not 1 <= n_accept <= n_children:
            raise ValueError(
                f"lemonade needs 1 <= n_accept ({n_accept}) <= n_children ({n_children})"
            )
        self.n_children = n_children
        self.n_accept = n_accept
        self.p_approximate = p_approximate
        self.population: list[Individual] = []

    def propose(self, n: int) -> list[Proposal]:
        if not self.population:
            return self.restart()
        weights = self.parent_weights()
        rng = self.rng
        out = []
        for _ in range(self.n_children):
            parent = self.population[int(rng.choice(len(self.population), p=weights))]
            names = self.random_morphisms(
                parent.genome, self.p_approximate, self.morphisms_per_child
            )
            if names:
                out.append(Proposal(parent.id, None, names, self.new_seed()))
        return out

    def parent_weights(self) -> np.ndarray:
        """The probability of each population member being drawn as a parent."""
        if self.parent == "contribution":
            weights = contribution_weights(self.population, self.context.objectives)
            if weights is not None:
                return weights
        pts = self.cheap_points([p.objectives for p in self.population])
        return inverse_density_weights(pts, pts)

    def select(self, candidates: list[Candidate]) -> list[Candidate]:
        return self.select_sparse(candidates, self.population, self.n_accept)

    def advance(self, individuals: list[Individual]) -> None:
        self.population = pareto_front(self.population + individuals, self.context.objectives)

    def restore(self, history: Sequence[Individual]) -> None:
        """The population is the front of everything seen."""
        self.population = pareto_front(list(history), self.context.objectives)
        self._told = len(history)
        self._rng = None
