"""A fixed-length encoding of chain networks, for samplers that search a parameter space
(Optuna's NSGA-II and TPE, a grid): a few integers and choices decode to an evonas genome.

The network is a stem convolution, then ``stages`` stages separated by a ``reduce``; stage s
holds ``convs_s`` blocks of convolution (plain or depthwise-separable, ``separable_s``) with
``kernel_s`` and ``width_s`` channels, batch norm and ReLU; with ``skip_s`` each block whose
input has its width adds its input back (a residual). Parameters of stages beyond
``stages`` are ignored, so the space is the same fixed-length vector for every network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evonas.space.genome import INPUT, Genome, Node


@dataclass(frozen=True)
class ChainEncoding:
    """The parameters and choices of the chain space.

    Args:
        max_stages: stages at most (each halves the resolution).
        max_convs: blocks per stage at most.
        widths: channel choices of a stage.
        kernels: kernel choices of a stage.
    """

    max_stages: int = 3
    max_convs: int = 3
    widths: tuple[int, ...] = (8, 16, 24, 32, 48, 64)
    kernels: tuple[int, ...] = (3, 5)

    def __post_init__(self) -> None:
        if self.max_stages < 1 or self.max_convs < 1:
            raise ValueError("a chain encoding needs max_stages >= 1 and max_convs >= 1")
        if not self.widths or not self.kernels:
            raise ValueError("a chain encoding needs at least one width and one kernel")

    def parameters(self) -> dict[str, list[Any]]:
        """Every parameter's name and choices, in a fixed order."""
        params: dict[str, list[Any]] = {"stages": list(range(1, self.max_stages + 1))}
        for s in range(self.max_stages):
            params[f"convs_{s}"] = list(range(1, self.max_convs + 1))
            params[f"width_{s}"] = list(self.widths)
            params[f"kernel_{s}"] = list(self.kernels)
            params[f"separable_{s}"] = [False, True]
            params[f"skip_{s}"] = [False, True]
        return params

    def decode(self, values: Mapping[str, Any]) -> Genome:
        """The genome of one point of the space; a value outside its choices is an error
        naming the parameter."""
        choices = self.parameters()
        for name, allowed in choices.items():
            if name not in values:
                raise ValueError(f"chain encoding: missing parameter {name!r}")
            if values[name] not in allowed:
                raise ValueError(
                    f"chain encoding: {name} = {values[name]!r} is not one of {allowed}"
                )
        nodes: list[Node] = []

        def add(
            op: str, *inputs: str, channels: int | None = None, kernel: int | None = None
        ) -> str:
            nodes.append(Node(f"n{len(nodes)}", op, tuple(inputs), channels, kernel))
            return nodes[-1].id

        def block(x: str, op: str, width: int, kernel: int) -> str:
            return add("relu", add("bn", add(op, x, channels=width, kernel=kernel)))

        x, width_of = INPUT, 0
        for s in range(int(values["stages"])):
            width, kernel = int(values[f"width_{s}"]), int(values[f"kernel_{s}"])
            if s == 0:
                x, width_of = block(INPUT, "conv", width, 3), width  # the stem
            else:
                x = add("reduce", x)
            op = "sep_conv" if values[f"separable_{s}"] else "conv"
            for _ in range(int(values[f"convs_{s}"])):
                y = block(x, op, width, kernel)
                if values[f"skip_{s}"] and width_of == width:
                    y = add("add", x, y)
                x, width_of = y, width
        return Genome(tuple(nodes), x)

    def sample(self, choose: Any) -> dict[str, Any]:
        """A point of the space, each value picked by ``choose(name, choices)`` in the
        parameters' order (an Optuna trial's ``suggest_categorical``, a seeded draw)."""
        return {name: choose(name, options) for name, options in self.parameters().items()}
