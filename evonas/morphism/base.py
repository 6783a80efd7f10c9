"""The morphism interface: parent genome + trained weights -> child genome + inherited weights.

A :class:`Morphism` lists the *sites* where it can act on a genome and applies itself at one
of them, building the child's state dict from the parent's. Function-preserving morphisms
give a child that computes exactly the parent's function (in eval mode); approximate ones
change it and report how far the output moved (to be repaired by distillation): most of them
shrink the network (``shrinks``), ``remove_reduce`` trades FLOPs for accuracy.
Every random choice draws from the ``np.random.Generator`` passed in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from evonas.core.individual import MorphismRecord, Site, StateDict
from evonas.core.registry import Registry
from evonas.model.builder import build_model
from evonas.morphism._channels import NotApplicable
from evonas.space.genome import CONV_OPS, INPUT, Genome, Node


@dataclass(frozen=True)
class Child:
    """A morphism's result."""

    genome: Genome
    state: StateDict | None  # the child's weights, derived from the parent's (None: genome only)
    record: MorphismRecord
    deviation: float | None = None  # relative output change on the probe batch, if measured


class Morphism(ABC):
    """Base class of all morphisms. Subclasses set ``name`` (via registration) and
    ``preserving``, and implement :meth:`sites` and :meth:`apply_at`."""

    name: ClassVar[str] = ""
    preserving: ClassVar[bool] = True  # computes the parent's function exactly (eval mode)
    shrinks: ClassVar[bool] = False
    """The child is smaller (fewer parameters or FLOPs): the child factory repairs a child
    over a space limit with these. A subclass that does not set it gets ``not preserving``."""
    default: ClassVar[bool] = True
    """In the set a scenario gets when its ``[morphisms] enabled`` names none
    (:func:`default_morphisms`); one that is not is used only where a scenario names it."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "shrinks" not in cls.__dict__:
            cls.shrinks = not cls.preserving

    @abstractmethod
    def sites(self, genome: Genome) -> list[Site]:
        """Every place this morphism can act on ``genome`` (empty: not applicable)."""

    @abstractmethod
    def apply_at(
        self, genome: Genome, state: StateDict | None, site: Site, rng: np.random.Generator
    ) -> Child:
        """Applies the morphism at ``site``; ``state`` is not modified.

        With ``state=None`` only the genome is changed (architecture-only search, surrogate
        evaluation); the child's state is then ``None`` too.
        """

    def is_applicable(self, genome: Genome) -> bool:
        return bool(self.sites(genome))

    def apply(
        self,
        genome: Genome,
        state: StateDict | None,
        rng: np.random.Generator,
        *,
        probe: torch.Tensor | None = None,
    ) -> Child:
        """Applies the morphism at a site drawn from ``rng``.

        With a ``probe`` batch of inputs, the child's relative output deviation from the
        parent is measured and returned in :attr:`Child.deviation`.

        Raises:
            NotApplicable: the genome offers no site.
        """
        sites = self.sites(genome)
        if not sites:
            raise NotApplicable(f"morphism {self.name!r} has no site in genome {genome.short_hash}")
        child = self.apply_at(genome, state, sites[int(rng.integers(len(sites)))], rng)
        if probe is not None and state is not None and child.state is not None:
            dev = output_deviation(genome, state, child.genome, child.state, probe)
            child = Child(child.genome, child.state, child.record, dev)
        return child

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


MORPHISMS: Registry[Morphism] = Registry("morphism", Morphism)
"""Registered morphisms (classes). ``@register_morphism("name")`` adds one."""

register_morphism = MORPHISMS.register
get_morphism = MORPHISMS.create


def list_morphisms(pattern: str = "*", *, preserving: bool | None = None) -> list[str]:
    """Registered morphism names, optionally only (non-)function-preserving ones."""
    return [
        n
        for n in MORPHISMS.names(pattern)
        if preserving is None or MORPHISMS.get(n).preserving == preserving
    ]


def default_morphisms() -> list[str]:
    """The registered morphisms a scenario uses when it names none: every one whose
    ``default`` is true (all but ``remove_reduce`` and ``deepen_separable`` among the
    built-in ones)."""
    return [n for n in MORPHISMS.names() if MORPHISMS.get(n).default]


@torch.no_grad()
def output_deviation(
    parent: Genome,
    parent_state: StateDict,
    child: Genome,
    child_state: StateDict,
    probe: torch.Tensor,
) -> float:
    """Relative L2 change of the logits, ``||f_child(x) - f_parent(x)|| / ||f_parent(x)||``,
    both networks in eval mode, on the probe batch ``x``."""
    shape = (int(probe.shape[1]), int(probe.shape[2]), int(probe.shape[3]))
    classes = int(parent_state["head.weight"].shape[0])
    a = build_model(parent, shape, classes, parent_state).to(probe.device).eval()(probe)
    b = build_model(child, shape, classes, child_state).to(probe.device).eval()(probe)
    return float((b - a).norm() / a.norm().clamp_min(1e-12))


# --- helpers for editing genomes --------------------------------------------------------


def rewire(nodes: Sequence[Node], old: str, new: str, *, skip: Sequence[str] = ()) -> list[Node]:
    """Replaces input ``old`` by ``new`` in every node except those in ``skip``."""
    out = []
    for n in nodes:
        if n.id not in skip and old in n.inputs:
            n = Node(
                n.id, n.op, tuple(new if i == old else i for i in n.inputs), n.channels, n.kernel
            )
        out.append(n)
    return out


def prune_dead(
    nodes: Sequence[Node], output: str, state: StateDict | None
) -> tuple[list[Node], StateDict | None]:
    """Drops nodes that no longer reach ``output``, and every weight of a node not kept."""
    live = {output}
    for n in reversed(nodes):
        if n.id in live:
            live.update(n.inputs)
    kept = [n for n in nodes if n.id in live]
    kept_ids = {n.id for n in kept}
    if state is None:
        return kept, None
    new_state = {k: v for k, v in state.items() if _node_of(k) in kept_ids or _node_of(k) is None}
    return kept, new_state


def _node_of(key: str) -> str | None:
    """The node id a state-dict key belongs to (``None`` for the head)."""
    parts = key.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "nodes" else None


def insert_after(nodes: Sequence[Node], anchor: str, new: Sequence[Node]) -> list[Node]:
    """Inserts ``new`` right after node ``anchor`` (or first, for ``"input"``)."""
    out = list(nodes)
    pos = 0 if anchor == INPUT else next(i for i, n in enumerate(out) if n.id == anchor) + 1
    out[pos:pos] = list(new)
    return out


def normalised_tensors(genome: Genome) -> set[str]:
    """Tensors on a batch-normalised scale: a BN's output, and what ReLU, pooling and merges
    of only such tensors make of it. Raw convolution outputs can be large; a skip that
    reads one gets large gradients on its new weights and can diverge at the
    learning rates that suit the rest of the network, so skips read only these, and
    no merge is left with a raw convolution as its only input."""
    out: set[str] = set()
    for n in genome.nodes:
        if n.op == "bn" or (n.op not in CONV_OPS and all(i in out for i in n.inputs)):
            out.add(n.id)
    return out


def bn_identity_state(prefix: str, channels: int, eps: float = 1e-5) -> StateDict:
    """Batch-norm parameters that make it the identity in eval mode.

    ``running_var = 1 - eps`` makes ``sqrt(var + eps)`` exactly 1, so no rounding enters.
    """
    return {
        f"{prefix}.weight": torch.ones(channels),
        f"{prefix}.bias": torch.zeros(channels),
        f"{prefix}.running_mean": torch.zeros(channels),
        f"{prefix}.running_var": torch.full((channels,), 1.0 - eps),
        f"{prefix}.num_batches_tracked": torch.tensor(0, dtype=torch.long),
    }


__all__ = [
    "MORPHISMS",
    "Child",
    "Morphism",
    "MorphismRecord",
    "NotApplicable",
    "Site",
    "get_morphism",
    "list_morphisms",
    "output_deviation",
    "register_morphism",
]
