"""Trainer: fine-tunes inherited weights (or trains from scratch) on one device."""

from evonas.trainer.trainer import TrainConfig, Trainer, TrainResult, resolve_device

__all__ = ["TrainConfig", "TrainResult", "Trainer", "resolve_device"]
