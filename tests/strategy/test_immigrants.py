"""Random immigrants: a share of the children an evolution strategy makes are drawn from the
whole space (random search's draw) and trained from scratch, beside its morphism children.
They are proposed at the share asked, are valid networks of the space, can join the
population and breed, and a run with them is seeded and resumes as the whole one."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from evonas.core import Budget, Individual
from evonas.strategy import Strategy, get_strategy
from evonas.strategy.base import RANDOM_WALK_MORPHISMS
from evonas.testing.contracts import StrategyContract
from evonas.testing.driver import context, drive
from evonas.testing.surrogate import surrogate_search

EVOLUTION = ("lemonade", "aging", "nsga2")


class TestStrategiesWithImmigrants(StrategyContract):
    @pytest.fixture(params=EVOLUTION)
    def make_strategy(self, request: pytest.FixtureRequest) -> Callable[[], Strategy]:
        return lambda: get_strategy(request.param, immigrants=0.3)


@pytest.mark.parametrize("name", EVOLUTION)
def test_immigrants_are_proposed_at_the_share_asked(name: str) -> None:
    run = drive(get_strategy(name, immigrants=0.25), seed=0, steps=60)
    later = [p for step in run.proposals[1:] for p in step if not p.continues]
    immigrants = [p for p in later if p.parent_id is None]
    assert len(later) > 200
    assert len(immigrants) / len(later) == pytest.approx(0.25, abs=0.06)


def test_an_immigrant_is_a_walk_from_an_initial_network_trained_from_scratch() -> None:
    run = drive(get_strategy("lemonade", immigrants=1.0), seed=1, steps=8)
    initial = context(1).initial
    later = [p for step in run.proposals[1:] for p in step]
    assert later and all(p.parent_id is None for p in later)
    for p in later:
        assert p.genome in initial
        assert 1 <= len(p.morphisms) <= RANDOM_WALK_MORPHISMS
        assert p.epochs is None  # the trainer's scratch_epochs
    # the children told after the initial networks: none inherits anything
    assert all(i.parent_id is None for i in run.history)


def test_without_immigrants_every_later_child_has_a_parent() -> None:
    run = drive(get_strategy("lemonade"), seed=1, steps=8)
    assert all(p.parent_id is not None for step in run.proposals[1:] for p in step)


def test_immigrants_join_the_population_and_breed() -> None:
    search = surrogate_search(
        get_strategy("lemonade", immigrants=0.5), seed=2, budget=Budget(evaluations=80)
    )
    search.run()
    people = search.individuals
    immigrants = {i.id for i in people.values() if i.parent_id is None and i.morphisms}
    assert immigrants
    assert any(i.parent_id in immigrants for i in people.values())


@pytest.mark.parametrize("name", EVOLUTION)
def test_a_run_with_immigrants_resumes_as_the_whole_one(name: str) -> None:
    def search(evaluations: int, history: Sequence[Individual] = ()) -> list[Individual]:
        s = surrogate_search(
            get_strategy(name, immigrants=0.3),
            seed=4,
            budget=Budget(evaluations=evaluations),
            history=history,
        )
        s.run()
        return sorted(s.individuals.values(), key=lambda i: i.id)

    def rows(history: list[Individual]) -> list[tuple[int, int | None, str]]:
        return [(i.id, i.parent_id, i.genome.hash) for i in history]

    whole = search(50)
    assert any(i.parent_id is None and i.morphisms for i in whole)
    resumed = search(50, search(23))  # stopped mid-generation
    assert rows(resumed) == rows(whole)


@pytest.mark.parametrize("value", [-0.1, 1.5])
@pytest.mark.parametrize("name", EVOLUTION)
def test_an_immigrant_share_outside_0_1_is_refused_by_name(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=rf"{name} immigrants must lie in \[0, 1\], got {value}"):
        get_strategy(name, immigrants=value)
