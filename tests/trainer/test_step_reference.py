"""The trainer's seams (batch source, step object, device profile) change nothing on CPU:
the loop they replaced, kept here verbatim as the reference, gives the same losses step by
step and the same weights, bit for bit, for the same seed."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from evonas.data import synthetic
from evonas.space import simple_genome
from evonas.trainer import Trainer, TrainSettings
from evonas.trainer.step import distill_loss
from evonas.trainer.trainer import _schedule

DATA = synthetic(n_train=320, n_test=32, shape=(1, 12, 12), num_classes=4, seed=1)
GENOME = simple_genome(channels=(6, 10))


def reference_fit(
    t: Trainer,
    model: nn.Module,
    teacher: nn.Module | None,
    n_steps: int,
    seed: int,
    inherited: bool,
) -> list[float]:
    """The training loop as it was before the seams (``Trainer._fit``, 2026-12-06), with
    its normalisation and augmentation inlined; returns every step's loss."""
    cfg, dev, data = t.config, t.device, t.data
    shape = (1, -1, 1, 1)
    std = torch.tensor(data.std, device=dev).view(shape)
    scale = (1.0 / (255.0 * std)).float()
    shift = (-torch.tensor(data.mean, device=dev).view(shape) / std).float()
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format

    def normalise(x: torch.Tensor) -> torch.Tensor:
        return x.float().mul_(scale).add_(shift).contiguous(memory_format=fmt)

    def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if not cfg.augment:
            return x
        n, _, h, w = x.shape
        if data.flip:
            flip = (torch.rand(n, generator=gen) < 0.5).to(dev).view(n, 1, 1, 1)
            x = torch.where(flip, x.flip(3), x)
        p = data.crop_padding
        if p > 0:
            sh = torch.randint(0, 2 * p + 1, (2, n), generator=gen).to(dev)
            padded = F.pad(x, (p, p, p, p))
            rows = (torch.arange(h, device=dev)[None, :] + sh[0][:, None]).view(n, 1, h, 1)
            cols = (torch.arange(w, device=dev)[None, :] + sh[1][:, None]).view(n, 1, 1, w)
            padded = padded.gather(2, rows.expand(n, x.shape[1], h, w + 2 * p))
            x = padded.gather(3, cols.expand(n, x.shape[1], h, w))
        return x

    train_x, train_y = data.train_x.to(dev), data.train_y.to(dev)
    peak, warmup = cfg.schedule_for(inherited, n_steps * cfg.batch_size / len(train_y))
    decay = [p for p in model.parameters() if p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.dim() <= 1]
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
    lrs = [peak * _schedule(step, n_steps, warm) for step in range(n_steps)]
    gen = torch.Generator().manual_seed(seed)
    n = len(train_y)
    bs = min(cfg.batch_size, n)
    model.train()
    order = torch.empty(0, dtype=torch.long)
    pos = 0
    losses = []
    for step in range(n_steps):
        if pos + bs > len(order):
            order, pos = torch.randperm(n, generator=gen), 0
        idx = order[pos : pos + bs].to(dev)
        pos += bs
        x = augment(normalise(train_x[idx]), gen)
        y = train_y[idx]
        for group in opt.param_groups:
            group["lr"] = lrs[step]
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=t.bf16):
            out = model(x)
            loss = F.cross_entropy(out, y, label_smoothing=cfg.label_smoothing)
            if teacher is not None and cfg.distill_weight > 0:
                with torch.no_grad():
                    target = teacher(x)
                loss = (1 - cfg.distill_weight) * loss + cfg.distill_weight * distill_loss(
                    out, target, cfg.distill_temperature
                )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach().float()))
    return losses


def seam_fit(
    t: Trainer,
    model: nn.Module,
    teacher: nn.Module | None,
    n_steps: int,
    seed: int,
    inherited: bool,
) -> list[float]:
    """The same training through the seams, every loss read."""
    lrs = t.lr_schedule(n_steps, inherited=inherited)
    batches = t.batches(seed)
    step = t.make_step(model, teacher, float(lrs[0]))
    model.train()
    losses = []
    for i in range(n_steps):
        x, y = batches.next()
        losses.append(float(step(x, y, lrs[i])))
    return losses


@pytest.mark.parametrize(
    ("settings", "inherited", "distil"),
    [
        ({}, False, False),
        ({"bf16": False, "channels_last": False}, False, False),
        ({"augment": False}, True, False),
        ({"child_lr": 0.05, "child_warmup": 0.1}, True, True),
    ],
)
def test_the_seams_reproduce_the_old_loop_bit_for_bit(
    settings: dict[str, object], inherited: bool, distil: bool
) -> None:
    cfg = TrainSettings(batch_size=32, **settings)  # type: ignore[arg-type]
    t = Trainer(DATA, cfg, device="cpu")
    n_steps = 25  # past one epoch (10 batches), so the next permutation is drawn too
    teacher = t.build(GENOME, None, seed=9).eval() if distil else None
    a, b = t.build(GENOME, None, seed=5), t.build(GENOME, None, seed=5)
    old = reference_fit(t, a, teacher, n_steps, 7, inherited)
    new = seam_fit(t, b, teacher, n_steps, 7, inherited)
    assert all(math.isfinite(v) for v in old)
    assert new == old  # every step's loss, exactly
    sa, sb = a.state_dict(), b.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_the_loop_reports_the_old_loops_tail_loss() -> None:
    t = Trainer(DATA, TrainSettings(batch_size=32), device="cpu")
    n_steps = 30
    old = reference_fit(t, t.build(GENOME, None, seed=2), None, n_steps, 3, False)
    tail = t._fit(t.build(GENOME, None, seed=2), None, n_steps, 3)
    tail_from = n_steps - max(1, n_steps // 10)
    expected = torch.tensor(old[tail_from:], dtype=torch.float32).sum()
    assert tail == float(expected) / (n_steps - tail_from)


def test_a_static_buffer_receives_the_same_batches() -> None:
    t = Trainer(DATA, TrainSettings(batch_size=32), device="cpu")
    plain, static = t.batches(11), t.batches(11)
    x_buf = torch.empty(32, 1, 12, 12).contiguous(memory_format=t.profile.memory_format)
    y_buf = torch.empty(32, dtype=torch.long)
    for _ in range(12):
        x, y = plain.next()
        static.next_into(x_buf, y_buf)
        assert torch.equal(x, x_buf) and torch.equal(y, y_buf)
