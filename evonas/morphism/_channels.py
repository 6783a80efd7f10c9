"""Channel groups and channel remapping, shared by widening, pruning and skip removal.

Element-wise ops (bn, relu, pools, reduce) and ``add`` tie the channels of their inputs and
output together: channel ``j`` means the same feature in all of them. A *channel group* is a
maximal set of tensors tied this way. Its channels come from its *producers* (conv, sep_conv,
concat) and are read by *consumers* (conv, sep_conv, concat, and the head).

Remapping a group with an index ``m`` (new channel ``j`` is old channel ``m[j]``) selects or
copies producer filters and per-channel parameters, and selects the consumers' input weights.
With ``divide=True`` a consumer's weights for a channel copied ``r`` times are divided by ``r``
(Net2WiderNet), so the network computes exactly the same function; with ``divide=False``
dropped channels are simply gone (pruning). A concat that reads a remapped group passes the
change on to its own group, and so on downstream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from evonas.core.individual import StateDict
from evonas.space.genome import CONV_OPS, INPUT, Genome, Node

TIE_OPS = ("bn", "relu", "max_pool", "avg_pool", "reduce", "add")


class NotApplicable(Exception):
    """A morphism cannot act on this genome (or at this site)."""


@dataclass(frozen=True)
class ChannelGroups:
    """The channel groups of a genome."""

    group_of: dict[str, int]  # tensor id -> group index
    members: list[list[str]]  # group index -> tensor ids, in topological order

    @classmethod
    def of(cls, genome: Genome) -> ChannelGroups:
        parent: dict[str, str] = {INPUT: INPUT, **{n.id: n.id for n in genome.nodes}}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for n in genome.nodes:
            if n.op in TIE_OPS:
                for src in n.inputs:
                    parent[find(src)] = find(n.id)
        roots: dict[str, int] = {}
        group_of: dict[str, int] = {}
        members: list[list[str]] = []
        for t in [INPUT, *(n.id for n in genome.nodes)]:
            r = find(t)
            if r not in roots:
                roots[r] = len(members)
                members.append([])
            group_of[t] = roots[r]
            members[roots[r]].append(t)
        return cls(group_of, members)

    def producers(self, genome: Genome, gid: int) -> list[str]:
        return [t for t in self.members[gid] if t == INPUT or genome[t].op not in TIE_OPS]

    def sites(
        self, genome: Genome, admits: Callable[[int], bool], probe: Callable[[int], torch.Tensor]
    ) -> list[tuple[str, ...]]:
        """Producers of every group that can be remapped: all producers conv/sep_conv, the
        width ``admits`` it, and a trial map ``probe(width)`` plans without conflict."""
        out = []
        for gid, members in enumerate(self.members):
            if not self.remappable(genome, gid) or not admits(genome.channels[members[0]]):
                continue
            try:
                plan_remap(genome, self, gid, probe(genome.channels[members[0]]))
            except NotApplicable:
                continue
            out.append(tuple(self.producers(genome, gid)))
        return out

    def remappable(self, genome: Genome, gid: int) -> bool:
        """True when every producer is a conv/sep_conv (so its filters can be copied/dropped)."""
        prods = self.producers(genome, gid)
        return bool(prods) and all(p != INPUT and genome[p].op in CONV_OPS for p in prods)


def plan_remap(
    genome: Genome, groups: ChannelGroups, gid: int, index: torch.Tensor, source: str | None = None
) -> dict[int, torch.Tensor]:
    """Index maps for ``gid`` and every group downstream of it through concats.

    ``source`` is a concat whose own output is being redefined (skip removal); any other
    concat producer in an affected group makes the remap impossible (:class:`NotApplicable`).
    """
    maps: dict[int, torch.Tensor] = {}
    pending: list[tuple[int, torch.Tensor]] = [(gid, index)]
    while pending:
        g, m = pending.pop()
        if g in maps:
            if not torch.equal(maps[g], m):
                raise NotApplicable(f"channel group of {groups.members[g][0]!r} is remapped twice")
            continue
        maps[g] = m
        for t in groups.members[g]:
            if t == INPUT:
                raise NotApplicable("the image's channels cannot be remapped")
            if genome[t].op == "concat" and t != source:
                # its channels are determined by its inputs, so it must come from upstream
                upstream = _concat_map(genome, groups, genome[t], maps)
                if upstream is None or not torch.equal(upstream, m):
                    raise NotApplicable(f"concat {t!r} would need two different channel maps")
        for t in groups.members[g]:
            for c in genome.consumers[t]:
                node = genome[c]
                if node.op == "concat" and c != source:
                    cm = _concat_map(genome, groups, node, maps)
                    if cm is not None:
                        pending.append((groups.group_of[c], cm))
    return maps


def _concat_map(
    genome: Genome, groups: ChannelGroups, node: Node, maps: dict[int, torch.Tensor]
) -> torch.Tensor | None:
    """A concat's output map from its inputs' maps; ``None`` when no input is remapped."""
    parts: list[torch.Tensor] = []
    offset = 0
    changed = False
    for src in node.inputs:
        g = groups.group_of[src]
        width = genome.channels[src]
        if g in maps:
            parts.append(maps[g] + offset)
            changed = True
        else:
            parts.append(torch.arange(width) + offset)
        offset += width
    return torch.cat(parts) if changed else None


def apply_remap(
    genome: Genome,
    groups: ChannelGroups,
    state: StateDict | None,
    maps: dict[int, torch.Tensor],
    *,
    divide: bool,
) -> tuple[dict[str, Node], StateDict | None]:
    """Applies planned maps to the weights; returns nodes with new widths and the new state.

    ``state`` is not modified; with ``state=None`` only the widths change.
    """
    nodes: dict[str, Node] = {}
    for g, m in maps.items():
        for t in groups.members[g]:
            node = genome[t]
            if node.op in CONV_OPS:
                nodes[t] = Node(t, node.op, node.inputs, int(m.numel()), node.kernel)
    if state is None:
        return nodes, None
    new = dict(state)
    for g, m in maps.items():
        if divide:
            old = max(genome.channels[t] for t in groups.members[g])
            counts = torch.bincount(m, minlength=old).to(torch.float32)
            scale: torch.Tensor | None = 1.0 / counts[m]
        else:
            scale = None
        for t in groups.members[g]:
            node = genome[t]
            if node.op == "conv":
                _take(new, f"nodes.{t}.weight", m, 0)
            elif node.op == "sep_conv":
                _take(new, f"nodes.{t}.pointwise.weight", m, 0)
            elif node.op == "bn":
                for p in ("weight", "bias", "running_mean", "running_var"):
                    _take(new, f"nodes.{t}.{p}", m, 0)
            for c in genome.consumers[t]:
                cn = genome[c]
                if cn.op == "conv":
                    _take(new, f"nodes.{c}.weight", m, 1, scale)
                elif cn.op == "sep_conv":
                    _take(new, f"nodes.{c}.depthwise.weight", m, 0)
                    _take(new, f"nodes.{c}.pointwise.weight", m, 1, scale)
            if t == genome.output:
                _take(new, "head.weight", m, 1, scale)
    return nodes, new


def _take(
    state: StateDict, key: str, m: torch.Tensor, dim: int, scale: torch.Tensor | None = None
) -> None:
    w = state[key].index_select(dim, m.to(state[key].device))
    if scale is not None:
        shape = [1] * w.dim()
        shape[dim] = -1
        w = w * scale.to(w.device, w.dtype).view(shape)
    state[key] = w
