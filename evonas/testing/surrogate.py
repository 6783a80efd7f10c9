"""A stand-in for training, **for tests and strategy benchmarks only**: the surrogate
evaluator scores a genome by a known function of its architecture, and
:func:`surrogate_search` assembles a whole search around it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evonas.core.budget import Budget
from evonas.core.config import SpaceLimits
from evonas.core.evaluator import Evaluator
from evonas.core.individual import Candidate, Individual, StateDict, Status, TrainResult
from evonas.core.observer import Observer
from evonas.core.seeds import Stream, generator
from evonas.engine.assemble import assemble_search
from evonas.engine.search import Search
from evonas.executor.base import InProcessExecutor
from evonas.morphism.base import MORPHISMS, Morphism
from evonas.objectives.base import Objective, get_objective
from evonas.space.genome import CONV_OPS, INPUT, Genome
from evonas.space.sampler import initial_genomes
from evonas.strategy.base import Strategy, get_strategy

RESOLUTION_MORPHISMS = frozenset({"add_reduce", "remove_reduce"})
"""Morphisms that only move the downsampling, which the surrogate error ignores."""


@dataclass
class SurrogateEvaluator(Evaluator):
    """A stand-in for training, **for tests and strategy benchmarks only**.

    The "validation error" is a smooth, known function of the architecture plus seeded noise,
    built so that a real trade-off with size exists: capacity (channels and kernels of the
    convolutions, with diminishing returns) lowers the error; depth beyond what the skip
    connections support raises it (the degradation problem); separable convolutions are a
    little weaker than full ones. The same genome always gets the same score under a seed.
    """

    input_shape: tuple[int, int, int] = (1, 28, 28)
    num_classes: int = 10
    noise: float = 0.005  # std of the per-genome noise on the error
    seed: int = 0

    def evaluate(
        self, candidate: Candidate, seed: int, teacher: tuple[Genome, StateDict] | None
    ) -> TrainResult:
        error = surrogate_error(candidate.genome, self.noise, self.seed)
        return TrainResult(
            status=Status.OK,
            state=None,
            val_error=error,
            train_loss=error,
            epochs=0.0,
            steps=0,
            seconds=0.0,
            images_per_second=0.0,
        )


def surrogate_error(genome: Genome, noise: float = 0.0, seed: int = 0) -> float:
    """The surrogate's error for a genome (see :class:`SurrogateEvaluator`)."""
    capacity = 0.0
    depth: dict[str, int] = {INPUT: 0}
    for n in genome.nodes:
        d = max(depth[i] for i in n.inputs)
        if n.op in CONV_OPS:
            assert n.channels is not None and n.kernel is not None
            kernel_gain = 1.0 + 0.12 * (n.kernel - 1)
            capacity += (
                math.log2(1 + n.channels) * kernel_gain * (0.8 if n.op == "sep_conv" else 1.0)
            )
            d += 1
        depth[n.id] = d
    skips = sum(n.op in ("add", "concat") for n in genome.nodes)
    longest = depth[genome.output]
    degradation = 0.03 * max(0, longest - 5 - 2 * skips)
    error = 0.06 + 0.8 * math.exp(-capacity / 30.0) + degradation
    if noise > 0:
        digest = int(genome.hash[:12], 16)
        error += noise * float(np.random.default_rng([seed, digest]).standard_normal())
    return float(min(1.0, max(0.0, error)))


def surrogate_search(
    strategy: str | Strategy,
    *,
    seed: int = 0,
    budget: Budget | None = None,
    objectives: Sequence[str | Objective] = ("val_error", "params"),
    initial: int | Sequence[Genome] = 5,
    morphisms: Sequence[Morphism] | None = None,
    limits: SpaceLimits | None = None,
    observers: Sequence[Observer] = (),
    history: Sequence[Individual] = (),
    evaluator: Evaluator | None = None,
) -> Search:
    """A search on the surrogate (or the given ``evaluator``) with default parts, assembled
    as a scenario's is (:func:`~evonas.engine.assemble.assemble_search`): the strategy by
    name, ``initial`` initial networks sampled from the run's initial-network stream as a
    scenario's are (or these genomes), the registered morphisms except those the surrogate
    cannot see (:data:`RESOLUTION_MORPHISMS`: its error does not depend on resolution, so
    their children would differ from their parents only by a fresh noise draw), 120
    evaluations unless ``budget`` says otherwise."""
    ev = evaluator or SurrogateEvaluator(seed=seed)
    genomes = (
        initial_genomes(generator(seed, Stream.INITIAL), initial)
        if isinstance(initial, int)
        else list(initial)
    )
    if morphisms is None:
        names = [n for n in MORPHISMS.names() if n not in RESOLUTION_MORPHISMS]
        morphisms = [MORPHISMS.create(n) for n in names]
    return assemble_search(
        strategy=get_strategy(strategy),
        executor=InProcessExecutor(ev),
        objectives=[get_objective(o) for o in objectives],
        morphisms=morphisms,
        initial=genomes,
        input_shape=ev.input_shape,
        num_classes=ev.num_classes,
        budget=budget or Budget(evaluations=120),
        seed=seed,
        limits=limits,
        observers=observers,
        history=history,
    )
