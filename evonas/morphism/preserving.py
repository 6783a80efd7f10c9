"""Function-preserving network morphisms (LEMONADE's ``ApproxNetworkMorphism`` is separate).

Each child computes exactly its parent's function in eval mode (up to float rounding):

* ``deepen``: insert conv-BN-ReLU after a ReLU, conv = identity, BN = identity, and ReLU is
  the identity on the non-negative output of the ReLU it follows. The record names the new
  BN for *calibration* (:func:`~evonas.model.builder.calibrate_batchnorm`): with
  ``[trainer] calibrate = true``, its scale/shift and running statistics are set from the
  parent's activations before training, so the child is the identity in train mode (batch
  statistics) too. Off by default: measured, calibrated children fine-tuned worse;
* ``deepen_separable`` (opt-in): the same with a depthwise-separable convolution (depthwise
  kernel a centred delta, pointwise the identity matrix): depth at ``c k^2 + c^2``
  parameters instead of ``c^2 k^2``, the layer efficient small networks are built from;
* ``widen``: Net2WiderNet on a channel group; copies are read with weights divided by their
  count, and optional noise is added and subtracted in pairs so the sum is unchanged;
* ``add_skip``: ``v + BN(conv1x1(u))`` with the branch's BN scale 0 (so it adds 0 in train
  mode too), or
  ``concat(v, u)`` with zero weights on the new channels of every reader of ``v``;
* ``enlarge_kernel``: zero-pad a convolution's kernel by one ring (3 -> 5, ...).
"""

from __future__ import annotations

import numpy as np
import torch

from evonas.core.individual import StateDict
from evonas.model.builder import torch_generator
from evonas.morphism._channels import ChannelGroups, apply_remap, plan_remap
from evonas.morphism.base import (
    Child,
    Morphism,
    MorphismRecord,
    Site,
    bn_identity_state,
    insert_after,
    normalised_tensors,
    register_morphism,
    rewire,
)
from evonas.space.genome import CONV_OPS, KERNELS, Genome, Node


@register_morphism("deepen")
class Deepen(Morphism):
    """Inserts conv-BN-ReLU, initialised to the identity, after a ReLU.

    Args:
        kernels: kernel sizes to draw the new convolution's from.
    """

    preserving = True
    op = "conv"  # the inserted layer's op

    def __init__(self, *, kernels: tuple[int, ...] = (1, 3)) -> None:
        if not kernels or any(k not in KERNELS for k in kernels):
            raise ValueError(f"{self.name} kernels {kernels!r} must be drawn from {KERNELS}")
        self.kernels = tuple(kernels)

    def identity(self, prefix: str, channels: int, kernel: int) -> StateDict:
        """The inserted layer's weights that make it the identity (keys under ``prefix``)."""
        weight = torch.zeros(channels, channels, kernel, kernel)
        weight[torch.arange(channels), torch.arange(channels), kernel // 2, kernel // 2] = 1.0
        return {f"{prefix}.weight": weight}

    def sites(self, genome: Genome) -> list[Site]:
        return [(n.id,) for n in genome.nodes if n.op == "relu"]

    def apply_at(
        self, genome: Genome, state: StateDict | None, site: Site, rng: np.random.Generator
    ) -> Child:
        (after,) = site
        c = genome.channels[after]
        k = int(rng.choice(self.kernels))
        conv_id, bn_id, relu_id = genome.new_ids(3)
        readers = genome.consumers[after]
        nodes = rewire(genome.nodes, after, relu_id)
        nodes = insert_after(
            nodes,
            after,
            [
                Node(conv_id, self.op, (after,), c, k),
                Node(bn_id, "bn", (conv_id,)),
                Node(relu_id, "relu", (bn_id,)),
            ],
        )
        output = relu_id if genome.output == after else genome.output
        new = None
        if state is not None:
            new = {**state, **self.identity(f"nodes.{conv_id}", c, k)}
            new.update(bn_identity_state(f"nodes.{bn_id}", c))
        record = MorphismRecord(
            self.name,
            site,
            {
                "kernel": k,
                "new_nodes": [conv_id, bn_id, relu_id],
                "readers": list(readers),
                "calibrate": [bn_id],
            },
        )
        return Child(Genome(tuple(nodes), output), new, record)


@register_morphism("deepen_separable")
class DeepenSeparable(Deepen):
    """Inserts separable-conv-BN-ReLU, initialised to the identity, after a ReLU.

    Not in the default set (``default = False``): name it in ``[morphisms] enabled`` to use
    it. Measured on design seeds, LEMONADE's fronts with it were worse (docs/decisions.md).

    Args:
        kernels: kernel sizes to draw the new depthwise convolution's from.
    """

    op = "sep_conv"
    default = False

    def __init__(self, *, kernels: tuple[int, ...] = (3, 5)) -> None:
        super().__init__(kernels=kernels)

    def identity(self, prefix: str, channels: int, kernel: int) -> StateDict:
        depthwise = torch.zeros(channels, 1, kernel, kernel)
        depthwise[:, 0, kernel // 2, kernel // 2] = 1.0
        pointwise = torch.eye(channels).reshape(channels, channels, 1, 1)
        return {f"{prefix}.depthwise.weight": depthwise, f"{prefix}.pointwise.weight": pointwise}


@register_morphism("widen")
class Widen(Morphism):
    """Net2WiderNet: widens every producer of a channel group by copying channels.

    Args:
        factors: width multipliers to draw from.
        max_channels: no group grows beyond this width.
        noise: relative std of the symmetric noise that breaks the copies' symmetry; it is
            added to a copy's reader weights and subtracted from the original's, so the
            function is unchanged. 0 disables it.
    """

    preserving = True

    def __init__(
        self,
        *,
        factors: tuple[float, ...] = (1.5, 2.0),
        max_channels: int = 512,
        noise: float = 0.01,
    ) -> None:
        if not factors or any(f <= 1.0 for f in factors):
            raise ValueError(f"widen factors {factors!r} must all be > 1")
        self.factors = tuple(factors)
        self.max_channels = max_channels
        self.noise = noise

    def sites(self, genome: Genome) -> list[Site]:
        return ChannelGroups.of(genome).sites(
            genome,
            admits=lambda width: width < self.max_channels,
            probe=lambda width: torch.cat([torch.arange(width), torch.zeros(1, dtype=torch.long)]),
        )

    def apply_at(
        self, genome: Genome, state: StateDict | None, site: Site, rng: np.random.Generator
    ) -> Child:
        groups = ChannelGroups.of(genome)
        gid = groups.group_of[site[0]]
        width = genome.channels[site[0]]
        target = min(
            self.max_channels, max(width + 1, round(width * float(rng.choice(self.factors))))
        )
        extra = torch.from_numpy(rng.integers(width, size=target - width)).long()
        index = torch.cat([torch.arange(width), extra])
        maps = plan_remap(genome, groups, gid, index)
        changed, new = apply_remap(genome, groups, state, maps, divide=True)
        if self.noise > 0 and new is not None:
            _symmetric_noise(genome, groups, new, maps, self.noise, torch_generator(rng))
        nodes = tuple(changed.get(n.id, n) for n in genome.nodes)
        record = MorphismRecord(self.name, site, {"from": width, "to": target})
        return Child(Genome(nodes, genome.output), new, record)


def _symmetric_noise(
    genome: Genome,
    groups: ChannelGroups,
    state: StateDict,
    maps: dict[int, torch.Tensor],
    scale: float,
    gen: torch.Generator,
) -> None:
    """For each copied channel j of a widened group, adds e to its readers' weights and
    subtracts e from those of the channel it copies: the readers' sums are unchanged.

    A reader may itself produce a widened group (``add(x, conv(x))``); its output rows that
    are copies of one another must stay equal, so e is drawn per original row and copied
    along that reader's own map.
    """
    for g, m in maps.items():
        first: dict[int, int] = {}  # old channel -> new position of its first occurrence
        pairs: list[tuple[int, int]] = []  # (copy, original), both new positions
        for j, old in enumerate(m.tolist()):
            if old in first:
                pairs.append((j, first[old]))
            else:
                first[old] = j
        if not pairs:
            continue
        readers: list[tuple[str, str | None]] = []  # (state key, reader node or None for head)
        for t in groups.members[g]:
            for c in genome.consumers[t]:
                if genome[c].op == "conv":
                    readers.append((f"nodes.{c}.weight", c))
                elif genome[c].op == "sep_conv":
                    readers.append((f"nodes.{c}.pointwise.weight", c))
            if t == genome.output:
                readers.append(("head.weight", None))
        for key, reader in readers:
            w = state[key].clone()
            std = float(w.std()) if w.numel() > 1 else 1.0
            out_map = maps.get(groups.group_of[reader]) if reader is not None else None
            rows = (
                genome.channels[reader]
                if reader is not None and out_map is not None
                else w.shape[0]
            )
            for j, src in pairs:
                eps = torch.randn((rows, *w.shape[2:]), generator=gen) * (scale * std)
                if out_map is not None:
                    eps = eps[out_map]
                w[:, j] += eps
                w[:, src] -= eps
            state[key] = w


@register_morphism("add_skip")
class AddSkip(Morphism):
    """Adds a skip connection from an earlier tensor ``u`` to a later ``v`` of one stage;
    ``u`` is always a normalised tensor (:func:`normalised_tensors`).

    Args:
        modes: ``"add"`` (``v + BN(conv1x1(u))``, the BN's scale 0) and/or ``"concat"``
            (``concat(v, u)`` read with zero weights).
    """

    preserving = True

    def __init__(self, *, modes: tuple[str, ...] = ("add", "concat")) -> None:
        if not modes or set(modes) - {"add", "concat"}:
            raise ValueError(f"add_skip modes {modes!r} must be drawn from ('add', 'concat')")
        self.modes = tuple(modes)

    def sites(self, genome: Genome) -> list[Site]:
        out: list[Site] = []
        stage = genome.stage_of
        normalised = normalised_tensors(genome)
        for j, v in enumerate(genome.nodes):
            readers = [genome[c] for c in genome.consumers[v.id]]
            concat_ok = all(r.op in CONV_OPS for r in readers)
            for u in genome.nodes[:j]:
                if stage[u.id] != stage[v.id] or u.id in v.inputs or u.id not in normalised:
                    continue
                if "add" in self.modes:
                    out.append(("add", u.id, v.id))
                if "concat" in self.modes and concat_ok:
                    out.append(("concat", u.id, v.id))
        return out

    def apply_at(
        self, genome: Genome, state: StateDict | None, site: Site, rng: np.random.Generator
    ) -> Child:
        mode, u, v = site
        new = None if state is None else dict(state)
        if mode == "add":
            proj_id, bn_id, add_id = genome.new_ids(3)
            nodes = rewire(genome.nodes, v, add_id)
            nodes = insert_after(
                nodes,
                v,
                [
                    Node(proj_id, "conv", (u,), genome.channels[v], 1),
                    Node(bn_id, "bn", (proj_id,)),
                    Node(add_id, "add", (v, bn_id)),
                ],
            )
            if new is not None:
                c_out, c_in = genome.channels[v], genome.channels[u]
                # He-normal projection, BN scale 0: the branch adds exactly 0 in train and
                # eval mode, and, normalised, it learns at the rate of the rest of the network
                # (a raw projection feeding the head diverged at lr 0.2 in 7 of 8 replays)
                gen = torch_generator(rng)
                new[f"nodes.{proj_id}.weight"] = (
                    torch.randn((c_out, c_in, 1, 1), generator=gen) * (2.0 / c_out) ** 0.5
                )
                new.update(bn_identity_state(f"nodes.{bn_id}", c_out))
                new[f"nodes.{bn_id}.weight"] = torch.zeros(c_out)
            output = add_id if genome.output == v else genome.output
            details = {"new_nodes": [proj_id, bn_id, add_id]}
        else:
            (cat_id,) = genome.new_ids(1)
            nodes = rewire(genome.nodes, v, cat_id)
            nodes = insert_after(nodes, v, [Node(cat_id, "concat", (v, u))])
            extra = genome.channels[u]
            if new is not None:
                _zero_readers(genome, new, v, extra, torch_generator(rng))
            output = cat_id if genome.output == v else genome.output
            details = {"new_nodes": [cat_id]}
        return Child(Genome(tuple(nodes), output), new, MorphismRecord(self.name, site, details))


def _zero_readers(
    genome: Genome, state: StateDict, v: str, extra: int, gen: torch.Generator
) -> None:
    """Gives every reader of ``v`` (conv, sep_conv, head) zero weights for ``extra`` new
    input channels appended after ``v``'s own."""
    for r in genome.consumers[v]:
        if genome[r].op == "conv":
            _zero_cols(state, f"nodes.{r}.weight", extra)
        else:  # sep_conv: the depthwise filters of new channels are free, keep them small
            dw = state[f"nodes.{r}.depthwise.weight"]
            fresh = torch.randn((extra, *dw.shape[1:]), generator=gen) * float(dw.std())
            state[f"nodes.{r}.depthwise.weight"] = torch.cat([dw, fresh.to(dw.dtype)])
            _zero_cols(state, f"nodes.{r}.pointwise.weight", extra)
    if genome.output == v:
        _zero_cols(state, "head.weight", extra)


def _zero_cols(state: StateDict, key: str, extra: int) -> None:
    w = state[key]
    state[key] = torch.cat([w, w.new_zeros((w.shape[0], extra, *w.shape[2:]))], dim=1)


@register_morphism("enlarge_kernel")
class EnlargeKernel(Morphism):
    """Grows a (separable) convolution's kernel by one ring of zeros: 1->3, 3->5, 5->7."""

    preserving = True

    def sites(self, genome: Genome) -> list[Site]:
        return [(n.id,) for n in genome.nodes if n.op in CONV_OPS and (n.kernel or 0) < KERNELS[-1]]

    def apply_at(
        self, genome: Genome, state: StateDict | None, site: Site, rng: np.random.Generator
    ) -> Child:
        (target,) = site
        node = genome[target]
        assert node.kernel is not None
        key = f"nodes.{target}.weight" if node.op == "conv" else f"nodes.{target}.depthwise.weight"
        new = None
        if state is not None:
            new = {**state, key: torch.nn.functional.pad(state[key], (1, 1, 1, 1))}
        nodes = tuple(
            Node(n.id, n.op, n.inputs, n.channels, node.kernel + 2) if n.id == target else n
            for n in genome.nodes
        )
        record = MorphismRecord(self.name, site, {"from": node.kernel, "to": node.kernel + 2})
        return Child(Genome(nodes, genome.output), new, record)
