"""Choosing a network from a run's front: by constraints and a preference, or the knee.

``params<=100k``, ``latency<=2ms``, ``val_error<0.1``: an objective, a comparison
(``<=``, ``<``, ``>=``, ``>``, ``==``) and a quantity in the objective's unit. With
``best``, the most preferred network on that objective wins; without it, the knee of the
front (see :func:`knee`).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from evonas.core.errors import UserError
from evonas.core.individual import Individual
from evonas.core.pareto import ObjectiveInfo
from evonas.core.units import parse_quantity
from evonas.record.run import Run

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
}
_CONDITION = re.compile(r"^\s*([\w.:-]+)\s*(<=|>=|==|<|>)\s*(\S.*?)\s*$")


class PickError(UserError):
    """A condition that cannot be read, or no network that meets the conditions."""


@dataclass(frozen=True)
class Condition:
    """``objective op value``, e.g. params <= 1e5."""

    objective: str
    op: str
    value: float

    def holds(self, ind: Individual) -> bool:
        return _OPS[self.op](ind.objectives[self.objective], self.value)

    def __str__(self) -> str:
        return f"{self.objective}{self.op}{self.value:g}"


def parse_condition(text: str, objectives: Sequence[ObjectiveInfo]) -> Condition:
    match = _CONDITION.match(text)
    names = {o.name: o for o in objectives}
    if match is None:
        raise PickError(f"--where {text!r}: write OBJECTIVE<=VALUE, e.g. 'params<=100k'")
    name, op, raw = match.groups()
    if name not in names:
        raise PickError(
            f"--where {text!r}: the run has no objective {name!r}; it has {', '.join(names)}"
        )
    try:
        value = parse_quantity(raw, names[name].unit)
    except ValueError as exc:
        raise PickError(f"--where {text!r}: {exc}") from None
    return Condition(name, op, value)


def pick(run: Run, where: Sequence[str] = (), best: str | None = None) -> Individual:
    """The chosen network of a run's front (see the module's description)."""
    objectives = run.objectives
    conditions = [parse_condition(w, objectives) for w in where]
    front = [i for i in run.pareto_front() if all(c.holds(i) for c in conditions)]
    if not front:
        raise PickError(
            f"no network on the front of {run.dir} meets "
            + (" and ".join(map(str, conditions)) or "anything")
        )
    if best is not None:
        info = next((o for o in objectives if o.name == best), None)
        if info is None:
            raise PickError(
                f"--best {best!r}: the run has no such objective; "
                f"it has {', '.join(o.name for o in objectives)}"
            )
        return min(front, key=lambda i: (info.minimised(i.objectives[best]), i.id))
    return knee(front, objectives)


def knee(front: Sequence[Individual], objectives: Sequence[ObjectiveInfo]) -> Individual:
    """The knee of a front: after scaling every objective to the front's own range (log10
    for sizes and times), the point closest to the ideal point, where no objective is given
    up for a small gain in another."""
    columns = []
    for o in objectives:
        values = np.array([o.minimised(i.objectives[o.name]) for i in front], dtype=float)
        if o.log_scale:
            values = np.sign(values) * np.log10(np.maximum(np.abs(values), 1e-30))
        span = values.max() - values.min()
        columns.append((values - values.min()) / span if span > 0 else np.zeros_like(values))
    distance = np.linalg.norm(np.stack(columns, axis=1), axis=1)
    return front[int(np.argmin(distance))]
