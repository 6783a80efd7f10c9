"""Resolution morphisms: they change where the network downsamples (its stage schedule).

A ``reduce`` node (2x2 max-pool, stride 2) is the only way from one stage to the next, so
adding or removing one is how a run changes its resolution schedule. Neither changes a weight:
convolutions are translation-equivariant and the head pools globally, so every inherited
weight still applies at the new resolution. Neither can be function-preserving (a max-pool is
not the identity, and removing one changes what every later layer sees), so both are
approximate: their deviation is reported like the others' and their children are repaired by
distillation.

* ``add_reduce``: insert a ``reduce`` after a tensor that cuts the network in two (everything
  downstream of it reads only through it): the later layers run at half the resolution,
  about a quarter of their FLOPs, with the same parameters. A shrinking morphism;
* ``remove_reduce``: drop a ``reduce``, joining its two stages: the later layers run at twice
  the resolution (more FLOPs, same parameters), which can buy accuracy. Not a shrinking
  morphism: it trades compute for error.

The child factory rejects a child whose last stage would have no pixel left for the task's
input (see :meth:`evonas.engine.ChildFactory.violation`); ``max_stages`` bounds the schedule
independently of the input.
"""

from __future__ import annotations

import numpy as np

from evonas.core.individual import StateDict
from evonas.morphism.base import (
    Child,
    Morphism,
    MorphismRecord,
    Site,
    insert_after,
    register_morphism,
    rewire,
)
from evonas.space.genome import CONV_OPS, Genome, Node


@register_morphism("add_reduce")
class AddReduce(Morphism):
    """Inserts a downsampling ``reduce`` after a tensor that cuts the network in two.

    Args:
        max_stages: no site when the genome already has this many stages.
    """

    preserving = False
    shrinks = True

    def __init__(self, *, max_stages: int = 5) -> None:
        if max_stages < 2:
            raise ValueError(f"add_reduce max_stages must be >= 2, got {max_stages}")
        self.max_stages = max_stages

    def sites(self, genome: Genome) -> list[Site]:
        if genome.num_stages >= self.max_stages:
            return []
        return [(n.id,) for n in genome.nodes if _cuts_stage(genome, n)]

    def apply_at(
        self, genome: Genome, state: StateDict | None, site: Site, rng: np.random.Generator
    ) -> Child:
        (after,) = site
        (reduce_id,) = genome.new_ids(1)
        nodes = rewire(genome.nodes, after, reduce_id)
        nodes = insert_after(nodes, after, [Node(reduce_id, "reduce", (after,))])
        output = reduce_id if genome.output == after else genome.output
        record = MorphismRecord(self.name, site, {"stage": genome.stage_of[after]})
        return Child(Genome(tuple(nodes), output), None if state is None else dict(state), record)


def _cuts_stage(genome: Genome, node: Node) -> bool:
    """Whether a ``reduce`` can follow ``node``: every node downstream of it reads only
    ``node`` or other downstream nodes (so the downstream part can move to the next
    resolution as a whole), and a convolution is among them (so FLOPs are saved). Not
    after a ``reduce``, nor right before one (no empty stage)."""
    if node.op == "reduce" or any(genome[r].op == "reduce" for r in genome.consumers[node.id]):
        return False
    downstream = {node.id}
    convolves = False
    for n in genome.nodes[genome.nodes.index(node) + 1 :]:
        inside = [i in downstream for i in n.inputs]
        if any(inside):
            if not all(inside):
                return False
            downstream.add(n.id)
            convolves |= n.op in CONV_OPS
    return convolves


@register_morphism("remove_reduce")
class RemoveReduce(Morphism):
    """Removes a ``reduce``, joining the two stages it separates (the later one runs at twice
    the resolution).

    Not in the default set (``default = False``): name it in ``[morphisms] enabled`` to use
    it. It keeps the parameters, so with error and size as objectives it can only pay in
    error, and measured it hardly did, at twice the time a child (``docs/decisions.md``).
    """

    preserving = False
    shrinks = False
    default = False

    def sites(self, genome: Genome) -> list[Site]:
        return [(n.id,) for n in genome.nodes if n.op == "reduce"]

    def apply_at(
        self, genome: Genome, state: StateDict | None, site: Site, rng: np.random.Generator
    ) -> Child:
        (target,) = site
        source = genome[target].inputs[0]
        nodes = rewire([n for n in genome.nodes if n.id != target], target, source)
        output = source if genome.output == target else genome.output
        record = MorphismRecord(self.name, site, {"stage": genome.stage_of[target]})
        return Child(Genome(tuple(nodes), output), None if state is None else dict(state), record)
