"""Constrained search: a cheap constraint is enforced before training; an expensive one
by constrained domination; with nothing feasible the run says so through its front."""

from __future__ import annotations

from evonas.core import Budget
from evonas.objectives import get_objective
from evonas.testing.surrogate import surrogate_search


def test_a_cheap_constraint_never_trains_an_infeasible_network() -> None:
    params = get_objective("params", upper="15k")
    search = surrogate_search(
        "lemonade", budget=Budget(evaluations=80), objectives=["val_error", params]
    )
    search.run()
    individuals = list(search.individuals.values())
    assert len(individuals) == 80
    assert all(i.objectives["params"] <= 15e3 and i.violation == 0 for i in individuals)


def test_an_expensive_constraint_nobody_meets_leaves_the_least_violating_front() -> None:
    error = get_objective("val_error", upper=0.001)
    search = surrogate_search("nsga2", budget=Budget(evaluations=40), objectives=[error, "params"])
    search.run()
    front = search.archive.front()
    least = min(i.violation for i in search.individuals.values() if i.ok)
    assert front and all(i.violation == least > 0 for i in front)
    assert search.archive.hypervolume() == 0.0
