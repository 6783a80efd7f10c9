"""Successive-halving rungs over training epochs, promoted asynchronously and by
non-dominated rank (ASHA, Li et al., MLSys 2020; multi-objective as MO-ASHA promotes,
Schmucker et al., 2021).

Rung k holds networks trained ``min_epochs * eta**k`` epochs in all, up to ``max_epochs``.
Whenever a worker is free, the highest rung with a network in the top ``1 / eta`` of its
results (by constrained non-dominated rank, then crowding distance, then id) that is not yet
promoted sends it up one rung: it trains on from its own weights for the epochs between the
two rungs. Nothing waits for a rung to fill. A promotion is recorded as a child with no
morphisms (its parent is the network promoted), so the rungs are rebuilt from the recorded
history by observing it again. ``asha`` runs random networks through them; with a
``[fidelity]`` table, LEMONADE, aging evolution and NSGA-II run their children through them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evonas.core.individual import Individual
from evonas.core.pareto import ObjectiveInfo, minimised_matrix
from evonas.strategy._deap import rank_and_crowding


@dataclass(frozen=True)
class Promotion:
    """A network to train further: ``extra`` epochs from its own weights, into ``rung``."""

    parent_id: int
    extra: float
    rung: int


def is_promotion(ind: Individual) -> bool:
    """A recorded promotion: a child with a parent and no morphisms."""
    return ind.parent_id is not None and not ind.morphisms


class Rungs:
    """The rungs and what has reached each.

    Args:
        min_epochs: training at the lowest rung.
        eta: rung growth factor and promotion rate (the top 1 / eta of a rung move up).
        max_epochs: training at the top rung (at most).
        label: who they belong to, in messages (``"asha"``, ``"fidelity"``).
    """

    def __init__(
        self, min_epochs: float, eta: int = 3, max_epochs: float = 9.0, label: str = "rungs"
    ) -> None:
        if isinstance(min_epochs, bool) or not (
            isinstance(min_epochs, (int, float)) and math.isfinite(min_epochs) and min_epochs > 0
        ):
            raise ValueError(f"{label} min_epochs must be a number > 0, got {min_epochs!r}")
        if isinstance(eta, bool) or not isinstance(eta, int) or eta < 2:
            raise ValueError(f"{label} eta must be an integer >= 2, got {eta!r}")
        if isinstance(max_epochs, bool) or not (
            isinstance(max_epochs, (int, float))
            and math.isfinite(max_epochs)
            and max_epochs >= min_epochs
        ):
            raise ValueError(
                f"{label} max_epochs must be a number >= min_epochs ({min_epochs}), "
                f"got {max_epochs!r}"
            )
        self.eta = eta
        count = math.floor(math.log(max_epochs / min_epochs, eta) + 1e-9) + 1
        self.epochs = [min_epochs * eta**k for k in range(count)]  # total epochs per rung
        self.reset()

    @property
    def top(self) -> int:
        """The highest rung's index."""
        return len(self.epochs) - 1

    def reset(self) -> None:
        """Forgets everything observed (before a history is observed again)."""
        self.rung_of: dict[int, int] = {}  # every network in the rungs: its rung
        self.results: list[list[Individual]] = [[] for _ in self.epochs]  # ok ones per rung
        self.promoted: set[int] = set()  # ids whose promotion was told
        # promotions handed out since the last observation: a state of the step, not of the
        # history, so asking again within a step moves on, and a restored one equals the live
        self._proposed: set[int] = set()

    def observe(self, individuals: Sequence[Individual], entering: bool = True) -> None:
        """Evaluated individuals, in the order told: a promotion joins the rung above its
        parent's; any other joins the lowest rung where ``entering`` (else it stays out)."""
        self._proposed = set()
        for ind in individuals:
            if is_promotion(ind) and ind.parent_id in self.rung_of:
                assert ind.parent_id is not None
                self.promoted.add(ind.parent_id)
                rung = min(self.rung_of[ind.parent_id] + 1, self.top)
            elif entering and not is_promotion(ind):
                rung = 0
            else:
                continue
            self.rung_of[ind.id] = rung
            if ind.ok:
                self.results[rung].append(ind)

    def next_promotion(self, objectives: Sequence[ObjectiveInfo]) -> Promotion | None:
        """The next promotion, from the highest rung that has one, or None."""
        for k in range(self.top - 1, -1, -1):
            rung = self.results[k]
            top = len(rung) // self.eta
            if top == 0:
                continue
            for ind in _ranked(rung, objectives)[:top]:
                if ind.id not in self.promoted and ind.id not in self._proposed:
                    self._proposed.add(ind.id)
                    return Promotion(ind.id, self.epochs[k + 1] - self.epochs[k], k + 1)
        return None


def _ranked(rung: list[Individual], objectives: Sequence[ObjectiveInfo]) -> list[Individual]:
    """A rung's results best first: non-dominated rank (constrained), then larger crowding
    distance, then id."""
    ranks, crowding = rank_and_crowding(
        minimised_matrix(rung, objectives), np.array([i.violation for i in rung])
    )
    order = sorted(range(len(rung)), key=lambda i: (ranks[i], -crowding[i], rung[i].id))
    return [rung[i] for i in order]
