"""NSGA-II (Deb et al., 2002) with morphisms as the variation operator.

Generational: offspring parents are drawn from the population (by exclusive hypervolume
among its non-dominated members by default, or the paper's binary tournament on rank and
crowding: ``mating``), survivors by DEAP's ``selNSGA2`` over population and offspring.
A quarter as many offspring as survivors by default (as pymoo's ``n_offsprings`` lets
differ): a network costs minutes and a lineage grows by one morphism a generation, so more,
smaller generations. Each offspring is the pick of ``candidates`` made, accepted as LEMONADE
accepts. Ranks and crowding distances are DEAP's; the draws come from our seeded generator.
Its state (the last survivors) is restored by telling the recorded generations again. The
measurements behind the defaults are in ``docs/decisions.md``.
"""

from __future__ import annotations

from evonas.strategy.base import Evolution, register_strategy
from evonas.strategy.steps import Acceptance, ParentChooser, RankAndCrowding


@register_strategy("nsga2")
class NSGA2(Evolution):
    """NSGA-II over evaluated networks.

    Args:
        population_size: survivors kept each generation (N).
        offspring: children trained per generation (default N / 4, at least 1).
        p_approximate: probability that a child is made with approximate morphisms.
        morphisms_per_child: mean number of morphisms a child is made with (geometric, >= 1).
        immigrants: share of the children made that are random architectures trained from
            scratch (:class:`~evonas.strategy.base.Evolution`); 0: none.
        mating: how offspring parents are drawn: ``"contribution"`` (among the
            non-dominated, by exclusive hypervolume; the tournament where that says
            nothing), ``"tournament"`` (the paper's), or any registered chooser.
        candidates: children made per child trained (>= 1).
        acceptance: which children made are trained: ``"sparse"``, ``"all"`` or
            ``"predicted"`` (a learned predictor, :mod:`evonas.strategy.predictor`).
    """

    def __init__(
        self,
        *,
        population_size: int = 20,
        offspring: int | None = None,
        p_approximate: float = 0.3,
        morphisms_per_child: float = 1.0,
        immigrants: float = 0.0,
        mating: ParentChooser | str = "contribution",
        candidates: int = 3,
        acceptance: Acceptance | str = "sparse",
    ) -> None:
        if population_size < 2:
            raise ValueError(f"nsga2 population_size must be >= 2, got {population_size}")
        if offspring is not None and offspring < 1:
            raise ValueError(f"nsga2 offspring must be >= 1, got {offspring}")
        super().__init__(
            parent=mating,
            fallback="tournament",
            acceptance=acceptance,
            survival=RankAndCrowding(population_size),
            candidates=candidates,
            p_approximate=p_approximate,
            morphisms_per_child=morphisms_per_child,
            immigrants=immigrants,
            parent_key="mating",
        )
        self.population_size = population_size
        self.offspring = offspring or max(1, population_size // 4)

    def trained_per_ask(self, n: int) -> int:
        return self.offspring
