"""Pareto maths over plain data: objective descriptions, non-dominated sorting and
hypervolume (both from pymoo), and the archive of a run.

Everything here depends on :class:`ObjectiveInfo` (name, direction, bounds), not on the
objectives package, so strategies, the record and the plots share it with no import of the
code that computes objectives.

Hypervolume is computed on normalised objectives (each objective's fixed ``bounds``, log10
for sizes and times) against the reference point ``(1, ..., 1)``, so two runs with the same
objectives are directly comparable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymoo.indicators.hv import HV
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from evonas.core.individual import Individual

DIRECTIONS = ("min", "max")


@dataclass(frozen=True)
class ObjectiveInfo:
    """What the Pareto maths needs of an objective: its name, direction and normalisation."""

    name: str
    direction: str = "min"  # "min" or "max"
    cheap: bool = False  # computable before training, from the architecture alone
    unit: str = ""  # for display, e.g. "s", "FLOPs"
    bounds: tuple[float, float] = (0.0, 1.0)  # best..worst range mapped to [0, 1]
    log_scale: bool = False  # normalise log10(value) (sizes and times span decades)
    upper: float | None = None  # hard constraint: value <= upper (None: none)
    lower: float | None = None  # hard constraint: value >= lower (None: none)

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(
                f"objective {self.name!r}: direction {self.direction!r} must be one of {DIRECTIONS}"
            )
        if not self.bounds[0] < self.bounds[1]:
            raise ValueError(f"objective {self.name!r}: bounds {self.bounds} need low < high")
        if self.upper is not None and self.lower is not None and self.lower > self.upper:
            raise ValueError(
                f"objective {self.name!r}: min {self.lower:g} is above max {self.upper:g}"
            )

    @property
    def constrained(self) -> bool:
        return self.upper is not None or self.lower is not None

    def violation(self, value: float) -> float:
        """How far ``value`` lies outside the constraint, relative to the limit (0: within,
        or no constraint; inf: not a number)."""
        if not self.constrained:
            return 0.0
        if not math.isfinite(value):
            return math.inf
        excess = 0.0
        if self.upper is not None and value > self.upper:
            excess = (value - self.upper) / max(abs(self.upper), 1e-12)
        if self.lower is not None and value < self.lower:
            excess = (self.lower - value) / max(abs(self.lower), 1e-12)
        return excess

    def minimised(self, value: float) -> float:
        """The value as a quantity to minimise (negated for ``"max"`` objectives)."""
        return value if self.direction == "min" else -value

    def normalised(self, value: float) -> float:
        """``value`` mapped to [0, 1] by the fixed ``bounds`` (0 best, 1 worst, clipped)."""
        lo, hi = self.bounds
        if self.direction == "min" and self.upper is not None and lo < self.upper < hi:
            hi = self.upper  # under a cap, the feasible range is the whole scale
        if self.direction == "max" and self.lower is not None and lo < self.lower < hi:
            lo = self.lower
        if self.log_scale:
            value, lo, hi = (math.log10(max(v, 1e-30)) for v in (value, lo, hi))
        t = (value - lo) / (hi - lo)
        if self.direction == "max":
            t = 1.0 - t
        return min(1.0, max(0.0, t))

    @property
    def scale(self) -> str:
        """The normalisation in words, e.g. ``"log10 params in [1000, 1e+08]"``: printed
        with every hypervolume figure, so its reference is known."""
        lo, hi = self.bounds
        return f"{'log10 ' if self.log_scale else ''}{self.name} in [{lo:g}, {hi:g}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "direction": self.direction,
            "cheap": self.cheap,
            "unit": self.unit,
            "bounds": list(self.bounds),
            "log_scale": self.log_scale,
            "upper": self.upper,
            "lower": self.lower,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ObjectiveInfo:
        lo, hi = d.get("bounds", (0.0, 1.0))
        return cls(
            name=str(d["name"]),
            direction=str(d.get("direction", "min")),
            cheap=bool(d.get("cheap", False)),
            unit=str(d.get("unit", "")),
            bounds=(float(lo), float(hi)),
            log_scale=bool(d.get("log_scale", False)),
            upper=None if d.get("upper") is None else float(d["upper"]),
            lower=None if d.get("lower") is None else float(d["lower"]),
        )


def violation(values: dict[str, float], objectives: Sequence[ObjectiveInfo]) -> float:
    """Total constraint violation of objective ``values`` (0: feasible)."""
    return float(sum(o.violation(values[o.name]) for o in objectives if o.name in values))


def minimised_matrix(
    individuals: Sequence[Individual], objectives: Sequence[ObjectiveInfo]
) -> np.ndarray:
    """Objective values as an (n, m) array to minimise (max objectives negated)."""
    return _matrix(individuals, objectives, ObjectiveInfo.minimised)


def normalised_matrix(
    individuals: Sequence[Individual], objectives: Sequence[ObjectiveInfo]
) -> np.ndarray:
    """Objective values mapped to [0, 1] (0 best) by each objective's fixed bounds."""
    return _matrix(individuals, objectives, ObjectiveInfo.normalised)


def _matrix(
    individuals: Sequence[Individual],
    objectives: Sequence[ObjectiveInfo],
    f: Callable[[ObjectiveInfo, float], float],
) -> np.ndarray:
    rows = [[f(o, ind.objectives[o.name]) for o in objectives] for ind in individuals]
    return np.array(rows, dtype=float).reshape(len(individuals), len(objectives))


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


def hypervolume_contributions(normalised: np.ndarray) -> np.ndarray:
    """Each point's exclusive hypervolume (what the set loses without it), on normalised
    points against the reference point 1; 0 for a dominated point or a duplicate."""
    total = hypervolume(normalised)
    without = (hypervolume(np.delete(normalised, i, axis=0)) for i in range(len(normalised)))
    return np.array([max(0.0, total - rest) for rest in without])


def contribution_weights(
    individuals: Sequence[Individual], objectives: Sequence[ObjectiveInfo]
) -> np.ndarray | None:
    """Probabilities proportional to each individual's exclusive hypervolume (normalised
    objectives); None where that says nothing: an infeasible member, or every one adding 0
    (a single point beyond the bounds, say). How the strategies draw parents from a front."""
    if any(i.violation > 0 for i in individuals):
        return None
    gain = hypervolume_contributions(normalised_matrix(individuals, objectives))
    total = gain.sum()
    return gain / total if total > 0 else None


def constrained_ranks(minimised: np.ndarray, violations: np.ndarray) -> np.ndarray:
    """Deb's constrained domination as ranks (0 best): feasible points by non-dominated
    sorting; every infeasible point after all feasible ones, ordered by its violation."""
    ranks = np.zeros(len(minimised), dtype=int)
    feasible = violations <= 0
    if feasible.any():
        ranks[feasible] = nondominated_ranks(minimised[feasible])
    if (~feasible).any():
        start = int(ranks[feasible].max()) + 1 if feasible.any() else 0
        _, dense = np.unique(violations[~feasible], return_inverse=True)
        ranks[~feasible] = start + dense
    return ranks


def pareto_front(
    individuals: Sequence[Individual], objectives: Sequence[ObjectiveInfo]
) -> list[Individual]:
    """The successful, non-dominated individuals among ``individuals``, by id, under
    constrained domination: the feasible front; when no network is feasible, the least
    violating ones (non-dominated among themselves)."""
    pool = [i for i in individuals if i.ok]
    if not pool:
        return []
    v = np.array([i.violation for i in pool])
    least = v.min()
    chosen = [i for i, vi in zip(pool, v, strict=True) if vi <= least]
    keep = non_dominated(minimised_matrix(chosen, objectives))
    return sorted((chosen[k] for k in keep), key=lambda i: i.id)


class ParetoArchive:
    """All evaluated individuals and the current Pareto front over the given objectives."""

    def __init__(self, objectives: Sequence[ObjectiveInfo]) -> None:
        self.objectives = list(objectives)
        self.individuals: list[Individual] = []
        self._front: list[Individual] = []

    def add(self, individuals: Sequence[Individual]) -> None:
        """Records evaluated individuals; failed ones are kept but never on the front."""
        self.individuals.extend(individuals)
        self._front = pareto_front(self._front + list(individuals), self.objectives)

    def front(self) -> list[Individual]:
        """The non-dominated individuals, by id."""
        return list(self._front)

    def hypervolume(self) -> float:
        """Of the feasible front only (0 while no network is feasible)."""
        feasible = [i for i in self._front if i.violation <= 0]
        return hypervolume(normalised_matrix(feasible, self.objectives))
