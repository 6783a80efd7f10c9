"""Observers of a search (pymoo's ``Callback``): the run record and the progress display
are two observers of the same loop. Hooks are no-ops by default; override what you need.

Where parents' weights live is a separate, smaller protocol, :class:`WeightBacking`, which
the run record also implements.
"""

from __future__ import annotations

from typing import Protocol

from evonas.core.budget import Budget, Progress
from evonas.core.individual import Candidate, Individual, StateDict
from evonas.core.pareto import ParetoArchive


class SearchState(Protocol):
    """What an observer may read of the running search."""

    @property
    def archive(self) -> ParetoArchive: ...

    @property
    def progress(self) -> Progress: ...

    @property
    def budget(self) -> Budget: ...


class Observer:
    """Base class of search observers."""

    def on_cheap(self, genome_hash: str, values: dict[str, float]) -> None:
        """Cheap objectives of a child just made (trained or not)."""

    def on_submit(self, search: SearchState, ident: int, candidate: Candidate) -> None:
        """A candidate starts training (id ``ident``)."""

    def on_individual(self, search: SearchState, individual: Individual) -> None:
        """A candidate was evaluated (its weights are stored already)."""

    def on_stop(self, search: SearchState, reason: str) -> None:
        """The search stopped, for ``reason`` (budget reached, space exhausted, ...)."""


class WeightBacking(Protocol):
    """Persistent storage of weights by individual id (e.g. the run directory)."""

    def save_weights(self, ident: int, state: StateDict) -> None: ...

    def load_weights(self, ident: int) -> StateDict: ...
