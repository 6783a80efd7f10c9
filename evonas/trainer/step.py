"""One optimiser step as an object: ``step(x, y, lr) -> loss``.

The training loop calls a step; it does not know how the step runs. :class:`EagerStep` is
PyTorch's ordinary eager step; a step captured in a CUDA graph (static input buffers, the
learning rate read from a device tensor, replayed each step) is another implementation of
the same call, as Megatron-LM's full-iteration graph wraps an existing forward-backward
function. The learning rate is a 0-d tensor for that reason: a captured step cannot read a
Python float that changes.
"""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn

from evonas.trainer.profile import DeviceProfile
from evonas.trainer.settings import TrainSettings


class TrainStep(Protocol):
    """Trains on one batch at learning rate ``lr`` (a 0-d tensor); returns the loss,
    detached, as a 0-d float tensor on the device (reading it is the caller's choice)."""

    def __call__(self, x: torch.Tensor, y: torch.Tensor, lr: torch.Tensor) -> torch.Tensor: ...


def sgd(model: nn.Module, settings: TrainSettings, lr: float) -> torch.optim.SGD:
    """SGD with Nesterov momentum; weight decay on weights (conv, linear), not on batch
    norms or biases."""
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for p in model.parameters():
        (decay if p.dim() > 1 else no_decay).append(p)
    return torch.optim.SGD(
        [
            {"params": decay, "weight_decay": settings.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=lr,
        momentum=settings.momentum,
        nesterov=settings.momentum > 0,
    )


class EagerStep:
    """Forward, loss (label-smoothed cross-entropy, plus distillation from ``teacher`` when
    given), backward and optimiser step, eagerly, under the profile's autocast."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        settings: TrainSettings,
        profile: DeviceProfile,
        teacher: nn.Module | None = None,
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        self.settings = settings
        self.profile = profile
        self.teacher = teacher if settings.distill_weight > 0 else None

    def __call__(self, x: torch.Tensor, y: torch.Tensor, lr: torch.Tensor) -> torch.Tensor:
        cfg = self.settings
        for group in self.optimizer.param_groups:
            group["lr"] = float(lr)  # the schedule lives on the host: no device sync
        with self.profile.autocast():
            out = self.model(x)
            loss = F.cross_entropy(out, y, label_smoothing=cfg.label_smoothing)
            if self.teacher is not None:
                with torch.no_grad():
                    target = self.teacher(x)
                w = cfg.distill_weight
                loss = (1 - w) * loss + w * distill_loss(out, target, cfg.distill_temperature)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach().float()


def distill_loss(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """Hinton et al.'s soft-target loss, scaled by T^2 so its gradients match the CE's."""
    t = temperature
    return F.kl_div(
        F.log_softmax(student.float() / t, dim=1),
        F.log_softmax(teacher.float() / t, dim=1),
        reduction="batchmean",
        log_target=True,
    ) * (t * t)
