"""The trainer: fine-tunes children that inherited weights, or trains from scratch.

Built for throughput on small networks: the data sits on the device as uint8 and batches
are made there (:mod:`evonas.trainer.batches`); the loop calls a step object
(:mod:`evonas.trainer.step`), so a captured step can replace the eager one; what differs by
device is one :class:`~evonas.trainer.profile.DeviceProfile`. SGD with Nesterov momentum,
cosine decay with warm-up, label smoothing and weight decay; an inherited child fine-tunes
with its own (by default the same) schedule, peaking lower when shorter than
``child_lr_epochs``; optional distillation from the parent after an approximate morphism.
After training, every batch norm's running statistics are re-estimated on
``precise_bn_batches`` un-augmented training batches (PreciseBN): training's moving averages
lag the weights after a short fine-tune. Each measured default has its entry in
``docs/decisions.md``.

A candidate that diverges (NaN/inf loss) or runs out of memory ends with a failed
:class:`TrainResult`, never an exception. On CPU the same seed gives the same result.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import torch
from torch import nn

from evonas.core.individual import StateDict, Status, TrainResult
from evonas.core.seeds import PRECISE_BN
from evonas.data.datasets import TaskData
from evonas.model.builder import (
    GenomeNet,
    build_model,
    calibrate_batchnorm,
    init_weights,
    precise_batchnorm,
)
from evonas.space.genome import Genome
from evonas.trainer.batches import BatchSource, Normalise
from evonas.trainer.profile import DeviceProfile, native_bf16, resolve_device
from evonas.trainer.settings import TrainSettings
from evonas.trainer.step import EagerStep, TrainStep, distill_loss, sgd

__all__ = ["Trainer", "distill_loss", "native_bf16", "resolve_device"]


class Trainer:
    """Trains genomes on one task and device. Data is moved to the device once.

    How a device differs (autocast, memory format, divergence-check cadence, peak memory)
    is its :class:`DeviceProfile`; batches come from a :class:`BatchSource` on the device;
    each optimiser step is a :class:`TrainStep` (``make_step``; :class:`EagerStep` here).
    """

    def __init__(
        self, data: TaskData, settings: TrainSettings | None = None, device: str = "auto"
    ) -> None:
        self.data = data
        self.config = settings or TrainSettings()
        self.device = resolve_device(device)
        self.profile = DeviceProfile.for_device(self.device, self.config)
        dev = self.device
        self._train_x = data.train_x.to(dev)
        self._train_y = data.train_y.to(dev)
        self._val_x = data.val_x.to(dev)
        self._val_y = data.val_y.to(dev)
        self.normalise = Normalise(data.mean, data.std, dev, self.profile.memory_format)
        # images a step sees: the setting, at most the whole training split
        self.batch_size = min(self.config.batch_size, len(data.train_y))

    # --- public API ---------------------------------------------------------------------
    def build(self, genome: Genome, state: StateDict | None, seed: int) -> GenomeNet:
        """The model on the training device: inherited ``state`` or a seeded fresh init."""
        model = build_model(genome, self.data.input_shape, self.data.num_classes)
        if state is None:
            init_weights(model, torch.Generator().manual_seed(seed))
        else:
            model.load_state_dict(state, strict=True)
        return model.to(self.device).to(memory_format=self.profile.memory_format)

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
        started = time.perf_counter()
        n_steps = self._steps(epochs, steps, inherited=state is not None)
        self.profile.reset_peak_memory()
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
        images = n_steps * self.batch_size
        return TrainResult(
            status=Status.OK,
            state={k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()},
            val_error=val_error,
            train_loss=loss_tail,
            epochs=images / len(self.data.train_y),
            steps=n_steps,
            seconds=seconds,
            images_per_second=images / max(seconds, 1e-9),
            peak_memory_bytes=self.profile.peak_memory(),
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
            x = self.normalise(x_all[i : i + bs])
            with self.profile.autocast():
                pred = model(x).argmax(dim=1)
            correct += (pred == y_all[i : i + bs]).sum()
        model.train(was_training)
        return 1.0 - float(correct) / len(y_all)

    def batches(self, seed: int) -> BatchSource:
        """The seeded stream of augmented training batches a training with ``seed`` sees."""
        augment = self.config.augment
        return BatchSource(
            self._train_x,
            self._train_y,
            self.normalise,
            batch_size=self.batch_size,
            seed=seed,
            flip=augment and self.data.flip,
            crop_padding=self.data.crop_padding if augment else 0,
        )

    def make_step(self, model: nn.Module, teacher: nn.Module | None, lr: float) -> TrainStep:
        """The optimiser step the loop calls (eager; a captured one plugs in here)."""
        return EagerStep(model, sgd(model, self.config, lr), self.config, self.profile, teacher)

    def lr_schedule(self, n_steps: int, *, inherited: bool) -> torch.Tensor:
        """The learning rate of every step (float64, on the host): linear warm-up, then
        cosine decay to 0; an inherited fine-tune's own peak (``schedule_for``)."""
        cfg = self.config
        peak, warmup = cfg.schedule_for(inherited, n_steps * self.batch_size / len(self._train_y))
        warm = max(1, round(warmup * n_steps)) if warmup > 0 else 0
        return torch.tensor(
            [peak * _schedule(t, n_steps, warm) for t in range(n_steps)], dtype=torch.float64
        )

    # --- internals ----------------------------------------------------------------------
    def _steps(self, epochs: float | None, steps: int | None, *, inherited: bool) -> int:
        if steps is not None:
            return steps
        if epochs is None and self.config.steps is not None:
            return self.config.steps
        budget = epochs if epochs is not None else self.config.epochs_for(inherited)
        per_epoch = len(self.data.train_y) / self.batch_size
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
        """The training loop: batches in, steps taken, losses watched; the mean loss of
        the last tenth of the steps out."""
        lrs = self.lr_schedule(n_steps, inherited=inherited)
        batches = self.batches(seed)
        step = self.make_step(model, teacher, float(lrs[0]))
        losses = LossWatch(n_steps, self.profile.check_every, self.device)
        model.train()
        for t in range(n_steps):
            x, y = batches.next()
            if t == 0 and calibrate:
                calibrate_batchnorm(model, x, calibrate)
            losses.add(t, step(x, y, lrs[t]))
        return losses.tail_mean()

    def _precise_bn(self, model: nn.Module, seed: int) -> None:
        """Re-estimates the batch norms' running statistics on ``precise_bn_batches`` batches
        of training images, not augmented (the images evaluation will look like)."""
        batches = self.config.precise_bn_batches
        if batches == 0:
            return
        n = len(self._train_y)
        bs = self.batch_size
        gen = torch.Generator().manual_seed(seed + PRECISE_BN)
        chosen = torch.randperm(n, generator=gen)[: batches * bs].to(self.device)
        with self.profile.autocast():
            precise_batchnorm(
                model, (self.normalise(self._train_x[idx]) for idx in chosen.split(bs))
            )

    @property
    def eval_batch_size(self) -> int:
        """Images per forward pass when evaluating: the setting, else 1000 on CUDA and the
        training batch size elsewhere."""
        return self.profile.eval_batch_size

    @property
    def bf16(self) -> bool:
        """Whether training steps run under bf16 autocast (asked for and native here)."""
        return self.profile.bf16

    def _failed(self, status: Status, message: str, steps: int, started: float) -> TrainResult:
        self.profile.release_memory()
        return TrainResult(
            status=status,
            state=None,
            val_error=float("nan"),
            train_loss=float("nan"),
            epochs=steps * self.batch_size / len(self.data.train_y),
            steps=steps,
            seconds=time.perf_counter() - started,
            images_per_second=0.0,
            error=message,
        )


class LossWatch:
    """Watches a training's losses on the device: their sum over the last tenth of the
    steps (the reported loss) and, every ``check_every`` steps, whether any was NaN or
    infinite since the last check (raising :class:`_Diverged`)."""

    def __init__(self, n_steps: int, check_every: int, device: torch.device) -> None:
        self.check_every = check_every
        self.tail_from = n_steps - max(1, n_steps // 10)
        self.tail_steps = n_steps - self.tail_from
        self.tail = torch.zeros((), device=device)
        self.check = torch.zeros((), device=device)

    def add(self, t: int, loss: torch.Tensor) -> None:
        self.check += loss
        if t >= self.tail_from:
            self.tail += loss
        if (t + 1) % self.check_every == 0:
            if not bool(torch.isfinite(self.check)):
                raise _Diverged(f"loss became NaN or infinite by step {t + 1}", t + 1)
            self.check.zero_()

    def tail_mean(self) -> float:
        return float(self.tail) / self.tail_steps


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
