"""Helpers for tests and benchmarks of evonas and of user plug-ins.

:func:`trained_looking_state` gives a genome weights that behave like trained ones (non-zero
BN running statistics, non-trivial affine parameters), so that function preservation is
checked where it is hard, not on a freshly initialised network. :func:`check_morphism` is
the morphism contract as a function; :mod:`evonas.testing.contracts` has the contract suites
(pytest classes) for every plug-in kind, to inherit in a user's own tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from evonas.core.individual import StateDict
from evonas.model.builder import GenomeNet, build_model, calibrate_batchnorm, torch_generator
from evonas.morphism.base import Child, Morphism
from evonas.space.genome import Genome


@torch.no_grad()
def trained_looking_state(
    genome: Genome,
    input_shape: tuple[int, int, int],
    num_classes: int,
    rng: np.random.Generator,
    *,
    calibration_batches: int = 2,
    batch_size: int = 8,
    logit_std: float = 3.0,
) -> StateDict:
    """Random weights with realistic batch-norm state.

    Convolutions get He-normal weights; BN running statistics are the actual statistics of
    the activations on random inputs (as after training), then BN scale and shift are drawn
    around 1 and 0. Finally the classifier is scaled so the logits have standard deviation
    ``logit_std``, as a trained classifier's do (random deep nets otherwise reach logits in
    the hundreds, where fp32 rounding alone exceeds any useful tolerance).
    """
    gen = torch_generator(rng)
    model = build_model(genome, input_shape, num_classes)
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            fan_in = module.weight[0].numel()
            module.weight.copy_(
                torch.randn(module.weight.shape, generator=gen) * (2 / fan_in) ** 0.5
            )
            if module.bias is not None:
                module.bias.copy_(torch.randn(module.bias.shape, generator=gen) * 0.1)
        elif isinstance(module, nn.BatchNorm2d):
            module.momentum = None  # cumulative average over the calibration batches
    model.train()
    for _ in range(calibration_batches):
        model(torch.randn((batch_size, *input_shape), generator=gen))
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = 0.1
            module.weight.copy_(0.5 + torch.rand(module.weight.shape, generator=gen))
            module.bias.copy_(torch.randn(module.bias.shape, generator=gen) * 0.1)
    model.eval()
    spread = model(torch.randn((batch_size, *input_shape), generator=gen)).std()
    if torch.isfinite(spread) and spread > 0:
        model.head.weight.mul_(logit_std / spread)
        model.head.bias.mul_(logit_std / spread)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@torch.no_grad()
def logits(
    genome: Genome, state: StateDict, x: torch.Tensor, num_classes: int | None = None
) -> torch.Tensor:
    """Eval-mode outputs of ``genome`` with ``state`` on ``x``."""
    classes = num_classes or int(state["head.weight"].shape[0])
    shape = (int(x.shape[1]), int(x.shape[2]), int(x.shape[3]))
    model: GenomeNet = build_model(genome, shape, classes, state).eval()
    return model(x)


@torch.no_grad()
def train_logits(
    genome: Genome, state: StateDict, x: torch.Tensor, calibrate: Sequence[str] = ()
) -> torch.Tensor:
    """Train-mode outputs (batch statistics) of ``genome`` with ``state`` on ``x``, after
    calibrating the batch norms ``calibrate`` on ``x`` as the trainer does on its first
    batch."""
    classes = int(state["head.weight"].shape[0])
    shape = (int(x.shape[1]), int(x.shape[2]), int(x.shape[3]))
    model: GenomeNet = build_model(genome, shape, classes, state)
    calibrate_batchnorm(model, x, calibrate)
    return model.train()(x)


def relative_change(a: torch.Tensor, b: torch.Tensor) -> float:
    """``||b - a|| / ||a||``."""
    return float((b - a).norm() / a.norm().clamp_min(1e-12))


def check_morphism(
    morphism: Morphism,
    genome: Genome,
    rng_seed: int,
    *,
    input_shape: tuple[int, int, int] = (1, 16, 16),
    num_classes: int = 5,
    tolerance: float = 1e-5,
) -> Child:
    """The contract every morphism (built-in or a user's) must meet on ``genome``.

    Checks: the child is a valid genome whose model loads the child state strictly; a train-mode
    forward and backward pass gives finite outputs and a gradient for every parameter; the
    same seed gives the same child; a function-preserving morphism keeps the eval-mode logits
    within ``tolerance``; an approximate one reports a finite deviation. Returns the child.
    """
    state = trained_looking_state(genome, input_shape, num_classes, np.random.default_rng(rng_seed))
    x = torch.randn((4, *input_shape), generator=torch.Generator().manual_seed(rng_seed))
    child = morphism.apply(genome, state, np.random.default_rng(rng_seed), probe=x)
    again = morphism.apply(genome, state, np.random.default_rng(rng_seed), probe=x)
    assert child.genome.hash == again.genome.hash, "same seed gave different child genomes"
    assert child.state is not None and again.state is not None, "weights were given"
    assert child.state.keys() == again.state.keys()
    assert all(torch.equal(child.state[k], again.state[k]) for k in child.state), (
        "same seed gave different child weights"
    )
    assert child.record.name == morphism.name
    bare = morphism.apply(genome, None, np.random.default_rng(rng_seed))
    assert bare.state is None and bare.genome.hash == child.genome.hash, (
        "architecture-only application must give the same child genome"
    )
    model = build_model(child.genome, input_shape, num_classes, child.state).train()
    out = model(x)
    assert torch.isfinite(out).all(), "child output is not finite"
    out.square().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, f"parameter {name} received no gradient"
        assert torch.isfinite(p.grad).all(), f"gradient of {name} is not finite"
    assert child.deviation is not None and np.isfinite(child.deviation)
    if morphism.preserving:
        change = (logits(child.genome, child.state, x) - logits(genome, state, x)).abs().max()
        assert float(change) <= tolerance, (
            f"{morphism.name} changed the function by {float(change)}"
        )
        calibrate = child.record.details.get("calibrate", ())
        moved = relative_change(
            train_logits(genome, state, x), train_logits(child.genome, child.state, x, calibrate)
        )
        assert moved <= 1e-4, (
            f"{morphism.name} changed the train-mode function by {moved:.3g} (relative)"
        )
    return child
