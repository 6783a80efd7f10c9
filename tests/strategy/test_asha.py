"""ASHA: rungs over epochs, promotion of a rung's non-dominated top third, training on
from the network's own weights, and the random architectures the ``random`` baseline draws."""

from __future__ import annotations

import numpy as np
import pytest

from evonas.core import Budget
from evonas.core.individual import Individual, Status, TrainFacts
from evonas.data import synthetic
from evonas.engine import Search, assemble_search
from evonas.executor import InProcessExecutor
from evonas.morphism import MORPHISMS
from evonas.objectives import get_objective
from evonas.space import simple_genome
from evonas.strategy import get_strategy
from evonas.strategy.asha import ASHA
from evonas.testing.driver import context
from evonas.testing.surrogate import surrogate_search
from evonas.trainer import Trainer, TrainingEvaluator, TrainSettings


@pytest.mark.parametrize(
    ("min_epochs", "eta", "max_epochs", "rungs"),
    [(1.0, 3, 9.0, [1, 3, 9]), (1.0, 3, 10.0, [1, 3, 9]), (0.5, 2, 4.0, [0.5, 1, 2, 4])],
)
def test_rungs_grow_by_eta_up_to_the_maximum(
    min_epochs: float, eta: int, max_epochs: float, rungs: list[float]
) -> None:
    assert ASHA(min_epochs=min_epochs, eta=eta, max_epochs=max_epochs).rungs == rungs


@pytest.mark.parametrize(
    "bad", [{"eta": 1}, {"eta": 2.5}, {"min_epochs": 0}, {"min_epochs": 3.0, "max_epochs": 1.0}]
)
def test_bad_settings_are_refused_naming_the_key(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        get_strategy("asha", **bad)


def _told(ident: int, error: float, params: float, parent: int | None = None) -> Individual:
    return Individual(
        id=ident,
        genome=simple_genome(channels=(4 + ident,)),
        parent_id=parent,
        morphisms=(),
        objectives={"val_error": error, "params": params},
        status=Status.OK,
        train=TrainFacts(),
        step=ident,
    )


def test_the_top_third_of_a_rung_is_promoted_non_dominated_first() -> None:
    asha = ASHA(min_epochs=1.0, eta=3, max_epochs=9.0)
    asha.setup(context(0))
    # six rung-0 results: #4 dominates every other, #5 every other but #4
    asha.tell([_told(0, 0.5, 4e4), _told(1, 0.3, 2e4), _told(2, 0.6, 5e4)])
    asha.tell([_told(3, 0.7, 6e4), _told(4, 0.1, 1e4), _told(5, 0.2, 1.5e4)])
    first, second, third = asha.ask(3)
    assert (first.parent_id, first.continues, first.epochs, first.morphisms) == (4, True, 2, ())
    assert (second.parent_id, second.continues) == (5, True)  # top 6 // 3 = 2 of rung 0
    assert third.parent_id is None and third.epochs == 1.0  # nothing left: a new network
    # once #4 reached rung 1 and two more did, the best of rung 1 goes to rung 2 first
    asha.tell([_told(6, 0.05, 1e4, parent=4), _told(7, 0.15, 3e4, parent=5)])
    asha.tell([_told(8, 0.25, 2e4, parent=1)])
    top = asha.ask(1)[0]
    assert (top.parent_id, top.epochs) == (6, 6)  # 9 - 3 epochs more


def trained_asha_search(max_epochs: float, budget: Budget, seed: int = 0) -> Search:
    """ASHA over real training on tiny synthetic data: rungs 0.25 x 2**k up to max_epochs."""
    data = synthetic(n_train=256, n_test=64, shape=(1, 8, 8), num_classes=3, seed=0)
    settings = TrainSettings(batch_size=32, scratch_epochs=1.0, child_epochs=1.0)
    return assemble_search(
        strategy=get_strategy("asha", min_epochs=0.25, eta=2, max_epochs=max_epochs),
        executor=InProcessExecutor(TrainingEvaluator(Trainer(data, settings, device="cpu"))),
        objectives=[get_objective("val_error"), get_objective("params")],
        morphisms=[MORPHISMS.create(n) for n in MORPHISMS.names()],
        initial=[simple_genome(channels=(4,)), simple_genome(channels=(4, 8))],
        input_shape=data.input_shape,
        num_classes=data.num_classes,
        budget=budget,
        seed=seed,
    )


def test_a_promoted_network_trains_on_from_its_own_weights() -> None:
    search = trained_asha_search(1.0, Budget(evaluations=14))
    search.run()
    individuals = search.individuals
    promoted = [i for i in individuals.values() if i.train.continued]
    assert promoted, "no network was promoted"
    for ind in promoted:
        parent = individuals[ind.parent_id]  # type: ignore[index]
        assert ind.genome.hash == parent.genome.hash and ind.train.inherited
        expected = 0.25 if not parent.train.continued else 0.5  # whole steps: within 1
        assert ind.train.epochs == pytest.approx(expected, rel=0.15)
    fresh = [i for i in individuals.values() if i.parent_id is None and i.step]
    assert fresh and all(i.train.epochs == pytest.approx(0.25, rel=0.15) for i in fresh)
    total = sum(i.train.epochs for i in individuals.values())
    assert search.progress.epochs == pytest.approx(total)  # every epoch counts


def test_an_epoch_budget_is_never_overrun_by_a_long_promotion() -> None:
    """Equal compute: a promotion that would end past the epoch budget is not started, the
    strategy is asked for something that fits, and the budget is still used up."""
    step = 32 / 256
    for seed in range(3):
        search = trained_asha_search(2.0, Budget(epochs=4.0), seed)
        search.run()
        total = sum(i.train.epochs for i in search.individuals.values())
        assert any(i.train.continued for i in search.individuals.values())
        assert total <= 4.0 + step  # at most a step's rounding past it
        assert total >= 4.0 - 0.25 - step  # a new network still fitted in what was left
        assert search.stop_reason is not None and "epochs" in search.stop_reason


def test_random_draws_approximate_morphisms_at_the_strategies_rate() -> None:
    ctx = context(0)
    random = get_strategy("random", p_approximate=0.3)
    random.setup(ctx)
    names = [n for _ in range(400) for n in random.propose(1)[0].morphisms]
    approximate = np.mean([not ctx.morphisms[n].preserving for n in names])
    assert approximate == pytest.approx(0.3, abs=0.04)


def test_a_network_without_weights_is_not_continued_and_the_search_goes_on() -> None:
    """The surrogate keeps no weights: a promotion has nothing to train on from, so it is
    not made (never a from-scratch training of the few epochs between two rungs)."""
    search = surrogate_search("asha", seed=1, budget=Budget(evaluations=60))
    search.run()
    assert search.progress.evaluations == 60
    assert not any(i.train.continued for i in search.individuals.values())
