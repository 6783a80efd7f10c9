"""The training evaluator: Lamarckian fine-tuning of inherited weights (distilling from the
parent after an approximate morphism, when ``[trainer] distill`` is on), or training from
scratch, with the :class:`Trainer`; and the small picklable factory a worker process builds
its own evaluator from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from evonas.core.evaluator import Evaluator
from evonas.core.individual import Candidate, StateDict, TrainResult
from evonas.data.datasets import DATASETS, TaskData
from evonas.space.genome import Genome
from evonas.trainer.settings import TrainSettings
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

    def evaluate(
        self, candidate: Candidate, seed: int, teacher: tuple[Genome, StateDict] | None
    ) -> TrainResult:
        distil = self.trainer.config.distill and candidate.approximate
        return self.trainer.train(
            candidate.genome,
            candidate.state,
            seed=seed,
            teacher=teacher if distil else None,
            epochs=candidate.epochs,
            calibrate=candidate.calibrate if self.trainer.config.calibrate else (),
        )


@dataclass(frozen=True)
class TrainerFactory:
    """Builds a training evaluator in a worker process (pool, Ray): loads the dataset there,
    onto the worker's own device. Picklable: a dataset name with its loader's arguments, the
    trainer settings and the device name, nothing else of the scenario.

    The dataset is looked up in :data:`~evonas.data.DATASETS` by name; a loader named as
    ``module:attribute`` must be importable in the worker as it was in the driver.
    """

    dataset: str  # a registered dataset or ``module:attribute``
    data_args: Mapping[str, Any] = field(default_factory=dict)  # the loader's keywords
    settings: TrainSettings = field(default_factory=TrainSettings)
    device: str = "auto"

    def __call__(self) -> TrainingEvaluator:
        return self.build(None)

    def build(self, data: TaskData | None) -> TrainingEvaluator:
        """The evaluator over ``data`` (already loaded in this process) or the dataset."""
        if data is None:
            data = DATASETS.create(self.dataset, **self.data_args)
        return TrainingEvaluator(Trainer(data, self.settings, self.device))
