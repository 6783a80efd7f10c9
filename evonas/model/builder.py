"""Builds a ``torch.nn.Module`` from a :class:`~evonas.space.Genome`.

Parameters live under ``nodes.<node id>.`` and ``head.``, so a state dict can be edited node
by node (that is what the morphisms do) and loaded into the child's model by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import nn

from evonas.core.individual import StateDict
from evonas.space.genome import INPUT, POOL_KERNEL, Genome


class SepConv(nn.Module):
    """Depthwise-separable convolution: a depthwise ``k x k`` then a pointwise ``1 x 1``."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(
            in_channels, in_channels, kernel, padding=kernel // 2, groups=in_channels, bias=False
        )
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class GenomeNet(nn.Module):
    """The network a genome describes, for a given input shape and number of classes.

    Args:
        genome: the architecture.
        input_shape: ``(channels, height, width)`` of one image.
        num_classes: outputs of the linear classifier.
    """

    def __init__(self, genome: Genome, input_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__()
        in_ch, height, width = input_shape
        side = min(height, width) // 2 ** (genome.num_stages - 1)
        if side < 1:
            raise ValueError(
                f"genome {genome.short_hash} has {genome.num_stages} stages; an input of "
                f"{height}x{width} allows at most {min(height, width).bit_length()}"
            )
        self.genome = genome
        self.input_shape = tuple(input_shape)
        self.num_classes = num_classes
        channels = dict(genome.channels)
        channels[INPUT] = in_ch
        self.nodes = nn.ModuleDict()
        for n in genome.nodes:
            c_in = channels[n.inputs[0]]
            module: nn.Module | None
            if n.op == "conv":
                assert n.channels is not None and n.kernel is not None
                module = nn.Conv2d(c_in, n.channels, n.kernel, padding=n.kernel // 2, bias=False)
            elif n.op == "sep_conv":
                assert n.channels is not None and n.kernel is not None
                module = SepConv(c_in, n.channels, n.kernel)
            elif n.op == "bn":
                module = nn.BatchNorm2d(c_in)
            elif n.op == "relu":
                module = nn.ReLU()
            elif n.op == "max_pool":
                module = nn.MaxPool2d(POOL_KERNEL, stride=1, padding=POOL_KERNEL // 2)
            elif n.op == "avg_pool":
                module = nn.AvgPool2d(
                    POOL_KERNEL, stride=1, padding=POOL_KERNEL // 2, count_include_pad=False
                )
            elif n.op == "reduce":
                module = nn.MaxPool2d(2, stride=2)
            else:  # add, concat: no module
                module = None
            if module is not None:
                self.nodes[n.id] = module
        self.head = nn.Linear(channels[genome.output], num_classes)
        # Execution plan: which tensors can be dropped after each node, to bound memory.
        last_use: dict[str, int] = {}
        for i, n in enumerate(genome.nodes):
            for src in n.inputs:
                last_use[src] = i
        last_use[genome.output] = len(genome.nodes)
        self._plan: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = []
        for i, n in enumerate(genome.nodes):
            free = tuple(s for s in dict.fromkeys(n.inputs) if last_use[s] == i)
            self._plan.append((n.id, n.op, n.inputs, free))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The output of the last node, before global pooling."""
        values: dict[str, torch.Tensor] = {INPUT: x}
        for node_id, op, inputs, free in self._plan:
            if op == "add":
                out = values[inputs[0]]
                for src in inputs[1:]:
                    out = out + values[src]
            elif op == "concat":
                out = torch.cat([values[s] for s in inputs], dim=1)
            else:
                out = self.nodes[node_id](values[inputs[0]])
            for s in free:
                del values[s]
            values[node_id] = out
        return values[self.genome.output]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def build_model(
    genome: Genome,
    input_shape: tuple[int, int, int],
    num_classes: int,
    state: StateDict | None = None,
) -> GenomeNet:
    """Builds the network; loads ``state`` (strictly) when given."""
    model = GenomeNet(genome, input_shape, num_classes)
    if state is not None:
        model.load_state_dict(state, strict=True)
    return model


def torch_generator(rng: np.random.Generator) -> torch.Generator:
    """A torch CPU generator seeded from ``rng`` (advances ``rng``): torch-side randomness
    that still derives from the caller's explicit numpy generator."""
    return torch.Generator().manual_seed(int(rng.integers(2**62)))


@torch.no_grad()
def init_weights(model: nn.Module, gen: torch.Generator) -> None:
    """Seeded initialisation for training from scratch (no global RNG is touched).

    Convolutions: He-normal (fan-out, as torchvision's ResNets); BN: scale 1, shift 0;
    linear: N(0, 0.01) weights, zero bias.
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1] // m.groups
            m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_out) ** 0.5)
        elif isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.weight.fill_(1.0)
            m.bias.zero_()
        elif isinstance(m, nn.Linear):
            m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * 0.01)
            if m.bias is not None:
                m.bias.zero_()


@torch.no_grad()
def calibrate_batchnorm(model: GenomeNet, x: torch.Tensor, node_ids: Sequence[str]) -> None:
    """Makes the batch norms ``node_ids`` the identity on the batch ``x``, in train mode as
    well as in eval mode (LEMONADE's initialisation of a layer inserted by ``deepen``).

    Each one's scale and shift are set to the standard deviation and mean of its input on
    ``x`` (per channel), and its running statistics to the same, so normalising and
    de-normalising cancel. One forward pass in train mode, in network order, so a batch
    norm fed by another calibrated one sees that one's final output. No other running
    statistic changes.
    """
    targets = {i for i in node_ids if i in model.nodes}
    if not targets:
        return
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [(m, m.momentum, _tracked(m).clone()) for m in bns]
    handles = []

    def set_from_input(module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        assert isinstance(module, nn.BatchNorm2d)
        inp = args[0].float()
        var, mean = torch.var_mean(inp, dim=(0, 2, 3), unbiased=False)
        module.weight.copy_((var + module.eps).sqrt())
        module.bias.copy_(mean)
        assert module.running_mean is not None and module.running_var is not None
        module.running_mean.copy_(mean)
        module.running_var.copy_(var)

    for node_id in targets:
        handles.append(model.nodes[node_id].register_forward_pre_hook(set_from_input))
    was_training = model.training
    try:
        for m in bns:
            m.momentum = 0.0  # the pass reads batch statistics without recording them
        model.train()
        model(x)
    finally:
        for h in handles:
            h.remove()
        for m, momentum, tracked in saved:
            m.momentum = momentum
            _tracked(m).copy_(tracked)
        model.train(was_training)


@torch.no_grad()
def precise_batchnorm(model: nn.Module, batches: Iterable[torch.Tensor]) -> int:
    """Re-estimates every batch norm's running statistics as the plain average over
    ``batches`` (Wu & Johnson's PreciseBN), with the weights as they are now; returns how many
    batches were read.

    Training leaves an exponential average (momentum 0.1) of statistics taken while the
    weights were still moving, on augmented images: after a short fine-tune it lags the
    network it describes (a ``deepen`` + ``widen`` child read 0.32 validation accuracy after
    13 steps, 0.74 once re-estimated; its parent 0.76). No weight changes; the model is left
    in eval mode. Feed it training images, never validation ones.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d) and m.track_running_stats]
    if not bns:
        return 0
    momenta = [m.momentum for m in bns]
    read = 0
    try:
        for x in batches:
            if read == 0:  # reset only once there is a batch: none keeps training's
                for m in bns:
                    m.reset_running_stats()
                    m.momentum = None  # None: a cumulative average over the batches read
                model.train()
            model(x)
            read += 1
    finally:
        for m, momentum in zip(bns, momenta, strict=True):
            m.momentum = momentum
        model.eval()
    return read


def _tracked(bn: nn.BatchNorm2d) -> torch.Tensor:
    assert bn.num_batches_tracked is not None  # built with track_running_stats
    return bn.num_batches_tracked


def count_params(genome: Genome, input_shape: tuple[int, int, int], num_classes: int) -> int:
    """Trainable parameters of the built network, counted from the genome alone.

    Equal to ``sum(p.numel() for p in build_model(...).parameters())`` (the tests check it),
    without building anything: cheap enough for thousands of candidates.
    """
    head = genome.channels[genome.output] * num_classes + num_classes  # linear, with bias
    return genome.layer_params(input_shape[0]) + head
