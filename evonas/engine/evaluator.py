"""Evaluators: turn a candidate into a training result.

:class:`TrainingEvaluator` trains for real (Lamarckian: fine-tunes inherited weights,
distilling from the parent after an approximate morphism; or from scratch).
:class:`SurrogateEvaluator` scores a genome without training, for tests and strategy
benchmarks only.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from evonas.engine.individual import Candidate
from evonas.model.builder import StateDict
from evonas.space.genome import CONV_OPS, INPUT, Genome
from evonas.trainer.trainer import Trainer, TrainResult


class Evaluator(ABC):
    """Trains (or scores) one candidate."""

    input_shape: tuple[int, int, int]
    num_classes: int
    device_type: str = "cpu"

    @abstractmethod
    def evaluate(
        self, candidate: Candidate, seed: int, teacher: tuple[Genome, StateDict] | None
    ) -> TrainResult:
        """Trains ``candidate`` (from its inherited state, or from scratch) and scores it."""


@dataclass
class TrainingEvaluator(Evaluator):
    """Real training with the :class:`Trainer`.

    Args:
        trainer: holds the data and the training settings.
        child_epochs: fine-tuning budget of a child with inherited weights.
        scratch_epochs: budget of a network trained from scratch (initial networks, and
            every child when inheritance is off).
        distill: distil from the parent after an approximate morphism.
    """

    trainer: Trainer
    child_epochs: float = 1.0
    scratch_epochs: float = 4.0
    distill: bool = True

    def __post_init__(self) -> None:
        self.input_shape = self.trainer.data.input_shape
        self.num_classes = self.trainer.data.num_classes
        self.device_type = self.trainer.device.type

    def evaluate(
        self, candidate: Candidate, seed: int, teacher: tuple[Genome, StateDict] | None
    ) -> TrainResult:
        inherited = candidate.state is not None
        epochs = self.child_epochs if inherited else self.scratch_epochs
        use_teacher = teacher if (self.distill and inherited and candidate.approximate) else None
        return self.trainer.train(
            candidate.genome, candidate.state, seed=seed, teacher=use_teacher, epochs=epochs
        )


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
            status="ok",
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
