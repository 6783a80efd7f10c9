"""Objectives: what a candidate network is scored on.

An objective has a name, a direction (``"min"`` or ``"max"``) and says whether it is
*cheap* (computable from the architecture alone, before any training: parameters, FLOPs,
latency) or *expensive* (needs the trained network: validation error). LEMONADE uses the
cheap ones to decide which children are worth training.

A user's objective is a plain function of an :class:`EvalContext` or a small
:class:`Objective` subclass, registered by name or named in a scenario as
``"package.module:attribute"``::

    @objective(direction="min", cheap=True, bounds=(0, 50))
    def conv_count(ctx: EvalContext) -> float:
        return sum(n.op == "conv" for n in ctx.genome.nodes)

``bounds`` (best and worst plausible values) normalise it for hypervolume and densities; a
value outside them is clipped, and the search warns once, naming bounds that would hold it.
"""

from __future__ import annotations

import copy
import importlib
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from evonas.core.individual import StateDict, TrainResult
from evonas.core.pareto import DIRECTIONS, ObjectiveInfo
from evonas.core.registry import Registry
from evonas.core.units import parse_quantity
from evonas.model.builder import GenomeNet, build_model
from evonas.space.genome import Genome


@dataclass
class EvalContext:
    """What an objective may look at. ``train`` is ``None`` when cheap objectives run."""

    genome: Genome
    input_shape: tuple[int, int, int]  # (channels, height, width) of one image
    num_classes: int
    state: StateDict | None = None  # trained (or inherited) weights, when there are any
    train: TrainResult | None = None  # the training result, for expensive objectives
    _model: GenomeNet | None = field(default=None, repr=False)

    def model(self) -> GenomeNet:
        """The network on the CPU in eval mode (with ``state`` if given); built once."""
        if self._model is None:
            self._model = build_model(self.genome, self.input_shape, self.num_classes, self.state)
            self._model.eval()
        return self._model


class Objective(ABC):
    """Base class of objectives. Subclasses set the class attributes and :meth:`__call__`."""

    name: str = ""
    direction: str = "min"  # "min" or "max"
    cheap: bool = False  # computable before training
    unit: str = ""  # for display, e.g. "s", "FLOPs"
    bounds: tuple[float, float] = (0.0, 1.0)  # best..worst range mapped to [0, 1] for hypervolume
    log_scale: bool = False  # normalise log10(value) (sizes and times span decades)
    # the bounds are the published normalisation every run shares (the built-ins): a value
    # beyond them counts as the bound by design, and no warning is given
    published_bounds: bool = False
    # computed in the main process; False (a user's objective): in a helper process that a
    # time limit can kill even inside C code (evonas/objectives/isolated.py)
    in_process: bool = False
    upper: float | None = None  # hard constraint: value <= upper (set from a scenario's max)
    lower: float | None = None  # hard constraint: value >= lower (set from a scenario's min)

    @abstractmethod
    def __call__(self, ctx: EvalContext) -> float:
        """The objective's value for the candidate in ``ctx``."""

    def details(self, ctx: EvalContext) -> dict[str, Any]:
        """Extra facts to record with the value (e.g. latency IQR); called after __call__."""
        return {}

    def check_device(self, device: torch.device) -> None:
        """Raises ``ValueError`` when the objective cannot be measured with this device."""
        return None

    @property
    def info(self) -> ObjectiveInfo:
        """Name, direction and normalisation: what the Pareto maths and the record need."""
        return ObjectiveInfo(
            self.name,
            self.direction,
            self.cheap,
            self.unit,
            self.bounds,
            self.log_scale,
            self.upper,
            self.lower,
        )

    def __repr__(self) -> str:
        kind = "cheap" if self.cheap else "expensive"
        return f"{type(self).__name__}(name={self.name!r}, direction={self.direction!r}, {kind})"


class FunctionObjective(Objective):
    """Wraps a plain function ``fn(ctx) -> float`` as an objective."""

    def __init__(
        self,
        fn: Callable[[EvalContext], float],
        *,
        name: str | None = None,
        direction: str = "min",
        cheap: bool = False,
        unit: str = "",
        bounds: tuple[float, float] = (0.0, 1.0),
        log_scale: bool = False,
        in_process: bool = False,
    ) -> None:
        if direction not in DIRECTIONS:
            raise ValueError(f"objective direction {direction!r} must be one of {DIRECTIONS}")
        self.fn = fn
        self.name = name or str(getattr(fn, "__name__", "objective"))
        self.direction = direction
        self.cheap = cheap
        self.unit = unit
        if not bounds[0] < bounds[1]:
            raise ValueError(f"objective {self.name!r}: bounds {bounds} need low < high")
        self.bounds = (float(bounds[0]), float(bounds[1]))
        self.log_scale = log_scale
        self.in_process = in_process

    def __call__(self, ctx: EvalContext) -> float:
        return float(self.fn(ctx))

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (for the helper process) also when ``@objective`` replaced the
        function's module attribute by this wrapper: the function then travels as the
        wrapper's module and name, and is looked up there when loaded."""
        state = dict(self.__dict__)
        module, name = getattr(self.fn, "__module__", None), getattr(self.fn, "__qualname__", "")
        if module and "<" not in name:
            owner = sys.modules.get(module)
            if isinstance(getattr(owner, name, None), FunctionObjective):
                state["fn"] = _Wrapped(module, name)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("fn"), _Wrapped):
            ref = state["fn"]
            state = {**state, "fn": getattr(importlib.import_module(ref.module), ref.name).fn}
        self.__dict__.update(state)


@dataclass(frozen=True)
class _Wrapped:
    """Where an ``@objective`` wrapper of a function lives (module, attribute)."""

    module: str
    name: str


def objective(
    *,
    name: str | None = None,
    direction: str = "min",
    cheap: bool = False,
    unit: str = "",
    bounds: tuple[float, float] = (0.0, 1.0),
    log_scale: bool = False,
    in_process: bool = False,
) -> Callable[[Callable[[EvalContext], float]], FunctionObjective]:
    """Decorator that turns a function of :class:`EvalContext` into an objective.

    ``bounds`` (best and worst plausible values) and ``log_scale`` fix how the objective is
    normalised for hypervolume; see :meth:`Objective.normalised`. ``in_process=True``
    computes it in the main process (faster for a trivial function; a time limit then
    cannot stop it inside C code).
    """

    def wrap(fn: Callable[[EvalContext], float]) -> FunctionObjective:
        return FunctionObjective(
            fn,
            name=name,
            direction=direction,
            cheap=cheap,
            unit=unit,
            bounds=bounds,
            log_scale=log_scale,
            in_process=in_process,
        )

    return wrap


def _adapt(fn: Callable[..., Any], name: str, params: dict[str, Any]) -> Objective:
    """A registered plain function of :class:`EvalContext` becomes a FunctionObjective."""
    return FunctionObjective(fn, **{"name": name, **params})


OBJECTIVES: Registry[Objective] = Registry("objective", Objective, adapt=_adapt)
"""Registered objectives: Objective subclasses (instantiated with parameters), instances,
or plain functions of :class:`EvalContext`. ``@register_objective("name")`` adds one."""

register_objective = OBJECTIVES.register


def get_objective(
    ref: Any,
    *,
    direction: str | None = None,
    upper: float | str | None = None,
    lower: float | str | None = None,
    **params: Any,
) -> Objective:
    """An objective from a registered name, ``"module:attribute"``, class, instance or
    function (:meth:`Registry.create`); ``direction`` overrides the declared one; ``upper``
    and ``lower`` make hard constraints (numbers, or quantities in the objective's unit such
    as ``"2ms"`` or ``"100k"``, see :func:`parse_quantity`)."""
    obj = OBJECTIVES.create(ref, **params)
    if direction is not None and direction != obj.direction:
        obj = copy.copy(obj)  # never change a registered instance
        obj.direction = direction
    if upper is not None or lower is not None:
        obj = copy.copy(obj)
        obj.upper = None if upper is None else parse_quantity(upper, obj.unit)
        obj.lower = None if lower is None else parse_quantity(lower, obj.unit)
        if obj.upper is not None and obj.lower is not None and obj.lower > obj.upper:
            raise ValueError(f"objective {obj.name!r}: min {obj.lower:g} > max {obj.upper:g}")
    if obj.direction not in DIRECTIONS:
        raise ValueError(
            f"objective {obj.name!r}: direction {obj.direction!r} must be one of {DIRECTIONS}"
        )
    return obj
