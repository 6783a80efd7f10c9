"""The scorer: objectives of candidates, cheap ones before training and the rest after.

Cheap objectives (size, FLOPs, latency) are computed once per architecture and cached by
genome hash; a resumed run gets the recorded values back, so a noisy measurement such as
latency cannot change a decision the original run made.
"""

from __future__ import annotations

import math
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from evonas.core.deadline import CandidateTimeout, deadline
from evonas.core.individual import (
    Candidate,
    Individual,
    Status,
    TrainFacts,
    TrainResult,
)
from evonas.core.pareto import ObjectiveInfo, violation
from evonas.executor.base import WorkerLost
from evonas.objectives.base import EvalContext, Objective
from evonas.objectives.isolated import IsolatedObjectives
from evonas.space.genome import Genome


class Scorer:
    """Computes a run's objectives.

    Args:
        objectives: what is optimised, in order; names must be unique.
        input_shape, num_classes: of the task.
        cache: recorded cheap objective values by genome hash (a resumed run's).
    """

    def __init__(
        self,
        objectives: Sequence[Objective],
        input_shape: tuple[int, int, int],
        num_classes: int,
        cache: dict[str, dict[str, float]] | None = None,
        time_limit: float | None = None,
    ) -> None:
        if not objectives:
            raise ValueError("a search needs at least one objective")
        names = [o.name for o in objectives]
        if len(set(names)) != len(names):
            raise ValueError(f"objective names must be unique, got {names}")
        self.objectives = list(objectives)
        self.infos = [o.info for o in self.objectives]
        self.input_shape = input_shape
        self.num_classes = num_classes
        self.cache = dict(cache or {})
        self.time_limit = time_limit  # seconds for one candidate's objectives
        # told each value measured (not answered from the cache), where it is measured: the
        # search loop passes it on to its observers (the run record keeps it)
        self.on_measured: Callable[[str, dict[str, float]], None] | None = None
        self.cheap_constrained = [i for i in self.infos if i.cheap and i.constrained]
        self._warned: set[str] = set()  # objectives already warned of a value out of bounds
        self.isolated = IsolatedObjectives()  # where a user's objectives run under a limit

    def close(self) -> None:
        """Stops the helper process of isolated objectives, if one was started."""
        self.isolated.close()

    def _ready(self, cheap: bool) -> None:
        """Starts the helper process before a candidate's clock, when it will be used."""
        if self.time_limit is not None and any(
            self.isolated.runs(o) for o in self.objectives if o.cheap or not cheap
        ):
            self.isolated.start()

    def _compute(self, objective: Objective, ctx: EvalContext, part: str = "value") -> Any:
        """``objective(ctx)`` or its details: in the helper process when there is a time
        limit to enforce and the objective is a user's, else here."""
        if part == "details" and type(objective).details is Objective.details:
            return {}  # the base class's: nothing to send anywhere
        if self.time_limit is not None and self.isolated.runs(objective):
            return self.isolated.call(objective, ctx, self.time_limit, part)
        return objective(ctx) if part == "value" else objective.details(ctx)

    @property
    def cheap_names(self) -> list[str]:
        return [o.name for o in self.objectives if o.cheap]

    def cheap(self, genome: Genome) -> dict[str, float]:
        """The cheap objectives of ``genome``, from the cache or measured now (then also
        told to :attr:`on_measured`, for the run record). Raises when an
        objective fails, hangs past the time limit or gives a value that is not a finite
        number: that candidate fails."""
        cached = self.cache.get(genome.hash)
        if cached is not None and all(n in cached for n in self.cheap_names):
            values = {n: cached[n] for n in self.cheap_names}
            if all(math.isfinite(v) for v in values.values()):
                return values
        ctx = EvalContext(genome, self.input_shape, self.num_classes)
        self._ready(cheap=True)
        with deadline(self.time_limit, "its cheap objectives"):
            values = {
                o.name: self._value(o, self._compute(o, ctx)) for o in self.objectives if o.cheap
            }
        self.cache[genome.hash] = values
        if self.on_measured is not None:
            self.on_measured(genome.hash, values)
        return values

    def cheap_problem(self, genome: Genome) -> str | None:
        """Which hard constraint on a cheap objective ``genome`` breaks, in words (None:
        none, or its cheap objectives fail: that failure is the candidate's, later)."""
        if not self.cheap_constrained:
            return None
        try:
            values = self.cheap(genome)
        except (Exception, SystemExit):
            return None
        for info in self.cheap_constrained:
            if info.violation(values[info.name]) > 0:
                limit = info.upper if info.upper is not None else info.lower
                return f"{info.name} = {values[info.name]:g} is outside its constraint ({limit:g})"
        return None

    def individual(
        self, ident: int, candidate: Candidate, outcome: TrainResult | BaseException, step: int
    ) -> Individual:
        """The evaluated individual of a finished job. A failure (NaN, out of memory, an
        exception in training or in an objective, a lost worker) fails this candidate only."""
        result = outcome if isinstance(outcome, TrainResult) else None
        details: dict[str, dict[str, object]] = {}
        if isinstance(outcome, BaseException):
            objectives, status = self._failed(), _status(outcome)
            error: str | None = _one_line(outcome)
        else:
            try:
                self._ready(cheap=False)
                with deadline(self.time_limit, "its objectives"):
                    objectives, details = self._expensive(candidate, outcome)
                status, error = outcome.status, outcome.error
            except (Exception, SystemExit) as exc:  # a broken objective fails this one only
                objectives, status, error = self._failed(), _status(exc), _one_line(exc)
        return Individual(
            violation=violation(objectives, self.infos) if status is Status.OK else 0.0,
            id=ident,
            genome=candidate.genome,
            parent_id=candidate.parent_id,
            morphisms=candidate.morphisms,
            objectives=objectives,
            status=status,
            error=error,
            train=_facts(result, candidate),
            details=details,
            step=step,
            predicted=dict(candidate.predicted),
        )

    def _failed(self) -> dict[str, float]:
        return {o.name: float("nan") for o in self.objectives}

    def _expensive(
        self, candidate: Candidate, result: TrainResult
    ) -> tuple[dict[str, float], dict[str, dict[str, object]]]:
        values = {o.name: candidate.cheap.get(o.name, float("nan")) for o in self.objectives}
        details: dict[str, dict[str, object]] = {}
        ctx = EvalContext(
            candidate.genome, self.input_shape, self.num_classes, result.state, result
        )
        for o in self.objectives:
            if not o.cheap and result.ok:
                values[o.name] = self._value(o, self._compute(o, ctx))
            extra = self._compute(o, ctx, "details") if o.cheap else {}
            if extra:
                details[o.name] = extra
        return values, details

    def _value(self, objective: Objective, value: object) -> float:
        """The value as a finite float (else the candidate fails); one outside a user
        objective's bounds is kept, but warned of once per objective: hypervolume and the
        strategies' densities see it clipped to the bounds (the built-ins' published bounds
        clip by design)."""
        number = _finite(objective, value)
        info = objective.info
        lo, hi = info.bounds
        if objective.published_bounds or info.name in self._warned:
            return number
        if not lo <= number <= hi:
            self._warned.add(info.name)
            warnings.warn(out_of_bounds(info, number), OutOfBoundsWarning, stacklevel=2)
        return number


class OutOfBoundsWarning(UserWarning):
    """An objective's value fell outside the bounds that normalise it."""


def out_of_bounds(info: ObjectiveInfo, value: float) -> str:
    """What to do about ``value`` outside ``info.bounds``, in words, with bounds to set."""
    lo, hi = info.bounds
    if info.log_scale and value > 0:
        new_lo = min(lo, 10 ** math.floor(math.log10(value)))
        new_hi = max(hi, 10 ** math.ceil(math.log10(value)))
    else:
        span = hi - lo
        new_lo, new_hi = min(lo, value - 0.1 * span), max(hi, value + 0.1 * span)
    return (
        f"objective {info.name!r}: value {value:g} lies outside its bounds [{lo:g}, {hi:g}], "
        "so hypervolume and the strategies' densities see it clipped (every such value "
        f"looks the same); declare bounds that hold its values, e.g. bounds=({new_lo:g}, "
        f"{new_hi:g}) in its @objective(...) or class (this is said once per run)"
    )


def _finite(objective: Objective, value: object) -> float:
    """The value as a float; a value that is not a finite number fails the candidate."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"objective {objective.name!r} returned {value!r}, not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"objective {objective.name!r} returned {number}")
    return number


def _status(exc: BaseException) -> Status:
    if isinstance(exc, CandidateTimeout):
        return Status.TIMEOUT
    return Status.LOST if isinstance(exc, WorkerLost) else Status.ERROR


def _one_line(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip()


def _facts(result: TrainResult | None, candidate: Candidate) -> TrainFacts:
    facts = TrainFacts(
        inherited=candidate.state is not None,
        approximate=candidate.approximate,
        continued=candidate.parent_id is not None and not candidate.morphisms,
        rung=candidate.rung,
        provisional=candidate.provisional,
    )
    if result is not None:
        facts.epochs = result.epochs
        facts.steps = result.steps
        facts.train_seconds = round(result.seconds, 4)
        facts.images_per_second = round(result.images_per_second, 1)
        facts.train_loss = result.train_loss if math.isfinite(result.train_loss) else None
    return facts
