"""NSGA-II (Deb et al., 2002) with morphisms as the variation operator.

Generational: offspring parents are drawn from the population (by exclusive hypervolume
among its non-dominated members, or the paper's binary tournaments on non-dominated rank and
crowding distance: see Mating below), survivors from DEAP's ``selNSGA2`` over population and
offspring.
A quarter as many offspring as survivors by default (pymoo's ``n_offsprings`` lets it differ
from the population too): a network costs minutes, and a lineage grows by at most one
morphism a generation, so more, smaller generations. Measured on the quick scenario, 4
minutes, seeds 0 / 1, population 20: 20 offspring HV 0.346 / 0.391 (deepest lineage 3 / 2),
10 offspring 0.393 / 0.413 (5 / 4); with bf16 on the CPU, 10 offspring 0.405 / 0.407 (5 /
4), 5 offspring 0.431 / 0.411 (7 / 4). On the surrogate (10 seeds x 1000 evaluations,
median HV): 10 offspring 0.521, 5 0.530, 3 0.520. Smaller still, re-measured 2026-12-03
(quick scenario, 4 minutes, seeds 0 / 1, bf16): 5 offspring 0.4127 / 0.4232, 3 0.4242 /
0.4155, 2 0.4358 / 0.4152 (within the ~0.01 spread of reruns), and on the surrogate (seeds
5-14 / 0-4) 5 offspring 0.527 / 0.523, 2 0.510 / 0.522: N / 4 stays.
Ranks and crowding distances are DEAP's; the draws come from our seeded generator.
Its state (the last survivors) is restored by telling the recorded generations again.

Each offspring is the pick of ``candidates`` made (default 3): ``offspring x candidates``
children are made and the ``offspring`` trained are drawn by inverse kernel density of their
cheap objectives within the population, as LEMONADE accepts children. Measured against one
child made per child trained, quick scenario, 4 minutes, 2-core AMD EPYC with AVX512-BF16
(bf16), HV seeds 0 / 1 / 2 / 3: 0.4495 / 0.4506 / 0.4615 / 0.3987 -> 0.4608 / 0.4623 /
0.4627 / 0.3994 (mean 0.4401 -> 0.4463; evaluations 67 / 50 / 63 / 42 -> 96 / 56 / 52 / 45);
on the surrogate, median HV (evaluations x seeds) 100 x 10: 0.402 -> 0.389, 300 x 10: 0.500
-> 0.494, 1000 x 5: 0.553 -> 0.562.

Mating: ``mating="tournament"`` is the paper's binary tournament on (rank, crowding);
``mating="contribution"`` draws each parent among the population's non-dominated members
in proportion to its exclusive hypervolume (as SMS-EMOA ranks, and as our aging and
LEMONADE draw), falling back to the tournament where that says nothing (an infeasible
front, or no member inside the bounds). Survivors are NSGA-II's either way.
Measured on the surrogate (10 seeds x 1000 evaluations, median HV): tournament 0.530,
contribution 0.552 (better on 9 of 10 seeds); a tournament that breaks rank ties by
contribution 0.532. Quick scenario, 4 minutes, HV seeds 0 / 1 (a 2-core AMD CPU, fp32):
tournament 0.369 / 0.356, contribution 0.393 / 0.387.
"""

from __future__ import annotations

import numpy as np

from evonas.core.individual import Candidate, Individual, Proposal
from evonas.core.pareto import contribution_weights, minimised_matrix
from evonas.strategy._deap import rank_and_crowding, select_nsga2
from evonas.strategy.base import Strategy, check_candidates, register_strategy

MATING_CHOICES = ("contribution", "tournament")


@register_strategy("nsga2")
class NSGA2(Strategy):
    """NSGA-II over evaluated networks.

    Args:
        population_size: survivors kept each generation (N).
        offspring: children per generation (default N / 4, at least 1).
        p_approximate: probability that a child is made with approximate morphisms.
        morphisms_per_child: mean number of morphisms a child is made with (geometric, >= 1).
        mating: how offspring parents are drawn: ``"contribution"`` (among the
            non-dominated, by exclusive hypervolume) or ``"tournament"`` (the paper's).
        candidates: children made per child trained (>= 1); when more than 1, the
            ``offspring`` trained are drawn by inverse density of their cheap objectives
            in the population, as LEMONADE accepts.
    """

    def __init__(
        self,
        *,
        population_size: int = 20,
        offspring: int | None = None,
        p_approximate: float = 0.3,
        morphisms_per_child: float = 1.0,
        mating: str = "contribution",
        candidates: int = 3,
    ) -> None:
        self.candidates = check_candidates(candidates)
        if mating not in MATING_CHOICES:
            raise ValueError(f"nsga2 mating {mating!r} must be one of {MATING_CHOICES}")
        self.mating = mating
        self.morphisms_per_child = self.check_morphisms_per_child(morphisms_per_child)
        if population_size < 2:
            raise ValueError(f"nsga2 population_size must be >= 2, got {population_size}")
        if offspring is not None and offspring < 1:
            raise ValueError(f"nsga2 offspring must be >= 1, got {offspring}")
        self.population_size = population_size
        self.offspring = offspring or max(1, population_size // 4)
        self.p_approximate = p_approximate
        self.population: list[Individual] = []

    def propose(self, n: int) -> list[Proposal]:
        if not self.population:
            return self.restart()
        rng = self.rng
        ranks, crowding = rank_and_crowding(
            minimised_matrix(self.population, self.context.objectives),
            np.array([i.violation for i in self.population]),
        )
        best = np.flatnonzero(ranks == 0)
        weights = None
        if self.mating == "contribution":
            weights = contribution_weights(
                [self.population[int(i)] for i in best], self.context.objectives
            )
        out = []
        for _ in range(self.offspring * self.candidates):
            if weights is not None:
                better = int(best[rng.choice(len(best), p=weights)])
            else:
                a, b = (int(i) for i in rng.integers(len(self.population), size=2))
                better = a if (ranks[a], -crowding[a]) <= (ranks[b], -crowding[b]) else b
            parent = self.population[better]
            names = self.random_morphisms(
                parent.genome, self.p_approximate, self.morphisms_per_child
            )
            if names:
                out.append(Proposal(parent.id, None, names, self.new_seed()))
        return out

    def select(self, candidates: list[Candidate]) -> list[Candidate]:
        return self.select_sparse(candidates, self.population, self.offspring)

    def advance(self, individuals: list[Individual]) -> None:
        pool = self.population + [i for i in individuals if i.ok]
        if len(pool) <= self.population_size:
            self.population = pool
        else:
            self.population = select_nsga2(
                pool, minimised_matrix(pool, self.context.objectives), self.population_size
            )
