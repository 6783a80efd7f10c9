"""Evaluators that misbehave on purpose, importable by worker processes (pool and Ray)."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

from evonas.core import Candidate, Evaluator, StateDict, TrainResult
from evonas.space import Genome
from evonas.testing.surrogate import SurrogateEvaluator


@dataclass
class KillWorker(Evaluator):
    """Kills its own worker process when it meets the first child it sees (and, with
    ``always``, every time that child comes back)."""

    marker: str
    always: bool = False
    input_shape: tuple[int, int, int] = (1, 28, 28)
    num_classes: int = 10

    def evaluate(
        self, candidate: Candidate, seed: int, teacher: tuple[Genome, StateDict] | None
    ) -> TrainResult:
        marker = Path(self.marker)
        if candidate.parent_id is not None:
            if not marker.exists():
                marker.write_text(candidate.genome.hash)
                os.kill(os.getpid(), signal.SIGKILL)
            elif self.always and marker.read_text() == candidate.genome.hash:
                os.kill(os.getpid(), signal.SIGKILL)
        return SurrogateEvaluator().evaluate(candidate, seed, teacher)


def broken_factory() -> Evaluator:
    raise FileNotFoundError("no data under /nowhere")
