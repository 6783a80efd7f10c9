"""The architecture genome: a plain, serialisable description of a convolutional network.

A genome is a DAG of :class:`Node` s over one image tensor called ``"input"``. Its
structure is that of a classic CNN:

* the **stem** is the first convolution reading ``"input"``;
* **stages** are the parts of the DAG at one resolution; the only way to the next stage is a
  single ``reduce`` node (2x2 max-pool, stride 2), so stages are separated by downsampling;
* inside a stage, nodes form a small DAG: convolutions (kernel 1/3/5/7), depthwise-separable
  convolutions, batch norm, ReLU, 3x3 stride-1 pooling, and merges by ``add`` (equal
  channels) or ``concat`` (channels add up);
* the **head** (global average pool + linear classifier) reads the node named ``output``.

Input shape and number of classes are *not* part of the genome: the same genome builds for
28x28x1 and 32x32x3 (see :func:`evonas.model.build_model`). Only convolutions may read the
image, so every rule below can be checked without knowing the input channels.

Genomes are immutable and validated when constructed; a malformed one raises
:class:`GenomeError` naming the node and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

INPUT = "input"
"""Name of the image tensor that the stem reads."""

CONV_OPS = ("conv", "sep_conv")
"""Ops with learned spatial filters and an explicit number of output channels."""
UNARY_OPS = ("bn", "relu", "max_pool", "avg_pool", "reduce")
"""Ops with one input whose output has the input's channels."""
MERGE_OPS = ("add", "concat")
OPS = CONV_OPS + UNARY_OPS + MERGE_OPS
KERNELS = (1, 3, 5, 7)
POOL_KERNEL = 3
"""Kernel of the stride-1 ``max_pool`` / ``avg_pool`` nodes (``reduce`` is 2x2, stride 2)."""

FORMAT_VERSION = 1
_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class GenomeError(ValueError):
    """A genome that does not describe a valid network."""


@dataclass(frozen=True)
class Node:
    """One operation of the network.

    ``channels`` and ``kernel`` are set for ``conv`` and ``sep_conv`` only.
    """

    id: str  # unique name, a Python identifier (used as the module name in the built model)
    op: str  # one of OPS
    inputs: tuple[str, ...]  # ids of earlier nodes, or "input" for the image
    channels: int | None = None  # output channels (conv, sep_conv)
    kernel: int | None = None  # spatial kernel size, one of KERNELS (conv, sep_conv)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "op": self.op, "inputs": list(self.inputs)}
        if self.channels is not None:
            d["channels"] = self.channels
        if self.kernel is not None:
            d["kernel"] = self.kernel
        return d

    def describe(self) -> str:
        if self.op in CONV_OPS:
            return f"{self.op} {self.kernel}x{self.kernel} -> {self.channels}"
        return self.op


@dataclass(frozen=True)
class Genome:
    """A validated network description; nodes are kept in a topological order."""

    nodes: tuple[Node, ...]
    output: str  # id of the node the classifier head reads
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = _validate_and_sort(tuple(self.nodes), self.output)
        object.__setattr__(self, "nodes", ordered)
        object.__setattr__(self, "_index", {n.id: i for i, n in enumerate(ordered)})

    # --- lookup -------------------------------------------------------------------------
    def __getitem__(self, node_id: str) -> Node:
        try:
            return self.nodes[self._index[node_id]]
        except KeyError:
            raise KeyError(f"genome has no node {node_id!r}") from None

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._index

    def __len__(self) -> int:
        return len(self.nodes)

    @cached_property
    def consumers(self) -> Mapping[str, tuple[str, ...]]:
        """For each tensor (node id or ``"input"``), the ids of the nodes that read it.

        A node that reads the same tensor twice appears once.
        """
        out: dict[str, list[str]] = {INPUT: [], **{n.id: [] for n in self.nodes}}
        for n in self.nodes:
            for src in dict.fromkeys(n.inputs):
                out[src].append(n.id)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def channels(self) -> Mapping[str, int]:
        """Output channels of every node (the image's channels are not known here)."""
        return _infer_channels(self.nodes)

    @cached_property
    def stage_of(self) -> Mapping[str, int]:
        """Stage (number of ``reduce`` nodes between the image and it) of every node."""
        return _infer_stages(self.nodes)

    @property
    def num_stages(self) -> int:
        return 1 + max(self.stage_of.values())

    def stages(self) -> list[list[Node]]:
        """Nodes grouped by stage, each group in topological order."""
        groups: list[list[Node]] = [[] for _ in range(self.num_stages)]
        for n in self.nodes:
            groups[self.stage_of[n.id]].append(n)
        return groups

    def layer_params(self, input_channels: int) -> int:
        """Weights of the convolutions and batch norms on an image of ``input_channels``
        (the classifier on top is the model's: :func:`evonas.model.count_params`)."""
        channels = {**self.channels, INPUT: input_channels}
        total = 0
        for n in self.nodes:
            c_in = channels[n.inputs[0]]
            if n.op == "conv":
                assert n.kernel is not None and n.channels is not None
                total += c_in * n.channels * n.kernel * n.kernel
            elif n.op == "sep_conv":
                assert n.kernel is not None and n.channels is not None
                total += c_in * n.kernel * n.kernel + c_in * n.channels
            elif n.op == "bn":
                total += 2 * c_in
        return total

    def new_ids(self, count: int, prefix: str = "n") -> list[str]:
        """``count`` fresh node ids, numbered after the largest ``<prefix><int>`` in use."""
        used = [int(n.id[len(prefix) :]) for n in self.nodes if re.fullmatch(rf"{prefix}\d+", n.id)]
        start = max(used, default=-1) + 1
        return [f"{prefix}{start + i}" for i in range(count)]

    # --- identity -----------------------------------------------------------------------
    @cached_property
    def hash(self) -> str:
        """Canonical hash: equal for genomes that describe the same network.

        It depends on the ops, their parameters and how they connect, not on node ids or on the
        order the nodes were listed in; the inputs of ``add`` are unordered (addition commutes)
        while those of ``concat`` are ordered (they fix the channel layout).
        """
        sig: dict[str, str] = {INPUT: INPUT}
        for n in self.nodes:
            ins = [sig[i] for i in n.inputs]
            if n.op == "add":
                ins.sort()
            text = json.dumps([n.op, n.channels, n.kernel, ins])
            sig[n.id] = hashlib.sha256(text.encode()).hexdigest()
        return hashlib.sha256(f"genome-v{FORMAT_VERSION}:{sig[self.output]}".encode()).hexdigest()

    @property
    def short_hash(self) -> str:
        return self.hash[:10]

    # --- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "output": self.output,
            "nodes": [n.to_dict() for n in self.nodes],
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Genome:
        """Parses :meth:`to_dict` output; errors name the offending node and key."""
        if not isinstance(data, Mapping):
            raise GenomeError(f"a genome must be a mapping, got {type(data).__name__}")
        unknown = set(data) - {"format", "output", "nodes"}
        if unknown:
            raise GenomeError(
                f"unknown genome key(s) {sorted(unknown)}; valid keys: format, output, nodes"
            )
        fmt = data.get("format", FORMAT_VERSION)
        if fmt != FORMAT_VERSION:
            raise GenomeError(f"genome format {fmt!r} is not supported (expected {FORMAT_VERSION})")
        if not isinstance(data.get("output"), str):
            raise GenomeError("genome key 'output' must be the id (a string) of the last node")
        raw_nodes = data.get("nodes")
        if not isinstance(raw_nodes, list) or not raw_nodes:
            raise GenomeError("genome key 'nodes' must be a non-empty list of node mappings")
        return cls(tuple(_node_from_dict(i, d) for i, d in enumerate(raw_nodes)), data["output"])

    @classmethod
    def from_json(cls, text: str) -> Genome:
        return cls.from_dict(json.loads(text))

    # --- display ------------------------------------------------------------------------
    def summary(self) -> str:
        """A multi-line, human-readable description, stage by stage."""
        n_conv = sum(n.op in CONV_OPS for n in self.nodes)
        lines = [
            f"Genome {self.short_hash}: {len(self.nodes)} nodes, {n_conv} convolutions, "
            f"{self.num_stages} stage(s)"
        ]
        for s, group in enumerate(self.stages()):
            lines.append(f"  stage {s} (1/{2**s} resolution):")
            for n in group:
                lines.append(
                    f"    {n.id:<6} {n.describe():<22} [{self.channels[n.id]:>4} ch]"
                    f"  <- {', '.join(n.inputs)}"
                )
        lines.append(f"  head: global average pool -> linear  <- {self.output}")
        return "\n".join(lines)

    def short_summary(self) -> str:
        """One line: convolutions and merges per stage, e.g. ``c3x16 c3x16 + | c5x32``."""
        parts = []
        for group in self.stages():
            toks = []
            for n in group:
                if n.op == "conv":
                    toks.append(f"c{n.kernel}x{n.channels}")
                elif n.op == "sep_conv":
                    toks.append(f"s{n.kernel}x{n.channels}")
                elif n.op == "add":
                    toks.append("+")
                elif n.op == "concat":
                    toks.append("&")
                elif n.op in ("max_pool", "avg_pool"):
                    toks.append(n.op[:3])
            parts.append(" ".join(toks) or "-")
        return " | ".join(parts)

    def __str__(self) -> str:
        return f"Genome({self.short_hash}: {self.short_summary()})"


# --- parsing and validation ---------------------------------------------------------------


def _node_from_dict(position: int, d: Any) -> Node:
    where = f"genome node #{position}"
    if not isinstance(d, Mapping):
        raise GenomeError(f"{where} must be a mapping with keys id, op, inputs[, channels, kernel]")
    if isinstance(d.get("id"), str):
        where = f"genome node {d['id']!r}"
    unknown = set(d) - {"id", "op", "inputs", "channels", "kernel"}
    if unknown:
        raise GenomeError(
            f"{where}: unknown key(s) {sorted(unknown)}; "
            "valid keys: id, op, inputs, channels, kernel"
        )
    for key in ("id", "op"):
        if not isinstance(d.get(key), str):
            raise GenomeError(f"{where}: key {key!r} must be a string")
    inputs = d.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise GenomeError(f"{where}: key 'inputs' must be a list of node ids")
    for key in ("channels", "kernel"):
        v = d.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise GenomeError(f"{where}: key {key!r} must be an integer, got {v!r}")
    return Node(d["id"], d["op"], tuple(inputs), d.get("channels"), d.get("kernel"))


def _check_node_fields(n: Node) -> None:
    where = f"node {n.id!r} ({n.op})"
    if not isinstance(n.id, str) or not _ID_RE.match(n.id) or n.id == INPUT:
        raise GenomeError(
            f"node id {n.id!r} is not valid: use a Python identifier other than {INPUT!r}"
        )
    if n.op not in OPS:
        raise GenomeError(f"node {n.id!r}: unknown op {n.op!r}; valid ops: {', '.join(OPS)}")
    if n.op in CONV_OPS:
        if len(n.inputs) != 1:
            raise GenomeError(f"{where} takes exactly 1 input, got {len(n.inputs)}")
        if n.channels is None or n.channels < 1:
            raise GenomeError(f"{where} needs 'channels' >= 1, got {n.channels!r}")
        if n.kernel not in KERNELS:
            raise GenomeError(f"{where}: kernel {n.kernel!r} is not one of {KERNELS}")
    else:
        if n.channels is not None or n.kernel is not None:
            raise GenomeError(f"{where} takes no 'channels' or 'kernel' (only conv/sep_conv do)")
        if n.op in UNARY_OPS and len(n.inputs) != 1:
            raise GenomeError(f"{where} takes exactly 1 input, got {len(n.inputs)}")
        if n.op in MERGE_OPS and len(n.inputs) < 2:
            raise GenomeError(f"{where} merges at least 2 inputs, got {len(n.inputs)}")
        if INPUT in n.inputs:
            raise GenomeError(f"{where} reads {INPUT!r}: only conv and sep_conv may read the image")


def _validate_and_sort(nodes: tuple[Node, ...], output: str) -> tuple[Node, ...]:
    if not nodes:
        raise GenomeError("a genome needs at least one node")
    ids: dict[str, Node] = {}
    for n in nodes:
        _check_node_fields(n)
        if n.id in ids:
            raise GenomeError(f"node id {n.id!r} is used twice")
        ids[n.id] = n
    for n in nodes:
        for src in n.inputs:
            if src != INPUT and src not in ids:
                raise GenomeError(f"node {n.id!r}: input {src!r} does not exist (dangling edge)")
    ordered = _topological_order(nodes)
    if output not in ids:
        raise GenomeError(f"output {output!r} is not a node of the genome")
    # every node must contribute to the output
    live = {output}
    for n in reversed(ordered):
        if n.id in live:
            live.update(n.inputs)
    for n in ordered:
        if n.id not in live:
            raise GenomeError(f"node {n.id!r} does not reach the output {output!r} (dead node)")
    if not any(INPUT in n.inputs for n in ordered):
        raise GenomeError(f"no node reads {INPUT!r}: the network ignores its image")
    _infer_channels(ordered)
    _infer_stages(ordered)
    return ordered


def _topological_order(nodes: Sequence[Node]) -> tuple[Node, ...]:
    """Kahn's algorithm, stable with respect to the given order; reports a cycle by its nodes."""
    pending = {n.id: len(set(n.inputs) - {INPUT}) for n in nodes}
    readers: dict[str, list[Node]] = {n.id: [] for n in nodes}
    for n in nodes:
        for src in set(n.inputs) - {INPUT}:
            readers[src].append(n)
    position = {n.id: i for i, n in enumerate(nodes)}
    ready = sorted((n for n in nodes if pending[n.id] == 0), key=lambda n: position[n.id])
    out: list[Node] = []
    while ready:
        n = ready.pop(0)
        out.append(n)
        for r in readers[n.id]:
            pending[r.id] -= 1
            if pending[r.id] == 0:
                ready.append(r)
                ready.sort(key=lambda m: position[m.id])
    if len(out) != len(nodes):
        stuck = {n.id: n for n in nodes if pending[n.id] > 0}
        path = [next(iter(stuck))]  # walk back through stuck inputs until a node repeats
        while path.count(path[-1]) < 2:
            path.append(next(i for i in stuck[path[-1]].inputs if i in stuck))
        cycle = path[path.index(path[-1]) :][::-1]
        raise GenomeError(f"nodes {' -> '.join(cycle)} form a cycle (a genome must be a DAG)")
    return tuple(out)


def _infer_channels(nodes: Iterable[Node]) -> dict[str, int]:
    ch: dict[str, int] = {}
    for n in nodes:
        if n.op in CONV_OPS:
            assert n.channels is not None
            ch[n.id] = n.channels
        elif n.op == "concat":
            ch[n.id] = sum(ch[i] for i in n.inputs)
        elif n.op == "add":
            widths = {i: ch[i] for i in n.inputs}
            if len(set(widths.values())) != 1:
                shown = ", ".join(f"{k}={v}" for k, v in widths.items())
                raise GenomeError(
                    f"node {n.id!r} (add): inputs have different channels ({shown}); "
                    "add needs equal channels (use concat, or a 1x1 conv to match)"
                )
            ch[n.id] = ch[n.inputs[0]]
        else:
            ch[n.id] = ch[n.inputs[0]]
    return ch


def _infer_stages(nodes: Iterable[Node]) -> dict[str, int]:
    stage: dict[str, int] = {INPUT: 0}
    reduce_at: dict[int, str] = {}
    for n in nodes:
        levels = {stage[i] for i in n.inputs}
        if len(levels) != 1:
            shown = ", ".join(f"{i} (stage {stage[i]})" for i in n.inputs)
            raise GenomeError(
                f"node {n.id!r} ({n.op}): inputs come from different stages/resolutions: {shown}"
            )
        level = levels.pop()
        if n.op == "reduce":
            if level in reduce_at:
                raise GenomeError(
                    f"node {n.id!r} (reduce): stage {level} already ends with reduce node "
                    f"{reduce_at[level]!r}; stages are joined by exactly one reduce"
                )
            reduce_at[level] = n.id
            level += 1
        stage[n.id] = level
    del stage[INPUT]
    return stage
