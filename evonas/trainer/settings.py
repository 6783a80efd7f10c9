"""``[trainer]``: the one type that says how candidates are trained, with one set of
defaults (the scenario's table, the trainer and the evaluators all read it)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from evonas.core.config import check


@dataclass(frozen=True)
class TrainSettings:
    """How candidates are trained."""

    child_epochs: float = 1.0  # fine-tuning budget of a child that inherited weights
    scratch_epochs: float = 3.0  # budget of networks trained from scratch (initial ones)
    steps: int | None = None  # optimiser steps per training, overriding both epoch budgets
    batch_size: int = 128  # images per step
    lr: float = 0.2  # peak learning rate (SGD, Nesterov), cosine decay to 0
    warmup: float = 0.02  # share of steps with linear warm-up
    child_lr: float | None = None  # peak learning rate of inherited fine-tuning (None: lr)
    child_warmup: float | None = None  # warm-up share of inherited fine-tuning (None: warmup)
    # an inherited fine-tune shorter than this many epochs peaks lower, in proportion (0:
    # never); docs/decisions.md, "A short fine-tune peaks lower"
    child_lr_epochs: float = 1.0
    # batches of training images (not augmented) that re-estimate every batch norm's running
    # statistics after training, before evaluation (PreciseBN; 0: keep training's averages)
    precise_bn_batches: int = 10
    # set a BN that deepen inserted from the parent's activations on the first batch, so the
    # child is the identity in train mode too; off: calibrated children fine-tuned worse
    # (docs/decisions.md)
    calibrate: bool = False
    momentum: float = 0.9  # Nesterov momentum
    weight_decay: float = 5e-4  # on conv and linear weights (not on BN or biases)
    label_smoothing: float = 0.1
    augment: bool = True  # random crop and flips where the dataset allows
    inheritance: bool = True  # Lamarckian: children start from the parent's weights
    # distil from the parent after approximate morphisms (LEMONADE's repair); off:
    # distilled children ended worse (docs/decisions.md)
    distill: bool = False
    distill_weight: float = 0.5  # share of the loss from the teacher when distilling
    distill_temperature: float = 4.0  # softmax temperature of the distillation targets
    # bf16 autocast on CUDA and on CPUs with native bf16 kernels (AVX512-BF16, AMX),
    # faster at the same error (docs/decisions.md); ignored where bf16 would be emulated
    bf16: bool = True
    channels_last: bool = True  # channels_last memory format on CUDA and CPU
    # images per forward pass when evaluating; None: 1000 on CUDA, ``batch_size`` elsewhere
    # (a CPU's cache holds a training batch's activations; docs/decisions.md)
    eval_batch_size: int | None = None
    nan_check_every: int = 20  # steps between divergence checks on CUDA (each one syncs)

    def __post_init__(self) -> None:
        for key in ("child_epochs", "scratch_epochs"):
            value = getattr(self, key)
            check(
                math.isfinite(value) and value > 0,
                f"trainer.{key}",
                f"must be a finite number > 0, got {value}",
            )
        check(self.steps is None or self.steps >= 1, "trainer.steps", "must be >= 1")
        check(self.batch_size >= 1, "trainer.batch_size", "must be >= 1")
        check(
            self.eval_batch_size is None or self.eval_batch_size >= 1,
            "trainer.eval_batch_size",
            "must be >= 1 (or left out: 1000 on CUDA, batch_size elsewhere)",
        )
        check(self.nan_check_every >= 1, "trainer.nan_check_every", "must be >= 1")
        check(
            math.isfinite(self.child_lr_epochs) and self.child_lr_epochs >= 0,
            "trainer.child_lr_epochs",
            f"must be a finite number >= 0 (0: never lower), got {self.child_lr_epochs}",
        )
        check(
            self.precise_bn_batches >= 0,
            "trainer.precise_bn_batches",
            f"must be >= 0 (0: keep training's running averages), got {self.precise_bn_batches}",
        )
        check(self.lr > 0, "trainer.lr", "must be > 0")
        check(0 <= self.warmup < 1, "trainer.warmup", "must lie in [0, 1)")
        check(self.child_lr is None or self.child_lr > 0, "trainer.child_lr", "must be > 0")
        check(
            self.child_warmup is None or 0 <= self.child_warmup < 1,
            "trainer.child_warmup",
            "must lie in [0, 1)",
        )
        check(0 <= self.momentum < 1, "trainer.momentum", "must lie in [0, 1)")
        check(self.weight_decay >= 0, "trainer.weight_decay", "must be >= 0")
        check(0 <= self.label_smoothing < 1, "trainer.label_smoothing", "must lie in [0, 1)")
        check(0 <= self.distill_weight <= 1, "trainer.distill_weight", "must lie in [0, 1]")
        check(self.distill_temperature > 0, "trainer.distill_temperature", "must be > 0")

    def schedule_for(self, inherited: bool, epochs: float | None = None) -> tuple[float, float]:
        """(peak learning rate, warm-up share) of a child's fine-tuning or of training from
        scratch; ``epochs`` is the training's length (a short fine-tune peaks lower where
        ``child_lr_epochs`` says so)."""
        if not inherited:
            return self.lr, self.warmup
        lr = self.lr if self.child_lr is None else self.child_lr
        if epochs is not None and self.child_lr_epochs > 0:
            lr *= min(1.0, epochs / self.child_lr_epochs)
        return lr, self.warmup if self.child_warmup is None else self.child_warmup

    def epochs_for(self, inherited: bool) -> float:
        """The epoch budget of a child that inherited weights, or of a from-scratch network."""
        return self.child_epochs if inherited else self.scratch_epochs
