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


def kde_log_density(points: np.ndarray, at: np.ndarray, min_bandwidth: float = 0.02) -> np.ndarray:
    """Log of the Gaussian kernel density of ``points`` at ``at`` (Scott's bandwidth per
    dimension, floored so a tight cluster still has a usable density). In the log domain
    (log-sum-exp), so a point far from every other still gets a finite value where the
    density itself would underflow to 0."""
    n, d = points.shape
    std = points.std(axis=0) if n > 1 else np.zeros(d)
    h = np.maximum(std * n ** (-1.0 / (d + 4)), min_bandwidth)
    z = (at[:, None, :] - points[None, :, :]) / h
    log_kernel = -0.5 * (z**2).sum(axis=2)
    peak = log_kernel.max(axis=1, keepdims=True)
    log_mean = peak[:, 0] + np.log(np.exp(log_kernel - peak).mean(axis=1))
    return log_mean - float(np.sum(np.log(h * np.sqrt(2 * np.pi))))


def kde_density(points: np.ndarray, at: np.ndarray, min_bandwidth: float = 0.02) -> np.ndarray:
    """The kernel density itself (see :func:`kde_log_density`)."""
    return np.exp(kde_log_density(points, at, min_bandwidth))


def inverse_density_weights(points: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Sampling probabilities proportional to 1 / density, computed in the log domain."""
    log_weights = -kde_log_density(points, at)
    log_weights -= log_weights.max()
    weights = np.exp(log_weights)
    return weights / weights.sum()


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

    def _cheap_points(self, objective_values: Sequence[dict[str, float]]) -> np.ndarray:
        # with no cheap objective (e.g. error alone), the density is over all objectives
        cheap = self.context.cheap or self.context.objectives
        return np.array(
            [[o.normalised(v[o.name]) for o in cheap] for v in objective_values], dtype=float
        ).reshape(len(objective_values), len(cheap))

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
        pts = self._cheap_points([p.objectives for p in self.population])
        return inverse_density_weights(pts, pts)

    def select(self, candidates: list[Candidate]) -> list[Candidate]:
        if not self.population or len(candidates) <= self.n_accept:
            return candidates
        if not self.context.cheap:  # nothing is known of a child before training
            picked = self.rng.choice(len(candidates), size=self.n_accept, replace=False)
            return [candidates[int(i)] for i in sorted(picked)]
        pop = self._cheap_points([p.objectives for p in self.population])
        new = self._cheap_points([c.cheap for c in candidates])
        weights = inverse_density_weights(pop, new)
        picked = self.rng.choice(len(candidates), size=self.n_accept, replace=False, p=weights)
        return [candidates[int(i)] for i in sorted(picked)]

    def advance(self, individuals: list[Individual]) -> None:
        self.population = pareto_front(self.population + individuals, self.context.objectives)

    def restore(self, history: Sequence[Individual]) -> None:
        """The population is the front of everything seen."""
        self.population = pareto_front(list(history), self.context.objectives)
        self._told = len(history)
        self._rng = None
