"""Approximate network morphisms: they shrink the network and change its function a little.

LEMONADE repairs the change by fine-tuning the child with distillation from its parent (here
``[trainer] distill``, off by default: measured, distilled children ended worse); each
result reports its deviation when :meth:`Morphism.apply` is given a probe batch.

* ``remove_layer``: drop a same-width convolution (with the BN and ReLU that only it feeds);
* ``remove_skip``: drop one input of an ``add`` or ``concat`` (and the branch that only fed it)
  where that removes parameters: a ``concat`` always narrows its readers; an ``add`` input
  qualifies only when a weighted layer feeds nothing else (not an identity shortcut); never
  where the one input left is an unnormalised tensor not read by a BN (a raw 1x1
  projection into a ReLU);
* ``prune_filters``: drop the channels of a group with the smallest L1 filter norm, and the
  matching input weights of its readers;
* ``separable``: replace a convolution by a depthwise-separable one, initialised with the best
  per-input-channel rank-1 factorisation of its kernel (SVD).

Every approximate morphism shrinks the network (fewer parameters): a change of function that
buys nothing is not offered (stride-1 pooling layers are not removed for that reason).
"""

from __future__ import annotations

import numpy as np
import torch

from evonas.core.individual import StateDict
from evonas.morphism._channels import ChannelGroups, NotApplicable, apply_remap, plan_remap
from evonas.morphism.base import (
    Child,
    Morphism,
    MorphismRecord,
    Site,
    normalised_tensors,
    prune_dead,
    register_morphism,
    rewire,
)
from evonas.space.genome import CONV_OPS, INPUT, Genome, Node


@register_morphism("remove_layer")
class RemoveLayer(Morphism):
    """Removes a layer whose input and output widths match, wiring its readers to its input."""

    preserving = False

    def sites(self, genome: Genome) -> list[Site]:
        out: list[Site] = []
        for n in genome.nodes:
            if (
                n.op in CONV_OPS
                and n.inputs[0] != INPUT
                and genome.channels[n.inputs[0]] == genome.channels[n.id]
            ):
                out.append(tuple(_exclusive_chain(genome, n.id)))
        return out

    def apply_at(
        self, genome: Genome, state: StateDict | None, site: Site, rng: np.random.Generator
    ) -> Child:
        source = genome[site[0]].inputs[0]
        last = site[-1]
        removed = set(site)
        nodes = rewire([n for n in genome.nodes if n.id not in removed], last, source)
        output = source if genome.output == last else genome.output
        nodes, new = prune_dead(nodes, output, state)
        return Child(Genome(tuple(nodes), output), new, MorphismRecord(self.name, site, {}))


def _exclusive_chain(genome: Genome, start: str) -> list[str]:
    """``start`` plus the bn and relu after it that nothing else reads."""
    chain = [start]
    for op in ("bn", "relu"):
        readers = genome.consumers[chain[-1]]
        if chain[-1] == genome.output or len(readers) != 1 or genome[readers[0]].op != op:
            break
        chain.append(readers[0])
    return chain


@register_morphism("remove_skip")
class RemoveSkip(Morphism):
    """Removes one input of an ``add`` or ``concat`` merge."""

    preserving = False

    def sites(self, genome: Genome) -> list[Site]:
        groups = ChannelGroups.of(genome)
        normalised = normalised_tensors(genome)
        out: list[Site] = []
        for n in genome.nodes:
            if n.op not in ("add", "concat"):
                continue
            for k in range(len(n.inputs)):
                if n.op == "add" and not _frees_weights(genome, n, k):
                    continue
                rest = n.inputs[:k] + n.inputs[k + 1 :]
                if len(rest) == 1 and rest[0] not in normalised and not _normalised_next(genome, n):
                    # e.g. the 1x1 projection of a skip left as the only path into a ReLU:
                    # an unnormalised conv that fine-tunes badly (chance level, or NaN)
                    continue
                if n.op == "concat":
                    try:
                        plan_remap(
                            genome,
                            groups,
                            groups.group_of[n.id],
                            _concat_keep(genome, n, k),
                            source=n.id,
                        )
                    except NotApplicable:
                        continue
                out.append((n.id, str(k)))
        return out

    def apply_at(
        self, genome: Genome, state: StateDict | None, site: Site, rng: np.random.Generator
    ) -> Child:
        merge_id, k_text = site
        k = int(k_text)
        merge = genome[merge_id]
        new = None if state is None else dict(state)
        changed: dict[str, Node] = {}
        if merge.op == "concat":
            groups = ChannelGroups.of(genome)
            maps = plan_remap(
                genome,
                groups,
                groups.group_of[merge_id],
                _concat_keep(genome, merge, k),
                source=merge_id,
            )
            changed, new = apply_remap(genome, groups, state, maps, divide=False)
        kept_inputs = merge.inputs[:k] + merge.inputs[k + 1 :]
        nodes = [changed.get(n.id, n) for n in genome.nodes]
        output = genome.output
        if len(kept_inputs) == 1:
            nodes = rewire([n for n in nodes if n.id != merge_id], merge_id, kept_inputs[0])
            if output == merge_id:
                output = kept_inputs[0]
        else:
            nodes = [Node(n.id, n.op, kept_inputs) if n.id == merge_id else n for n in nodes]
        nodes, new = prune_dead(nodes, output, new)
        record = MorphismRecord(self.name, site, {"removed_input": merge.inputs[k]})
        return Child(Genome(tuple(nodes), output), new, record)


def _normalised_next(genome: Genome, node: Node) -> bool:
    """Whether everything that reads ``node`` is a batch norm (as after an add_skip on a
    convolution's output): a raw tensor left there is normalised straight away."""
    readers = genome.consumers[node.id]
    return bool(readers) and genome.output != node.id and all(genome[r].op == "bn" for r in readers)


def _frees_weights(genome: Genome, merge: Node, k: int) -> bool:
    """Whether dropping input ``k`` of ``merge`` leaves a weighted layer (conv, sep_conv,
    BN) reaching nothing, so that the child is smaller."""
    live = {genome.output}
    for n in reversed(genome.nodes):
        if n.id not in live:
            continue
        inputs = n.inputs[:k] + n.inputs[k + 1 :] if n.id == merge.id else n.inputs
        live.update(inputs)
    return any(n.id not in live and (n.op in CONV_OPS or n.op == "bn") for n in genome.nodes)


def _concat_keep(genome: Genome, node: Node, drop: int) -> torch.Tensor:
    """Channel indices of a concat that remain when input ``drop`` is removed."""
    widths = [genome.channels[i] for i in node.inputs]
    start = sum(widths[:drop])
    keep = torch.ones(sum(widths), dtype=torch.bool)
    keep[start : start + widths[drop]] = False
    return torch.nonzero(keep).flatten()


@register_morphism("prune_filters")
class PruneFilters(Morphism):
    """Drops a fraction of a channel group's filters, those with the smallest L1 norm.

    Args:
        fractions: fractions of channels to remove, drawn per application.
        min_channels: a group never shrinks below this width.
    """

    preserving = False

    def __init__(
        self, *, fractions: tuple[float, ...] = (0.25, 0.5), min_channels: int = 4
    ) -> None:
        if not fractions or any(not 0 < f < 1 for f in fractions):
            raise ValueError(f"prune fractions {fractions!r} must lie in (0, 1)")
        self.fractions = tuple(fractions)
        self.min_channels = min_channels

    def sites(self, genome: Genome) -> list[Site]:
        return ChannelGroups.of(genome).sites(
            genome,
            admits=lambda width: width > self.min_channels,
            probe=lambda width: torch.arange(width - 1),
        )

    def apply_at(
        self, genome: Genome, state: StateDict | None, site: Site, rng: np.random.Generator
    ) -> Child:
        groups = ChannelGroups.of(genome)
        gid = groups.group_of[site[0]]
        width = genome.channels[site[0]]
        fraction = float(rng.choice(self.fractions))
        keep_n = max(self.min_channels, width - max(1, round(width * fraction)))
        norm = torch.zeros(width)  # architecture only (no state): any channels will do
        for p in site:
            key = f"nodes.{p}.weight" if genome[p].op == "conv" else f"nodes.{p}.pointwise.weight"
            if state is not None:
                norm += state[key].abs().flatten(1).sum(dim=1).float().cpu()
        keep = torch.sort(torch.argsort(norm, descending=True, stable=True)[:keep_n]).values
        maps = plan_remap(genome, groups, gid, keep)
        changed, new = apply_remap(genome, groups, state, maps, divide=False)
        nodes = tuple(changed.get(n.id, n) for n in genome.nodes)
        record = MorphismRecord(self.name, site, {"from": width, "to": keep_n})
        return Child(Genome(nodes, genome.output), new, record)


@register_morphism("separable")
class Separable(Morphism):
    """Replaces a k x k convolution (k >= 3, two or more outputs) by a depthwise-separable
    one.

    With ``W[o, i]`` the kernel from input ``i`` to output ``o``, each input channel's slice
    ``W[:, i]`` (``C_out x k^2``) is replaced by its best rank-1 approximation ``p_i d_i^T``
    (SVD): ``d_i`` becomes the depthwise filter and ``p_i`` the pointwise column.
    """

    preserving = False

    def sites(self, genome: Genome) -> list[Site]:
        # k >= 3 and >= 2 outputs: only then has the separable form fewer weights
        return [
            (n.id,)
            for n in genome.nodes
            if n.op == "conv" and (n.kernel or 0) >= 3 and (n.channels or 0) >= 2
        ]

    def apply_at(
        self, genome: Genome, state: StateDict | None, site: Site, rng: np.random.Generator
    ) -> Child:
        (target,) = site
        nodes = tuple(
            Node(n.id, "sep_conv", n.inputs, n.channels, n.kernel) if n.id == target else n
            for n in genome.nodes
        )
        record = MorphismRecord(self.name, site, {})
        if state is None:
            return Child(Genome(nodes, genome.output), None, record)
        w = state[f"nodes.{target}.weight"]
        c_out, c_in, k, _ = w.shape
        slices = w.permute(1, 0, 2, 3).reshape(c_in, c_out, k * k).double()
        u, s, vh = torch.linalg.svd(slices, full_matrices=False)
        root = s[:, 0].sqrt()
        pointwise = (u[:, :, 0] * root[:, None]).T  # (c_out, c_in)
        depthwise = vh[:, 0, :] * root[:, None]  # (c_in, k*k)
        new = {k_: v for k_, v in state.items() if k_ != f"nodes.{target}.weight"}
        new[f"nodes.{target}.depthwise.weight"] = depthwise.reshape(c_in, 1, k, k).to(w.dtype)
        new[f"nodes.{target}.pointwise.weight"] = pointwise.reshape(c_out, c_in, 1, 1).to(w.dtype)
        return Child(Genome(nodes, genome.output), new, record)
