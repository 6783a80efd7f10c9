"""Every registered step passes its contract; the compositions are the strategies."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from evonas.strategy import get_strategy
from evonas.strategy.steps import (
    ACCEPTANCES,
    PARENTS,
    Acceptance,
    ParentChooser,
    get_parent_chooser,
)
from evonas.testing.contracts import AcceptanceContract, ParentChooserContract


@pytest.mark.parametrize("name", PARENTS.names())
class TestRegisteredChoosers(ParentChooserContract):
    @pytest.fixture
    def make_chooser(self, name: str) -> Callable[[], ParentChooser]:
        return lambda: PARENTS.create(name)


@pytest.mark.parametrize("name", ACCEPTANCES.names())
class TestRegisteredAcceptance(AcceptanceContract):
    @pytest.fixture
    def make_acceptance(self, name: str) -> Callable[[], Acceptance]:
        return lambda: ACCEPTANCES.create(name)


def test_a_scenario_names_steps_by_their_registered_names() -> None:
    lemonade = get_strategy("lemonade", parent="uniform", acceptance="all")
    assert type(lemonade.parent).__name__ == "Uniform"
    assert type(lemonade.acceptance).__name__ == "AcceptAll"
    aging = get_strategy("aging", parent="density")
    assert type(aging.parent.inner).__name__ == "Density"
    with pytest.raises(ValueError, match=r"acceptance 'sparce'.*sparse"):
        get_strategy("nsga2", acceptance="sparce")


def test_a_users_chooser_is_an_object_too() -> None:
    class Youngest(ParentChooser):
        def prepare(self, pool, context):  # type: ignore[no-untyped-def]
            return lambda rng: max(pool, key=lambda i: i.id)

    strategy = get_strategy("lemonade", parent=Youngest())
    assert get_parent_chooser(strategy.parent) is strategy.parent
