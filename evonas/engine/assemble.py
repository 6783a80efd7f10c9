"""The one assembly function: parts in, a ready :class:`Search` out (pymoo's ``minimize``).

Every door builds its search here: the scenario builder (CLI, API, resume) and the
surrogate used by tests and benchmarks, so they cannot disagree on how the scorer, the child
factory and the loop are tied together.
"""

from __future__ import annotations

from collections.abc import Sequence

from evonas.core.budget import Budget
from evonas.core.config import SpaceLimits
from evonas.core.individual import Individual
from evonas.core.observer import Observer, WeightBacking
from evonas.engine.children import ChildFactory
from evonas.engine.scorer import Scorer
from evonas.engine.search import Search
from evonas.engine.weights import WeightStore
from evonas.executor.base import Executor
from evonas.morphism.base import Morphism
from evonas.objectives.base import Objective
from evonas.space.genome import Genome
from evonas.strategy.base import Strategy


def assemble_search(
    *,
    strategy: Strategy,
    executor: Executor,
    objectives: Sequence[Objective],
    morphisms: Sequence[Morphism],
    initial: Sequence[Genome],
    input_shape: tuple[int, int, int],
    num_classes: int,
    budget: Budget,
    seed: int = 0,
    limits: SpaceLimits | None = None,
    inheritance: bool = True,
    weights: WeightBacking | None = None,
    cheap_cache: dict[str, dict[str, float]] | None = None,
    observers: Sequence[Observer] = (),
    history: Sequence[Individual] = (),
) -> Search:
    """A search over the given parts.

    Args:
        strategy, executor: who proposes and where training runs.
        objectives, morphisms, initial: what is measured, how children are made, from what.
        input_shape, num_classes: of the task (sizes depend on them).
        budget, seed: when to stop; the run's one seed.
        limits: children beyond these are not made (default: none beyond the genome's).
        inheritance: children start from their parent's weights (Lamarckian).
        weights: where parents' weights persist (the run record); None keeps them in memory.
        cheap_cache, history: a stopped run's cheap values and individuals, to continue it.
        observers: notified of every step.
    """
    scorer = Scorer(objectives, input_shape, num_classes, cheap_cache, budget.candidate_seconds)
    children = ChildFactory(
        morphisms=morphisms,
        initial=initial,
        limits=limits or SpaceLimits(),
        input_shape=input_shape,
        num_classes=num_classes,
        inheritance=inheritance,
        weights=WeightStore(weights),
        check=scorer.cheap_problem,
    )
    return Search(
        strategy=strategy,
        executor=executor,
        children=children,
        scorer=scorer,
        budget=budget,
        seed=seed,
        observers=observers,
        history=history,
    )
