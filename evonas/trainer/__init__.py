"""Trainer: fine-tunes inherited weights (or trains from scratch) on one device."""

from evonas.trainer.evaluator import TrainerFactory, TrainingEvaluator
from evonas.trainer.profile import DeviceProfile, resolve_device
from evonas.trainer.settings import TrainSettings
from evonas.trainer.trainer import Trainer

__all__ = [
    "DeviceProfile",
    "TrainSettings",
    "Trainer",
    "TrainerFactory",
    "TrainingEvaluator",
    "resolve_device",
]
