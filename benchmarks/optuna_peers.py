"""Optuna's multi-objective samplers as evonas strategies: the peers a user of Optuna would
pick (``NSGAIISampler``, multi-objective ``TPESampler``), over the fixed-length chain space
of :mod:`evonas.space.encoding`. Every candidate is built as an evonas genome and trained
from scratch by the evonas trainer, so only the search differs.

A benchmark plug-in (Optuna is the ``bench`` extra, never a core dependency), named in a
scenario as ``optuna_peers:OptunaSearch`` from this folder. A resumed run rebuilds no study
(Optuna's sampler state is not recorded): it goes on with a fresh one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from evonas.core.individual import Candidate, Individual, Proposal
from evonas.space.encoding import ChainEncoding
from evonas.strategy import Strategy, StrategyContext

SAMPLERS = ("nsga2", "tpe")


class OptunaSearch(Strategy):
    """An Optuna study over the chain space, asked and told through evonas.

    Args:
        sampler: ``"nsga2"`` (``NSGAIISampler``) or ``"tpe"`` (multi-objective TPE).
        population_size: NSGA-II's generation size.
        epochs: training of each network (None: the trainer's ``scratch_epochs``).
        max_stages, max_convs, widths, kernels: the chain space (:class:`ChainEncoding`).
    """

    asynchronous = True

    def __init__(
        self,
        *,
        sampler: str = "nsga2",
        population_size: int = 20,
        epochs: float | None = None,
        max_stages: int = 3,
        max_convs: int = 3,
        widths: Sequence[int] = (8, 16, 24, 32, 48, 64),
        kernels: Sequence[int] = (3, 5),
    ) -> None:
        if sampler not in SAMPLERS:
            raise ValueError(f"optuna sampler {sampler!r} must be one of {SAMPLERS}")
        self.sampler = sampler
        self.population_size = population_size
        self.epochs = epochs
        self.encoding = ChainEncoding(max_stages, max_convs, tuple(widths), tuple(kernels))

    def setup(self, context: StrategyContext) -> None:
        super().setup(context)
        import optuna

        optuna.logging.set_verbosity(logging.WARNING)
        if self.sampler == "nsga2":
            sampler: Any = optuna.samplers.NSGAIISampler(
                population_size=self.population_size, seed=context.seed
            )
        else:
            sampler = optuna.samplers.TPESampler(seed=context.seed)
        self.study = optuna.create_study(
            directions=[
                "minimize" if o.direction == "min" else "maximize" for o in context.objectives
            ],
            sampler=sampler,
        )
        self.pending: dict[str, list[Any]] = {}  # genome hash -> trials waiting for it
        self.known: dict[str, list[float] | None] = {}  # genome hash -> values (None: failed)
        self._asked: list[str] = []  # hashes proposed by the last ask

    def propose(self, n: int) -> list[Proposal]:
        self._asked = []
        out = []
        for _ in range(max(1, n)):
            for _attempt in range(100):  # a point already evaluated is answered at once
                trial = self.study.ask()
                genome = self.encoding.decode(self.encoding.sample(trial.suggest_categorical))
                h = genome.hash
                if h in self.known or h in self._asked:
                    self._tell(trial, self.known.get(h))
                    continue
                self.pending.setdefault(h, []).append(trial)
                self._asked.append(h)
                out.append(Proposal(None, genome, (), self.new_seed(), epochs=self.epochs))
                break
        return out

    def select(self, candidates: list[Candidate]) -> list[Candidate]:
        """Points the child factory did not make (over a space limit, in training already)
        are told as failed, so the sampler learns of them."""
        made = {c.genome.hash for c in candidates}
        for h in self._asked:
            if h not in made:
                for trial in self.pending.pop(h, []):
                    self._tell(trial, None)
        return candidates

    def advance(self, individuals: list[Individual]) -> None:
        for ind in individuals:
            values = [ind.objectives[o.name] for o in self.context.objectives] if ind.ok else None
            self.known[ind.genome.hash] = values
            for trial in self.pending.pop(ind.genome.hash, []):
                self._tell(trial, values)

    def _tell(self, trial: Any, values: list[float] | None) -> None:
        import optuna

        if values is None:
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(trial, values)
