"""Asynchronous successive halving (ASHA; Li et al., MLSys 2020) over training epochs,
multi-objective as MO-ASHA promotes (Schmucker et al., 2021; Syne Tune's ``MOASHA``).

Random architectures (the same sampler and morphism mix as ``random``) start at the lowest
rung, trained ``min_epochs`` from scratch, and move up the rungs of
:class:`~evonas.strategy.rungs.Rungs` (``min_epochs * eta**k`` epochs in all, up to
``max_epochs``) when a worker is free and one is in the top ``1 / eta`` of its rung;
otherwise a new random network starts. The child factory makes no second continuation of a
network while one is in flight, and none of a network whose weights are gone.
"""

from __future__ import annotations

from collections.abc import Sequence

from evonas.core.individual import Individual, Proposal
from evonas.strategy.base import RANDOM_WALK_MORPHISMS, StrategyContext, register_strategy
from evonas.strategy.random_search import RandomSearch
from evonas.strategy.rungs import Rungs


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
        max_morphisms: int = RANDOM_WALK_MORPHISMS,
        p_approximate: float = 0.3,
    ) -> None:
        self.ladder = Rungs(min_epochs, eta, max_epochs, label="asha")
        super().__init__(
            max_morphisms=max_morphisms, p_approximate=p_approximate, epochs=min_epochs
        )
        self.eta = eta
        self.rungs = list(self.ladder.epochs)  # total epochs per rung

    def setup(self, context: StrategyContext) -> None:
        super().setup(context)
        self.ladder.reset()

    def propose(self, n: int) -> list[Proposal]:
        out = []
        for _ in range(max(1, n)):
            up = self.ladder.next_promotion(self.context.objectives)
            if up is None:
                out.append(super().propose(1)[0])
            else:
                out.append(
                    Proposal(
                        up.parent_id, None, (), self.new_seed(), epochs=up.extra, continues=True
                    )
                )
        return out

    def advance(self, individuals: list[Individual]) -> None:
        self.ladder.observe(individuals)

    def rebuild(self, history: Sequence[Individual]) -> bool:
        self.ladder.reset()
        self.ladder.observe(history)
        return True
