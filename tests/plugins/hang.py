"""Plug-ins that hang or fail on purpose, importable by worker processes."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

from evonas.core import Candidate, StateDict, TrainResult
from evonas.objectives import EvalContext
from evonas.space import Genome
from evonas.testing.surrogate import SurrogateEvaluator


def odd(genome: Genome) -> bool:
    return int(genome.hash[:8], 16) % 2 == 1


@dataclass
class HangingTrainer(SurrogateEvaluator):
    """The surrogate, but training hangs for every other architecture."""

    def evaluate(
        self, candidate: Candidate, seed: int, teacher: tuple[Genome, StateDict] | None
    ) -> TrainResult:
        if odd(candidate.genome):
            while True:
                time.sleep(0.05)
        return super().evaluate(candidate, seed, teacher)


def hanging_objective(ctx: EvalContext) -> float:
    """An expensive objective that never returns for every other architecture."""
    if odd(ctx.genome):
        while True:
            time.sleep(0.05)
    return 1.0


def nan_for_odd(ctx: EvalContext) -> float:
    return float("nan") if odd(ctx.genome) else float(len(ctx.genome))


def raises_for_odd(ctx: EvalContext) -> float:
    if odd(ctx.genome):
        raise ZeroDivisionError("a bug in a plug-in")
    return float(len(ctx.genome))


def exits(ctx: EvalContext) -> float:
    raise SystemExit(3)


def stuck_in_c(ctx: EvalContext) -> float:
    """Stuck for 120 s on every other architecture where no timer can reach it, as a call
    inside C code that never returns to Python is (its timer signal is blocked)."""
    if odd(ctx.genome):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        try:
            time.sleep(120.0)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
    return float(len(ctx.genome))


def ends_its_process(ctx: EvalContext) -> float:
    """Ends the process it runs in on every other architecture (a crash in native code)."""
    if odd(ctx.genome):
        os._exit(7)
    return float(len(ctx.genome))


def returns_a_generator(ctx: EvalContext) -> object:
    """A value that is not a number and cannot be pickled."""
    return (n for n in ctx.genome.nodes)
