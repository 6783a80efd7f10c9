"""Aging (regularized) evolution (Real et al., AAAI 2019), multi-objective.

A population of ``population_size``; each child's parent comes from a tournament of
``sample_size`` members (the sample's best non-dominated rank, then by exclusive
hypervolume, or uniformly: ``parent``); the child joins and the oldest member dies. The
tournament runs from the first child over what is alive, where AmoebaNet first fills its
population with random networks. Steady state: one child per free worker, asynchronously.
Each child trained is the pick of ``candidates`` made, each from its own tournament,
accepted as LEMONADE accepts. The measurements behind the defaults are in
``docs/decisions.md``.
"""

from __future__ import annotations

from evonas.strategy.base import Evolution, register_strategy
from evonas.strategy.steps import Acceptance, AgingTournament, KeepYoungest, ParentChooser


@register_strategy("aging")
class AgingEvolution(Evolution):
    """Regularized evolution with a multi-objective tournament.

    Args:
        population_size: members alive at once (P).
        sample_size: members drawn for each tournament (S).
        p_approximate: probability that a child is made with approximate morphisms.
        morphisms_per_child: mean number of morphisms a child is made with (geometric, >= 1).
        immigrants: share of the children made that are random architectures trained from
            scratch (:class:`~evonas.strategy.base.Evolution`); 0: none.
        parent: how the parent is drawn among the sample's non-dominated members:
            ``"contribution"`` (by exclusive hypervolume), ``"uniform"``, or any registered
            chooser.
        candidates: children made per child trained (>= 1), each from its own tournament.
        acceptance: which children made are trained: ``"sparse"``, ``"all"`` or
            ``"predicted"`` (a learned predictor, :mod:`evonas.strategy.predictor`).
    """

    asynchronous = True

    def __init__(
        self,
        *,
        population_size: int = 20,
        sample_size: int = 5,
        p_approximate: float = 0.3,
        morphisms_per_child: float = 1.0,
        immigrants: float = 0.0,
        parent: ParentChooser | str = "contribution",
        candidates: int = 3,
        acceptance: Acceptance | str = "sparse",
    ) -> None:
        if not 2 <= sample_size <= population_size:
            raise ValueError(
                f"aging needs 2 <= sample_size ({sample_size}) "
                f"<= population_size ({population_size})"
            )
        try:
            tournament = AgingTournament(sample_size=sample_size, inner=parent)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"aging parent {parent!r}: {exc}") from None
        super().__init__(
            parent=tournament,
            fallback="uniform",
            acceptance=acceptance,
            survival=KeepYoungest(population_size),
            candidates=candidates,
            p_approximate=p_approximate,
            morphisms_per_child=morphisms_per_child,
            immigrants=immigrants,
        )
        self.population_size = population_size
        self.sample_size = sample_size
