"""The training evaluator: Lamarckian fine-tuning of inherited weights (distilling from the
parent after an approximate morphism, when ``[trainer] distill`` is on), or training from
scratch, with the :class:`Trainer`.
"""

from __future__ import annotations

from dataclasses import dataclass

from evonas.core.evaluator import Evaluator
from evonas.core.individual import Candidate, StateDict, TrainResult
from evonas.space.genome import Genome
from evonas.trainer.trainer import Trainer


@dataclass
class TrainingEvaluator(Evaluator):
    """Real training with the :class:`Trainer`; its settings give the epochs of a child
    (``child_epochs``) and of a network from scratch (``scratch_epochs``), and whether to
    distil (``distill``)."""

    trainer: Trainer

    def __post_init__(self) -> None:
        self.input_shape = self.trainer.data.input_shape
        self.num_classes = self.trainer.data.num_classes
        self.device_type = self.trainer.device.type

    def evaluate(
        self, candidate: Candidate, seed: int, teacher: tuple[Genome, StateDict] | None
    ) -> TrainResult:
        distil = self.trainer.config.distill and candidate.approximate
        return self.trainer.train(
            candidate.genome,
            candidate.state,
            seed=seed,
            teacher=teacher if distil else None,
            calibrate=candidate.calibrate if self.trainer.config.calibrate else (),
        )
