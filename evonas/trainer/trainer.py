"""The trainer: fine-tunes children that inherited weights, or trains from scratch.

Built for throughput on small networks. The whole dataset sits on the training device as
uint8 and every batch is gathered, normalised and augmented there (random crop with padding,
horizontal flip), so no DataLoader worker is in the hot path; tensors are channels_last, and
on CUDA and on CPUs with native bf16 kernels the step runs under bf16 autocast. SGD with
Nesterov momentum, cosine decay, label smoothing and weight decay; inherited children may
fine-tune with their own peak learning rate and warm-up (``child_lr``, ``child_warmup``;
measured by ``benchmarks/finetune_schedule.py``, the scratch schedule's did best at 1-2
epochs, so that is the default), and a fine-tune shorter than ``child_lr_epochs`` peaks
lower in proportion (measured better at 1/8, 1/4 and 1/2 epoch); batch norms a morphism
inserted can be calibrated on the first batch; optional distillation from a teacher (the
parent) after an approximate morphism. After training, every batch norm's running
statistics are re-estimated on ``precise_bn_batches`` un-augmented training batches
(PreciseBN) before the network is evaluated and its state returned: training's moving
averages lag the weights after a short fine-tune (``precise_batchnorm``).

A candidate that diverges (NaN/inf loss) or runs out of memory ends with a failed
:class:`TrainResult`, never an exception. On CPU the same seed gives the same result.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from evonas.core.individual import StateDict, Status, TrainResult
from evonas.data.datasets import TaskData
from evonas.model.builder import (
    GenomeNet,
    build_model,
    calibrate_batchnorm,
    init_weights,
    precise_batchnorm,
)
from evonas.space.genome import Genome
from evonas.trainer.settings import TrainSettings


def resolve_device(name: str = "auto") -> torch.device:
    """``"auto"``: CUDA if available, then MPS, then CPU; otherwise the named device."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ValueError(
            f"device {name!r} is not a device; use auto, cpu, cuda, cuda:N or mps"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {name!r} was asked for but CUDA is not available; use 'cpu' or 'auto'"
        )
    return device


def native_bf16(device: torch.device) -> bool:
    """Whether bf16 autocast runs natively on ``device``: CUDA, or a CPU whose oneDNN has
    bf16 kernels (AVX512-BF16 or AMX). Elsewhere bf16 is emulated, slower than fp32."""
    if device.type == "cuda":
        return True
    if device.type != "cpu":
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


class Trainer:
    """Trains genomes on one task and device. Data is moved to the device once."""

    def __init__(
        self, data: TaskData, settings: TrainSettings | None = None, device: str = "auto"
    ) -> None:
        self.data = data
        self.config = settings or TrainSettings()
        self.device = resolve_device(device)
        dev = self.device
        self._train_x = data.train_x.to(dev)
        self._train_y = data.train_y.to(dev)
        self._val_x = data.val_x.to(dev)
        self._val_y = data.val_y.to(dev)
        shape = (1, -1, 1, 1)
        # x_norm = x_uint8 * scale + shift  ==  (x / 255 - mean) / std
        std = torch.tensor(data.std, device=dev).view(shape)
        self._scale = (1.0 / (255.0 * std)).float()
        self._shift = (-torch.tensor(data.mean, device=dev).view(shape) / std).float()
        self._cuda = dev.type == "cuda"
        self._bf16 = self.config.bf16 and native_bf16(dev)
        # channels_last helps cuDNN and, measured here, oneDNN convolutions on CPU too (~20%)
        self._memory_format = (
            torch.channels_last
            if self.config.channels_last and dev.type in ("cuda", "cpu")
            else torch.contiguous_format
        )

    # --- public API ---------------------------------------------------------------------
    def build(self, genome: Genome, state: StateDict | None, seed: int) -> GenomeNet:
        """The model on the training device: inherited ``state`` or a seeded fresh init."""
        model = build_model(genome, self.data.input_shape, self.data.num_classes)
        if state is None:
            init_weights(model, torch.Generator().manual_seed(seed))
        else:
            model.load_state_dict(state, strict=True)
        return model.to(self.device).to(memory_format=self._memory_format)

    def train(
        self,
        genome: Genome,
        state: StateDict | None = None,
        *,
        seed: int = 0,
        teacher: tuple[Genome, StateDict] | None = None,
        epochs: float | None = None,
        steps: int | None = None,
        calibrate: Sequence[str] = (),
    ) -> TrainResult:
        """Trains ``genome`` (from ``state`` if given, else from scratch) and evaluates it.

        The budget is ``steps``, else ``epochs``, else the settings' (``steps``, else
        ``child_epochs`` for inherited weights and ``scratch_epochs`` from scratch).

        Args:
            seed: seeds initialisation, batch order and augmentation.
            teacher: a (genome, state) to distil from (the parent, after an approximate
                morphism); its weight and temperature come from the config.
            epochs, steps: override the config's budget for this call.
            calibrate: batch norms (node ids) to set from the first batch's activations
                before the first step (:func:`calibrate_batchnorm`; ``deepen`` asks for it).
        """
        cfg = self.config
        started = time.perf_counter()
        n_steps = self._steps(epochs, steps, inherited=state is not None)
        if self._cuda:
            torch.cuda.reset_peak_memory_stats(self.device)
        try:
            model = self.build(genome, state, seed)
            teacher_model = self.build(*teacher, seed).eval() if teacher is not None else None
            loss_tail = self._fit(
                model, teacher_model, n_steps, seed, calibrate, inherited=state is not None
            )
            if not math.isfinite(loss_tail):
                return self._failed(
                    Status.DIVERGED, "loss became NaN or infinite", n_steps, started
                )
            self._precise_bn(model, seed)
            seconds = time.perf_counter() - started
            val_error = self.evaluate(model)
        except torch.cuda.OutOfMemoryError as exc:
            return self._failed(
                Status.OOM, f"out of memory: {exc}".splitlines()[0], n_steps, started
            )
        except RuntimeError as exc:
            if "out of memory" not in str(exc):
                raise
            return self._failed(Status.OOM, str(exc).splitlines()[0], n_steps, started)
        except _Diverged as exc:
            return self._failed(Status.DIVERGED, str(exc), exc.step, started)
        peak = torch.cuda.max_memory_allocated(self.device) if self._cuda else None
        images = n_steps * cfg.batch_size
        return TrainResult(
            status=Status.OK,
            state={k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()},
            val_error=val_error,
            train_loss=loss_tail,
            epochs=images / len(self.data.train_y),
            steps=n_steps,
            seconds=seconds,
            images_per_second=images / max(seconds, 1e-9),
            peak_memory_bytes=peak,
        )

    @torch.no_grad()
    def evaluate(self, model: nn.Module, split: str = "val") -> float:
        """Classification error (1 - accuracy) of ``model`` on ``"val"`` or ``"test"``."""
        if split == "val":
            x_all, y_all = self._val_x, self._val_y
        elif split == "test":
            x_all, y_all = self.data.test_x.to(self.device), self.data.test_y.to(self.device)
        else:
            raise ValueError(f"split must be 'val' or 'test', got {split!r}")
        was_training = model.training
        model.eval()
        correct = torch.zeros((), dtype=torch.long, device=self.device)
        bs = self.eval_batch_size
        for i in range(0, len(y_all), bs):
            x = self._normalise(x_all[i : i + bs])
            with self._autocast():
                pred = model(x).argmax(dim=1)
            correct += (pred == y_all[i : i + bs]).sum()
        model.train(was_training)
        return 1.0 - float(correct) / len(y_all)

    # --- internals ----------------------------------------------------------------------
    def _steps(self, epochs: float | None, steps: int | None, *, inherited: bool) -> int:
        if steps is not None:
            return steps
        if epochs is None and self.config.steps is not None:
            return self.config.steps
        budget = epochs if epochs is not None else self.config.epochs_for(inherited)
        per_epoch = len(self.data.train_y) / self.config.batch_size
        return max(1, round(budget * per_epoch))

    def _fit(
        self,
        model: GenomeNet,
        teacher: nn.Module | None,
        n_steps: int,
        seed: int,
        calibrate: Sequence[str] = (),
        *,
        inherited: bool = False,
    ) -> float:
        cfg = self.config
        peak, warmup = cfg.schedule_for(inherited, n_steps * cfg.batch_size / len(self._train_y))
        decay: list[nn.Parameter] = []
        no_decay: list[nn.Parameter] = []
        for p in model.parameters():
            (decay if p.dim() > 1 else no_decay).append(p)
        opt = torch.optim.SGD(
            [
                {"params": decay, "weight_decay": cfg.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=peak,
            momentum=cfg.momentum,
            nesterov=cfg.momentum > 0,
        )
        warm = max(1, round(warmup * n_steps)) if warmup > 0 else 0
        lrs = [peak * _schedule(t, n_steps, warm) for t in range(n_steps)]
        gen = torch.Generator().manual_seed(seed)
        n = len(self._train_y)
        bs = min(cfg.batch_size, n)
        model.train()
        tail_from = n_steps - max(1, n_steps // 10)
        tail = torch.zeros((), device=self.device)
        check = torch.zeros((), device=self.device)
        order = torch.empty(0, dtype=torch.long)
        pos = 0
        for step in range(n_steps):
            if pos + bs > len(order):  # a new epoch: fresh permutation, drop the ragged end
                order, pos = torch.randperm(n, generator=gen), 0
            idx = order[pos : pos + bs].to(self.device, non_blocking=True)
            pos += bs
            x = self._augment(self._normalise(self._train_x[idx]), gen)
            y = self._train_y[idx]
            if step == 0 and calibrate:
                calibrate_batchnorm(model, x, calibrate)
            for group in opt.param_groups:
                group["lr"] = lrs[step]
            with self._autocast():
                out = model(x)
                loss = F.cross_entropy(out, y, label_smoothing=cfg.label_smoothing)
                if teacher is not None and cfg.distill_weight > 0:
                    with torch.no_grad():
                        target = teacher(x)
                    loss = (1 - cfg.distill_weight) * loss + cfg.distill_weight * _distill(
                        out, target, cfg.distill_temperature
                    )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            detached = loss.detach().float()
            check += detached
            if step >= tail_from:
                tail += detached
            if not self._cuda or (step + 1) % cfg.nan_check_every == 0:
                if not bool(torch.isfinite(check)):
                    raise _Diverged(f"loss became NaN or infinite by step {step + 1}", step + 1)
                check.zero_()
        return float(tail) / (n_steps - tail_from)

    def _precise_bn(self, model: nn.Module, seed: int) -> None:
        """Re-estimates the batch norms' running statistics on ``precise_bn_batches`` batches
        of training images, not augmented (the images evaluation will look like)."""
        batches = self.config.precise_bn_batches
        if batches == 0:
            return
        n = len(self._train_y)
        bs = min(self.config.batch_size, n)
        gen = torch.Generator().manual_seed(seed + 1)  # apart from the training order's
        chosen = torch.randperm(n, generator=gen)[: batches * bs].to(self.device)
        with self._autocast():
            precise_batchnorm(
                model, (self._normalise(self._train_x[idx]) for idx in chosen.split(bs))
            )

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float().mul_(self._scale).add_(self._shift)
        return x.contiguous(memory_format=self._memory_format)

    def _augment(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if not self.config.augment:
            return x
        n, _, h, w = x.shape
        if self.data.flip:
            flip = (torch.rand(n, generator=gen) < 0.5).to(self.device).view(n, 1, 1, 1)
            x = torch.where(flip, x.flip(3), x)
        p = self.data.crop_padding
        if p > 0:
            # random crop after zero padding (0 is the mean after normalisation), one
            # gather for the whole batch: rows/cols are per-image shifted index ranges
            shift = torch.randint(0, 2 * p + 1, (2, n), generator=gen).to(self.device)
            padded = F.pad(x, (p, p, p, p))
            rows = (torch.arange(h, device=self.device)[None, :] + shift[0][:, None]).view(
                n, 1, h, 1
            )
            cols = (torch.arange(w, device=self.device)[None, :] + shift[1][:, None]).view(
                n, 1, 1, w
            )
            padded = padded.gather(2, rows.expand(n, x.shape[1], h, w + 2 * p))
            x = padded.gather(3, cols.expand(n, x.shape[1], h, w))
        return x

    @property
    def eval_batch_size(self) -> int:
        """Images per forward pass when evaluating: the setting, else 1000 on CUDA and the
        training batch size elsewhere."""
        if self.config.eval_batch_size is not None:
            return self.config.eval_batch_size
        return 1000 if self._cuda else self.config.batch_size

    @property
    def bf16(self) -> bool:
        """Whether training steps run under bf16 autocast (asked for and native here)."""
        return self._bf16

    def _autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self._bf16)

    def _failed(self, status: Status, message: str, steps: int, started: float) -> TrainResult:
        if self._cuda:
            torch.cuda.empty_cache()
        return TrainResult(
            status=status,
            state=None,
            val_error=float("nan"),
            train_loss=float("nan"),
            epochs=steps * self.config.batch_size / len(self.data.train_y),
            steps=steps,
            seconds=time.perf_counter() - started,
            images_per_second=0.0,
            error=message,
        )


class _Diverged(Exception):
    def __init__(self, message: str, step: int) -> None:
        super().__init__(message)
        self.step = step


def _schedule(t: int, total: int, warmup: int) -> float:
    """Linear warm-up for ``warmup`` steps, then cosine decay to 0 at ``total``."""
    if t < warmup:
        return (t + 1) / warmup
    progress = (t - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def _distill(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """Hinton et al.'s soft-target loss, scaled by T^2 so its gradients match the CE's."""
    t = temperature
    return F.kl_div(
        F.log_softmax(student.float() / t, dim=1),
        F.log_softmax(teacher.float() / t, dim=1),
        reduction="batchmean",
        log_target=True,
    ) * (t * t)
