"""The Pareto archive: non-dominated sorting and hypervolume, both from pymoo.

Hypervolume is computed on normalised objectives (each objective's fixed ``bounds``, log10
for sizes and times, see :meth:`Objective.normalised`) against the reference point
``(1, ..., 1)``, so two runs with the same objectives are directly comparable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pymoo.indicators.hv import HV
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from evonas.engine.individual import Individual
from evonas.objectives.base import Objective


def minimised_matrix(
    individuals: Sequence[Individual], objectives: Sequence[Objective]
) -> np.ndarray:
    """Objective values as an (n, m) array to minimise (max objectives negated)."""
    return np.array(
        [[o.minimised(ind.objectives[o.name]) for o in objectives] for ind in individuals],
        dtype=float,
    ).reshape(len(individuals), len(objectives))


def normalised_matrix(
    individuals: Sequence[Individual], objectives: Sequence[Objective]
) -> np.ndarray:
    """Objective values mapped to [0, 1] (0 best) by each objective's fixed bounds."""
    return np.array(
        [[o.normalised(ind.objectives[o.name]) for o in objectives] for ind in individuals],
        dtype=float,
    ).reshape(len(individuals), len(objectives))


def non_dominated(points: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of ``points`` (minimisation), by pymoo."""
    if len(points) == 0:
        return np.zeros(0, dtype=int)
    return np.asarray(NonDominatedSorting().do(points, only_non_dominated_front=True), dtype=int)


def nondominated_ranks(points: np.ndarray) -> np.ndarray:
    """Front index of every row (0: non-dominated), by pymoo."""
    if len(points) == 0:
        return np.zeros(0, dtype=int)
    _, rank = NonDominatedSorting().do(points, return_rank=True)
    return np.asarray(rank, dtype=int)


def hypervolume(normalised: np.ndarray) -> float:
    """Hypervolume of normalised points against the reference point 1 (pymoo's HV)."""
    if len(normalised) == 0:
        return 0.0
    m = normalised.shape[1]
    return float(HV(ref_point=np.ones(m))(np.minimum(normalised, 1.0)))


class ParetoArchive:
    """All evaluated individuals and the current Pareto front over the given objectives."""

    def __init__(self, objectives: Sequence[Objective]) -> None:
        self.objectives = list(objectives)
        self.individuals: list[Individual] = []
        self._front: list[Individual] = []

    def add(self, individuals: Sequence[Individual]) -> None:
        """Records evaluated individuals; failed ones are kept but never on the front."""
        self.individuals.extend(individuals)
        pool = self._front + [i for i in individuals if i.ok]
        if pool:
            keep = non_dominated(minimised_matrix(pool, self.objectives))
            self._front = sorted((pool[k] for k in keep), key=lambda i: i.id)

    def front(self) -> list[Individual]:
        """The non-dominated individuals, by id."""
        return list(self._front)

    def hypervolume(self) -> float:
        return hypervolume(normalised_matrix(self._front, self.objectives))
