"""The README's own strategy, checked by the contract suite a user inherits."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from evonas.core import Individual, Proposal
from evonas.strategy import STRATEGIES, Strategy, StrategyContext, register_strategy
from evonas.testing.contracts import StrategyContract
from evonas.testing.surrogate import surrogate_search


class Hill(Strategy):
    """Always mutates the best network so far (single objective: the first one)."""

    asynchronous = True

    def setup(self, context: StrategyContext) -> None:
        super().setup(context)
        self.best: Individual | None = None

    def propose(self, n: int) -> list[Proposal]:
        if self.best is None:
            return self.restart()
        name = self.random_morphism(self.best.genome, p_approximate=0.2)
        return [] if name is None else [Proposal(self.best.id, None, (name,), self.new_seed())]

    def advance(self, individuals: list[Individual]) -> None:
        key = self.context.objectives[0].name
        for ind in individuals:
            if ind.ok and (self.best is None or ind.objectives[key] < self.best.objectives[key]):
                self.best = ind


class TestHill(StrategyContract):
    @pytest.fixture
    def make_strategy(self) -> Callable[[], Strategy]:
        return Hill


def test_a_registered_user_strategy_runs_a_search_by_name() -> None:
    register_strategy("hill_for_test", Hill)
    try:
        search = surrogate_search("hill_for_test", seed=0)
        search.run()
        assert search.progress.evaluations == 120
    finally:
        STRATEGIES.unregister("hill_for_test")
