"""The strategy interface: an ask/tell object that the engine drives.

A strategy proposes children (``ask``): which evaluated parent to start from and which
morphisms to apply, or a network to train from scratch. The engine makes the children,
computes their cheap objectives and lets the strategy choose which to train (``accept``);
it trains them and reports the evaluated individuals back (``tell``). Every random choice
draws from ``context.rng``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from evonas.engine.individual import Candidate, Individual
from evonas.morphism.base import Morphism
from evonas.objectives.base import Objective
from evonas.registry import Registry
from evonas.space.genome import Genome


@dataclass(frozen=True)
class Proposal:
    """What to evaluate next: morphisms applied to an evaluated parent, or to a genome that
    is then trained from scratch."""

    parent_id: int | None  # an evaluated individual's id; None: start from ``genome``
    genome: Genome | None = None  # the base network when parent_id is None
    morphisms: tuple[str, ...] = ()  # names, applied in order (inapplicable ones skipped)
    seed: int = 0  # seeds the morphisms' random choices


@dataclass
class StrategyContext:
    """What the engine gives a strategy at setup."""

    objectives: list[Objective]  # all objectives, in the run's order
    morphisms: dict[str, Morphism]  # the enabled morphisms by name
    initial: list[Genome]  # the initial networks
    rng: np.random.Generator  # the strategy's own random stream

    @property
    def cheap(self) -> list[Objective]:
        return [o for o in self.objectives if o.cheap]


class Strategy(ABC):
    """Base class of search strategies.

    ``asynchronous`` strategies can use a new result as soon as it arrives (one child per
    free worker); generational ones fill all workers with a batch.
    """

    name: str = ""
    asynchronous: bool = False

    def setup(self, context: StrategyContext) -> None:
        """Called once by the engine before the first ``ask``."""
        self.context = context
        self._initial_sent = False

    @abstractmethod
    def ask(self, n: int = 1) -> list[Proposal]:
        """Proposals for the next evaluations (``n``: free workers, a hint)."""

    def accept(self, candidates: list[Candidate]) -> list[Candidate]:
        """Which of the made children to train (they carry cheap objectives); default: all."""
        return candidates

    @abstractmethod
    def tell(self, individuals: list[Individual]) -> None:
        """Evaluated individuals (failed ones included, with ``ok`` False)."""

    # --- helpers for subclasses ---------------------------------------------------------
    def initial_proposals(self) -> list[Proposal]:
        """The initial networks, trained from scratch; returns them once."""
        if self._initial_sent:
            return []
        self._initial_sent = True
        return [Proposal(None, g, (), self.new_seed()) for g in self.context.initial]

    def new_seed(self) -> int:
        return int(self.context.rng.integers(2**31))

    def random_morphism(self, genome: Genome, p_approximate: float) -> str | None:
        """A morphism applicable to ``genome``: approximate with probability
        ``p_approximate`` (if any applies), else function-preserving."""
        rng = self.context.rng
        want_approx = rng.random() < p_approximate
        groups = [
            [n for n, m in self.context.morphisms.items() if m.preserving != want_approx],
            list(self.context.morphisms),
        ]
        for names in groups:
            names = [n for n in names if self.context.morphisms[n].is_applicable(genome)]
            if names:
                return str(rng.choice(sorted(names)))
        return None


STRATEGIES: Registry[type[Strategy]] = Registry("strategy")


def register_strategy(name: str) -> Any:
    """Class decorator: registers a :class:`Strategy` subclass under ``name``."""

    def wrap(cls: type[Strategy]) -> type[Strategy]:
        cls.name = name
        STRATEGIES.register(name, cls)
        return cls

    return wrap


def get_strategy(ref: str | Strategy | type[Strategy], **params: Any) -> Strategy:
    """A strategy from a registered name, ``"module:Class"``, class or instance."""
    if isinstance(ref, Strategy):
        return ref
    cls = STRATEGIES.resolve(ref) if isinstance(ref, str) else ref
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise TypeError(f"{ref!r} is not a Strategy subclass")
    return cls(**params)
