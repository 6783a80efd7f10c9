"""Random search: the baseline every report compares to.

Each candidate is an initial network changed by a random sequence of 1..``max_morphisms``
morphisms (architecture only) and trained from scratch. Each morphism of the sequence is
approximate with probability ``p_approximate``, as the strategies draw their children's,
then a name of that kind uniformly: the same mix of growing and shrinking steps the
strategies make, so the baseline explores the sizes they do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from evonas.core.individual import Individual, Proposal
from evonas.strategy.base import RANDOM_WALK_MORPHISMS, Strategy, register_strategy


@register_strategy("random")
class RandomSearch(Strategy):
    """Random morphism sequences from the initial networks.

    Args:
        max_morphisms: longest random sequence applied to an initial network.
        p_approximate: probability that each morphism of a sequence is approximate.
        epochs: how long each network trains (None: the trainer's ``scratch_epochs``).
    """

    asynchronous = True

    def __init__(
        self,
        *,
        max_morphisms: int = RANDOM_WALK_MORPHISMS,
        p_approximate: float = 0.3,
        epochs: float | None = None,
    ) -> None:
        if max_morphisms < 1:
            raise ValueError(f"random max_morphisms must be >= 1, got {max_morphisms}")
        if not 0 <= p_approximate <= 1:
            raise ValueError(f"random p_approximate must lie in [0, 1], got {p_approximate}")
        if epochs is not None and not (math.isfinite(epochs) and epochs > 0):
            raise ValueError(f"random epochs must be a number > 0 (or left out), got {epochs}")
        self.max_morphisms = max_morphisms
        self.p_approximate = p_approximate
        self.epochs = epochs

    def propose(self, n: int) -> list[Proposal]:
        return [
            replace(
                self.random_architecture(self.max_morphisms, self.p_approximate), epochs=self.epochs
            )
            for _ in range(max(1, n))
        ]

    def advance(self, individuals: list[Individual]) -> None:
        """Random search keeps no state: the run's archive holds the results."""

    def rebuild(self, history: Sequence[Individual]) -> bool:
        return True  # no state to rebuild
