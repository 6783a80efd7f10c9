"""Seeded genome samplers: LEMONADE's small initial networks, and random valid genomes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from evonas.space.encoding import ChainEncoding
from evonas.space.genome import INPUT, KERNELS, Genome, Node


class _Builder:
    """Appends nodes with fresh ids ``n0, n1, ...``."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []

    def add(
        self, op: str, *inputs: str, channels: int | None = None, kernel: int | None = None
    ) -> str:
        node_id = f"n{len(self.nodes)}"
        self.nodes.append(Node(node_id, op, tuple(inputs), channels, kernel))
        return node_id

    def conv_bn_relu(self, src: str, channels: int, kernel: int, op: str = "conv") -> str:
        x = self.add(op, src, channels=channels, kernel=kernel)
        return self.add("relu", self.add("bn", x))


def simple_genome(
    channels: Sequence[int] = (16, 32), convs_per_stage: int = 1, kernel: int = 3
) -> Genome:
    """A plain chain: conv-BN-ReLU stem, then per stage ``convs_per_stage`` conv-BN-ReLU,
    stages separated by ``reduce``. ``channels[s]`` is the width of stage ``s``."""
    if not channels or convs_per_stage < 0:
        raise ValueError("simple_genome needs at least one stage and convs_per_stage >= 0")
    b = _Builder()
    x = b.conv_bn_relu(INPUT, channels[0], kernel)
    for s, width in enumerate(channels):
        if s > 0:
            x = b.add("reduce", x)
        for _ in range(convs_per_stage):
            x = b.conv_bn_relu(x, width, kernel)
    return Genome(tuple(b.nodes), x)


def initial_genomes(
    rng: np.random.Generator,
    count: int = 5,
    *,
    stages: tuple[int, int] = (1, 3),
    base_channels: Sequence[int] = (8, 16, 32),
    max_convs_per_stage: int = 2,
    max_params: int | None = None,
) -> list[Genome]:
    """LEMONADE-style initial population: a handful of small, simple, distinct networks.

    Each is a chain of conv-BN-ReLU blocks (``stages`` sets the range of stage counts,
    widths double per stage from a base drawn from ``base_channels``); a block whose input
    has its width gets a residual connection with probability 0.3. Duplicates (same canonical
    hash) are redrawn, and so are networks over ``max_params`` whatever the data (counted
    with one input channel and no classifier: the data's own can only add to it).
    """

    def draw() -> Genome:
        n_stages = int(rng.integers(stages[0], stages[1] + 1))
        base = int(rng.choice(base_channels))
        b = _Builder()
        x = b.conv_bn_relu(INPUT, base, 3)
        for s in range(n_stages):
            if s > 0:
                x = b.add("reduce", x)
            width = base * 2**s
            for _ in range(int(rng.integers(1, max_convs_per_stage + 1))):
                y = b.conv_bn_relu(x, width, int(rng.choice([3, 3, 5])))
                if _width(b, x) == width and rng.random() < 0.3:
                    y = b.add("add", x, y)
                x = y
        return Genome(tuple(b.nodes), x)

    return _distinct(draw, count, max_params)


def chain_genomes(
    rng: np.random.Generator,
    count: int = 5,
    *,
    stages: tuple[int, int] = (1, 3),
    widths: Sequence[int] = (8, 16, 24, 32, 48, 64),
    max_params: int | None = None,
) -> list[Genome]:
    """Initial networks drawn uniformly from the chain space
    (:class:`~evonas.space.encoding.ChainEncoding`, the space the Optuna peers sample):
    per stage 1-3 blocks of plain or depthwise-separable convolutions of one width drawn
    from ``widths``, kernel 3 or 5, with or without residuals; ``stages`` sets the range of
    stage counts. Duplicates and networks over ``max_params`` are drawn again, as in
    :func:`initial_genomes`.
    """
    encoding = ChainEncoding(max_stages=stages[1], widths=tuple(widths))

    def draw() -> Genome:
        values = encoding.sample(lambda _name, options: options[int(rng.integers(len(options)))])
        values["stages"] = int(rng.integers(stages[0], stages[1] + 1))
        return encoding.decode(values)

    return _distinct(draw, count, max_params)


def _distinct(draw: Callable[[], Genome], count: int, max_params: int | None) -> list[Genome]:
    """``count`` distinct drawn genomes within ``max_params`` (counted with one input channel
    and no classifier: the data's own can only add to it), in the order drawn."""
    out: dict[str, Genome] = {}
    for _ in range(count * 50):
        if len(out) == count:
            break
        g = draw()
        if max_params is None or g.layer_params(1) <= max_params:
            out.setdefault(g.hash, g)
    if len(out) < count:
        within = "" if max_params is None else f" within max_params = {max_params}"
        raise ValueError(
            f"could only draw {len(out)} distinct initial genomes{within} of {count} asked"
        )
    return list(out.values())


def _width(b: _Builder, tensor: str) -> int:
    ch: dict[str, int] = {}
    for n in b.nodes:
        if n.channels is not None:
            ch[n.id] = n.channels
        elif n.op == "concat":
            ch[n.id] = sum(ch[i] for i in n.inputs)
        else:
            ch[n.id] = ch[n.inputs[0]]
    return ch[tensor]


def random_genome(
    rng: np.random.Generator,
    *,
    max_stages: int = 3,
    max_ops_per_stage: int = 7,
    channel_choices: Sequence[int] = (4, 6, 8, 12, 16),
) -> Genome:
    """A random valid genome using every op kind, for tests and fidelity benchmarks.

    Each stage grows a random DAG from its input: convolutions (plain or separable, any
    kernel), BN, ReLU, pooling, and add/concat merges of random earlier tensors of the stage;
    tensors left unread are concatenated into the stage output.
    """
    b = _Builder()
    x = b.conv_bn_relu(INPUT, int(rng.choice(channel_choices)), int(rng.choice(KERNELS)))
    for s in range(int(rng.integers(1, max_stages + 1))):
        if s > 0:
            x = b.add("reduce", x)
        tensors = [x]
        for _ in range(int(rng.integers(1, max_ops_per_stage + 1))):
            src = tensors[int(rng.integers(len(tensors)))]
            kind = rng.choice(["conv", "sep_conv", "cbr", "bn", "relu", "pool", "add", "concat"])
            if kind in ("conv", "sep_conv"):
                y = b.add(
                    str(kind),
                    src,
                    channels=int(rng.choice(channel_choices)),
                    kernel=int(rng.choice(KERNELS)),
                )
            elif kind == "cbr":
                y = b.conv_bn_relu(src, int(rng.choice(channel_choices)), int(rng.choice(KERNELS)))
            elif kind in ("bn", "relu"):
                y = b.add(str(kind), src)
            elif kind == "pool":
                y = b.add(str(rng.choice(["max_pool", "avg_pool"])), src)
            else:
                other = tensors[int(rng.integers(len(tensors)))]
                if kind == "add" and _width(b, other) != _width(b, src):
                    # match widths with a 1x1 projection, as a real cell would
                    other = b.add("conv", other, channels=_width(b, src), kernel=1)
                if other == src and kind == "add":
                    continue
                y = b.add(str(kind), src, other)
            tensors.append(y)
        readers = {i for n in b.nodes for i in n.inputs}
        sinks = [t for t in tensors if t not in readers]
        x = sinks[0] if len(sinks) == 1 else b.add("concat", *sinks)
        if rng.random() < 0.5:
            x = b.conv_bn_relu(x, int(rng.choice(channel_choices)), 3)
    return Genome(tuple(b.nodes), x)
