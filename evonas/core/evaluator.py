"""The evaluator interface: turns a candidate into a training result (or a score).

Implementations: :class:`evonas.trainer.TrainingEvaluator` (real training) and
:class:`evonas.testing.surrogate.SurrogateEvaluator` (a known function, for tests and benchmarks).
Executors run evaluators in this process, in worker processes or on Ray.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from evonas.core.individual import Candidate, StateDict, TrainResult
from evonas.space.genome import Genome


class Evaluator(ABC):
    """Trains (or scores) one candidate."""

    input_shape: tuple[int, int, int]  # (channels, height, width) of one image
    num_classes: int

    @abstractmethod
    def evaluate(
        self, candidate: Candidate, seed: int, teacher: tuple[Genome, StateDict] | None
    ) -> TrainResult:
        """Trains ``candidate`` (from its inherited state, or from scratch) and scores it;
        ``teacher`` is the parent to distil from, when distillation applies."""
