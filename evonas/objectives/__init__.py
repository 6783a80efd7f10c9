"""Objectives: error, size, FLOPs, latency, memory, and the user's own.

Importing this package registers the built-ins: ``val_error``, ``params``, ``flops``,
``latency``, ``peak_memory``.
"""

from evonas.objectives import builtin
from evonas.objectives.base import (
    OBJECTIVES,
    EvalContext,
    FunctionObjective,
    Objective,
    get_objective,
    objective,
    register_objective,
)
from evonas.objectives.builtin import Flops, Latency, Params, PeakMemory, ValError
from evonas.objectives.isolated import InProcessWarning

list_objectives = OBJECTIVES.names

__all__ = [
    "OBJECTIVES",
    "EvalContext",
    "Flops",
    "FunctionObjective",
    "InProcessWarning",
    "Latency",
    "Objective",
    "Params",
    "PeakMemory",
    "ValError",
    "builtin",
    "get_objective",
    "list_objectives",
    "objective",
    "register_objective",
]
