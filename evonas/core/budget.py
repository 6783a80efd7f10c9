"""When a search stops and how far it is: one object answers both (as pymoo's
``Termination``), so the loop and a progress display never compute it twice."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

from evonas.core.config import check

ROUNDING = 0.01  # how far past an epoch budget a candidate of known length may end
InFlight: TypeAlias = int | Sequence[float | None]
"""The candidates training now: how many, or each one's epochs (None: the trainer's
setting, a length the budget does not know)."""


@dataclass
class Progress:
    """Running totals of a search: what the budget is measured against."""

    evaluations: int = 0  # networks evaluated (failed ones count)
    epochs: float = 0.0  # training epochs summed over all networks
    seconds: float = 0.0  # wall-clock seconds of search (resumed runs continue the count)
    hypervolume: float = 0.0  # of the current front


@dataclass(frozen=True)
class Budget:
    """``[budget]``: when to stop; whichever set limit is reached first."""

    evaluations: int | None = None  # networks evaluated
    minutes: float | None = None  # wall-clock minutes of search (resumed runs continue the count)
    epochs: float | None = None  # training epochs summed over all networks
    candidate_minutes: float | None = 30.0  # per candidate (training and objectives): past it,
    # the candidate is recorded as "timeout" and the search goes on; None: no limit

    def __post_init__(self) -> None:
        check(
            any(v is not None for v in (self.evaluations, self.minutes, self.epochs)),
            "budget",
            "set at least one of evaluations, minutes, epochs",
        )
        for key in ("evaluations", "minutes", "epochs", "candidate_minutes"):
            value = getattr(self, key)
            ok = value is None or (math.isfinite(value) and value > 0)
            check(ok, f"budget.{key}", f"must be a finite number > 0, got {value}")

    @property
    def candidate_seconds(self) -> float | None:
        """The per-candidate time limit in seconds."""
        return None if self.candidate_minutes is None else self.candidate_minutes * 60.0

    def job_limit(self, p: Progress) -> tuple[float | None, bool]:
        """The time limit of a candidate starting now, in seconds, and whether it is the
        wall-clock budget's (its end plus a grace of a quarter of it, at least 30 s: a
        candidate that hangs cannot hold a run past its budget) rather than the
        candidate's own ``candidate_minutes``."""
        own = self.candidate_seconds
        if self.minutes is None:
            return own, False
        total = self.minutes * 60.0
        left = max(total - p.seconds, 0.0) + max(30.0, 0.25 * total)
        if own is not None and own <= left:
            return own, False
        return left, True

    def time_up(self, p: Progress) -> bool:
        """The wall-clock limit is reached (work in flight is then abandoned)."""
        return self.minutes is not None and p.seconds >= self.minutes * 60.0

    def parts(self, p: Progress) -> dict[str, float]:
        """The share of each set limit already used (1.0: reached)."""
        used = {
            "evaluations": (p.evaluations, self.evaluations),
            "minutes": (p.seconds / 60.0, self.minutes),
            "epochs": (p.epochs, self.epochs),
        }
        return {k: done / limit for k, (done, limit) in used.items() if limit is not None}

    def fraction(self, p: Progress) -> float:
        """How far the search is, in [0, 1]: the most used limit."""
        return min(1.0, max(self.parts(p).values()))

    def done(self, p: Progress) -> bool:
        return self.fraction(p) >= 1.0

    def may_submit(self, p: Progress, in_flight: InFlight) -> bool:
        """Whether one more candidate may start while ``in_flight`` are training (a count,
        or each one's epochs where known: see :data:`InFlight`). Under an epoch budget, one
        in flight of unknown length counts at the mean epochs of an evaluation so far, so a
        generation submitted at once does not run past the budget by a whole generation."""
        count = in_flight if isinstance(in_flight, int) else len(in_flight)
        if self.evaluations is not None and p.evaluations + count >= self.evaluations:
            return False
        if self.epochs is not None and _epochs_with(p, in_flight) >= self.epochs:
            return False
        return not self.done(p)

    def fits(self, p: Progress, in_flight: InFlight, epochs: float | None) -> bool:
        """Whether a candidate that trains ``epochs`` (None: the trainer's setting, whose
        length the budget does not know) ends within an epoch budget, those in flight
        counted as :meth:`may_submit` counts them. A successive-halving promotion that would
        run past the budget is not started (the strategy is asked for something else), so
        no method buys a last long training beyond the epochs every method is given. The
        rounding of every training to whole steps is allowed: it may end 1% of the budget
        past it (without it, a run of 2-epoch rungs that had rounded up to 34.1 of 36
        could not start its last child, where a run of children of unknown length did)."""
        if self.epochs is None or epochs is None:
            return True
        return _epochs_with(p, in_flight) + epochs <= self.epochs * (1.0 + ROUNDING)

    def reason(self, p: Progress) -> str:
        """Which limit ended the search, in words."""
        parts = self.parts(p)
        key = max(parts, key=lambda k: parts[k])
        limit = {"evaluations": self.evaluations, "minutes": self.minutes, "epochs": self.epochs}
        return f"budget reached: {limit[key]:g} {key}"

    def eta_seconds(self, p: Progress) -> float:
        """Seconds left at the current pace (never negative; nan before any progress)."""
        f = self.fraction(p)
        if f <= 0:
            return float("nan")
        return max(0.0, p.seconds * (1.0 - f) / f)


def _epochs_with(p: Progress, in_flight: InFlight) -> float:
    """Epochs spent plus those ``in_flight`` will spend: its own where known, else the
    mean of an evaluation so far."""
    known: Sequence[float | None] = [None] * in_flight if isinstance(in_flight, int) else in_flight
    mean = p.epochs / p.evaluations if p.evaluations else 0.0
    return p.epochs + sum(mean if e is None else e for e in known)
