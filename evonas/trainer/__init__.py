"""Trainer: fine-tunes inherited weights (or trains from scratch) on one device."""

from evonas.trainer.settings import TrainSettings
from evonas.trainer.trainer import Trainer, resolve_device

__all__ = ["TrainSettings", "Trainer", "resolve_device"]
