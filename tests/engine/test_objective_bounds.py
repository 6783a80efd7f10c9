"""Custom cheap objectives with few values, or values outside their bounds: the search
says so once and goes on (LEMONADE and NSGA-II once crashed accepting children whose
inverse densities underflowed to 0)."""

from __future__ import annotations

import warnings

import pytest

from evonas.core import Budget
from evonas.engine.scorer import OutOfBoundsWarning
from evonas.objectives import EvalContext, objective
from evonas.testing.surrogate import surrogate_search


@objective(name="has_skip", direction="min", cheap=True)
def has_skip(ctx: EvalContext) -> float:
    """Binary: 1 when the network has a skip connection (two values, both in bounds)."""
    return float(any(n.op in ("add", "concat") for n in ctx.genome.nodes))


@objective(name="conv_count", direction="min", cheap=True)
def conv_count(ctx: EvalContext) -> float:
    """The objective docstring's example, left at the default bounds (0, 1)."""
    return float(sum(n.op == "conv" for n in ctx.genome.nodes))


@pytest.mark.parametrize("strategy", ["lemonade", "nsga2", "aging"])
@pytest.mark.parametrize("seed", range(3))
def test_a_binary_cheap_objective_never_crashes_acceptance(strategy: str, seed: int) -> None:
    search = surrogate_search(
        strategy,
        seed=seed,
        budget=Budget(evaluations=80),
        objectives=("val_error", has_skip, "params"),
    )
    search.run()
    assert search.progress.evaluations == 80


def test_values_outside_the_bounds_warn_once_and_name_bounds_to_set() -> None:
    search = surrogate_search(
        "lemonade", seed=0, budget=Budget(evaluations=60), objectives=("val_error", conv_count)
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.run()
    ours = [w for w in caught if issubclass(w.category, OutOfBoundsWarning)]
    assert len(ours) == 1
    message = str(ours[0].message)
    assert "'conv_count'" in message and "[0, 1]" in message and "bounds=(0, " in message
    assert search.progress.evaluations == 60
