"""The one place evonas touches DEAP: NSGA-II ranking, crowding and survivor selection.

DEAP's ``creator`` writes classes into its module's globals; we avoid it and never expose
DEAP types: our individuals are wrapped in a small object carrying a DEAP fitness.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
from deap import base, tools

from evonas.core.individual import Individual
from evonas.core.pareto import constrained_ranks


@cache
def _fitness_class(n_objectives: int) -> type[base.Fitness]:
    return type(f"MinFitness{n_objectives}", (base.Fitness,), {"weights": (-1.0,) * n_objectives})


class _Wrapped:
    __slots__ = ("fitness", "individual")

    def __init__(self, individual: Individual, values: np.ndarray) -> None:
        self.individual = individual
        self.fitness = _fitness_class(len(values))(tuple(float(v) for v in values))


def _wrap(individuals: Sequence[Individual], minimised: np.ndarray) -> list[_Wrapped]:
    return [_Wrapped(ind, row) for ind, row in zip(individuals, minimised, strict=True)]


def select_nsga2(
    individuals: Sequence[Individual], minimised: np.ndarray, k: int
) -> list[Individual]:
    """DEAP's ``selNSGA2``: the ``k`` best by non-dominated rank, then crowding distance;
    under constraints, feasible ones first (selected so among themselves), then the
    infeasible ones by increasing violation (Deb's constrained domination)."""
    feasible = [i for i, ind in enumerate(individuals) if ind.violation <= 0]
    if len(feasible) == len(individuals) or len(feasible) > k:
        chosen = [individuals[i] for i in feasible]
        wrapped = _wrap(chosen, minimised[feasible])
        return [w.individual for w in tools.selNSGA2(wrapped, min(k, len(chosen)))]
    infeasible = sorted(
        (ind for ind in individuals if ind.violation > 0), key=lambda i: (i.violation, i.id)
    )
    return [individuals[i] for i in feasible] + infeasible[: k - len(feasible)]


def rank_and_crowding(
    minimised: np.ndarray, violations: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Non-dominated rank (0 best) and crowding distance of every row, computed by DEAP;
    with ``violations``, infeasible rows rank after every feasible one, by violation."""
    if violations is not None and (violations > 0).any():
        ranks = constrained_ranks(minimised, violations)
        crowding = np.zeros(len(minimised))
        feasible = violations <= 0
        if feasible.any():
            _, crowding[feasible] = rank_and_crowding(minimised[feasible])
        return ranks, crowding
    n = len(minimised)
    wrapped = [_Wrapped(None, row) for row in minimised]  # type: ignore[arg-type]
    index = {id(w): i for i, w in enumerate(wrapped)}
    ranks = np.zeros(n, dtype=int)
    crowding = np.zeros(n)
    for r, front in enumerate(tools.sortNondominated(wrapped, n)):
        tools.emo.assignCrowdingDist(front)
        for w in front:
            ranks[index[id(w)]] = r
            crowding[index[id(w)]] = w.fitness.crowding_dist
    return ranks, crowding
