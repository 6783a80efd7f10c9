"""Random search: the baseline every report compares to.

Each candidate is an initial network changed by a random sequence of 1..``max_morphisms``
random morphisms (architecture only) and trained from scratch with the same budget rules.
"""

from __future__ import annotations

from collections.abc import Sequence

from evonas.core.individual import Individual, Proposal
from evonas.strategy.base import Strategy, register_strategy


@register_strategy("random")
class RandomSearch(Strategy):
    """Random morphism sequences from the initial networks.

    Args:
        max_morphisms: longest random sequence applied to an initial network.
    """

    asynchronous = True

    def __init__(self, *, max_morphisms: int = 8) -> None:
        if max_morphisms < 1:
            raise ValueError(f"random max_morphisms must be >= 1, got {max_morphisms}")
        self.max_morphisms = max_morphisms

    def propose(self, n: int) -> list[Proposal]:
        rng = self.rng
        names = sorted(self.context.morphisms)
        out = []
        for _ in range(max(1, n)):
            base = self.context.initial[int(rng.integers(len(self.context.initial)))]
            length = int(rng.integers(1, self.max_morphisms + 1))
            seq = tuple(str(rng.choice(names)) for _ in range(length))
            out.append(Proposal(None, base, seq, self.new_seed()))
        return out

    def advance(self, individuals: list[Individual]) -> None:
        """Random search keeps no state: the run's archive holds the results."""

    def rebuild(self, history: Sequence[Individual]) -> bool:
        return True  # no state to rebuild
