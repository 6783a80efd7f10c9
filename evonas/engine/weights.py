"""Where parents' weights live during a search: a small in-memory cache in front of an
optional backing store (the run directory), so memory stays bounded on long runs."""

from __future__ import annotations

from collections import OrderedDict

from evonas.core.individual import StateDict
from evonas.core.observer import WeightBacking


class WeightStore:
    """Weights of evaluated individuals by id.

    Args:
        backing: persists states (e.g. the run record); None keeps everything in memory.
        cache: states kept in memory when a backing store exists (most recent first).
    """

    def __init__(self, backing: WeightBacking | None = None, cache: int = 32) -> None:
        self._backing = backing
        self._cache_size = cache if backing is not None else None
        self._memory: OrderedDict[int, StateDict] = OrderedDict()
        self._known: set[int] = set()

    def put(self, ident: int, state: StateDict) -> None:
        if self._backing is not None:
            self._backing.save_weights(ident, state)
        self._known.add(ident)
        self._remember(ident, state)

    def mark(self, ident: int) -> None:
        """Declares that ``ident``'s weights are in the backing store (resumed runs)."""
        if self._backing is not None:
            self._known.add(ident)

    def get(self, ident: int) -> StateDict | None:
        if ident in self._memory:
            self._memory.move_to_end(ident)
            return self._memory[ident]
        if ident not in self._known or self._backing is None:
            return None
        state = self._backing.load_weights(ident)
        self._remember(ident, state)
        return state

    def __contains__(self, ident: object) -> bool:
        return ident in self._known

    def _remember(self, ident: int, state: StateDict) -> None:
        self._memory[ident] = state
        self._memory.move_to_end(ident)
        while self._cache_size is not None and len(self._memory) > self._cache_size:
            self._memory.popitem(last=False)
