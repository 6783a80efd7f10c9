"""The search loop: seeded determinism, budgets, failures, deduplication, Lamarckian
inheritance, a recorded reason when the space runs dry, and resume from history (exact
under the same code, and working when a morphism's implementation changed)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from evonas.core import Budget, ConfigError, Individual, Observer, SearchState, SpaceLimits
from evonas.data import synthetic
from evonas.engine import ChildFactory, Scorer, Search
from evonas.executor import InProcessExecutor
from evonas.morphism import MORPHISMS, get_morphism
from evonas.morphism.preserving import Deepen
from evonas.objectives import get_objective
from evonas.space import simple_genome
from evonas.strategy import get_strategy, list_strategies
from evonas.testing.surrogate import SurrogateEvaluator, surrogate_search
from evonas.trainer import Trainer, TrainingEvaluator, TrainSettings


def rows(search: Search) -> list[tuple[int, int | None, str, float]]:
    return [
        (i.id, i.parent_id, i.genome.hash, i.objectives["val_error"])
        for i in sorted(search.individuals.values(), key=lambda i: i.id)
    ]


@pytest.mark.parametrize("name", list_strategies())
def test_strategy_is_seeded(name: str) -> None:
    def run(seed: int) -> list[tuple[int | None, str]]:
        search = surrogate_search(name, seed=seed)
        search.run()
        return [(parent, h) for _, parent, h, _ in rows(search)]

    a, b, c = run(0), run(0), run(1)
    assert a == b
    assert a != c


@pytest.mark.parametrize("name", list_strategies())
def test_no_architecture_is_evaluated_twice_and_the_budget_is_spent(name: str) -> None:
    search = surrogate_search(name, seed=3, budget=Budget(evaluations=200))
    search.run()
    hashes = [i.genome.hash for i in search.individuals.values()]
    assert len(hashes) == len(set(hashes)) == 200
    assert search.stop_reason == "budget reached: 200 evaluations"


@pytest.mark.parametrize("name", list_strategies())
def test_resume_from_history_equals_the_uninterrupted_run(name: str) -> None:
    full = surrogate_search(name, seed=5, budget=Budget(evaluations=60))
    full.run()
    first = surrogate_search(name, seed=5, budget=Budget(evaluations=23))  # stops mid-batch
    first.run()
    history = sorted(first.individuals.values(), key=lambda i: i.id)
    resumed = surrogate_search(name, seed=5, budget=Budget(evaluations=60), history=history)
    resumed.run()
    assert rows(resumed) == rows(full)


def test_a_resume_that_stops_before_its_last_step_comes_back_counts_every_record() -> None:
    """A resumed run counts the step it asks again as its recorded results come back; one
    that stops before (its wall-clock budget already spent) still counts all of them."""
    first = surrogate_search("lemonade", seed=5, budget=Budget(evaluations=23))  # mid-batch
    first.run()
    history = sorted(first.individuals.values(), key=lambda i: i.id)
    resumed = surrogate_search("lemonade", seed=5, budget=Budget(minutes=1e-9), history=history)
    resumed.run()
    assert resumed.progress.evaluations == len(history) == 23
    assert sorted(resumed.individuals) == [i.id for i in history]
    assert resumed.progress.epochs == pytest.approx(sum(i.train.epochs for i in history))


class Record(Observer):
    """Keeps what a run record would write."""

    def __init__(self) -> None:
        self.individuals: list[Individual] = []
        self.reason = ""

    def on_individual(self, search: SearchState, individual: Individual) -> None:
        self.individuals.append(individual)

    def on_stop(self, search: SearchState, reason: str) -> None:
        self.reason = reason


class ShallowDeepen(Deepen):
    """A different implementation under the same name: only the first site ever."""

    def sites(self, genome):  # type: ignore[no-untyped-def]
        return super().sites(genome)[:1]


@pytest.mark.parametrize("name", ["lemonade", "aging", "nsga2"])
def test_resume_after_a_morphism_implementation_changed(name: str) -> None:
    before = [get_morphism(n) for n in ("deepen", "widen", "prune_filters")]
    first = surrogate_search(name, seed=2, budget=Budget(evaluations=21), morphisms=before)
    first.run()
    history = sorted(first.individuals.values(), key=lambda i: i.id)
    after = [ShallowDeepen(), *before[1:]]
    assert after[0].name == "deepen"
    record = Record()
    resumed = surrogate_search(
        name,
        seed=2,
        budget=Budget(evaluations=40),
        morphisms=after,
        history=history,
        observers=[record],
    )
    resumed.run()
    ids = [i.id for i in resumed.individuals.values()]
    assert len(ids) == len(set(ids)) == 40
    assert {i.id: i.genome.hash for i in history}.items() <= {
        i.id: i.genome.hash for i in resumed.individuals.values()
    }.items()
    assert len(record.individuals) == 40 - 21  # only new evaluations are recorded again
    assert record.reason == "budget reached: 40 evaluations"


def test_a_space_that_runs_dry_stops_with_a_recorded_reason() -> None:
    record = Record()
    genome = simple_genome(channels=(8,))
    search = surrogate_search(
        "lemonade",
        budget=Budget(evaluations=50),
        initial=[genome],
        morphisms=[get_morphism("deepen")],
        limits=SpaceLimits(max_nodes=len(genome)),
        observers=[record],
    )
    search.run()
    assert search.progress.evaluations == 1
    assert record.reason.startswith("search space exhausted")


def test_budget_in_epochs_and_failures_do_not_stop_the_search() -> None:
    class Flaky(SurrogateEvaluator):
        calls = 0

        def evaluate(self, candidate, seed, teacher):  # type: ignore[no-untyped-def]
            Flaky.calls += 1
            if Flaky.calls % 3 == 0:
                raise RuntimeError("CUDA error: an illegal memory access was encountered")
            return super().evaluate(candidate, seed, teacher)

    search = surrogate_search(
        get_strategy("aging", population_size=6, sample_size=3),
        evaluator=Flaky(),
        initial=3,
        budget=Budget(evaluations=30),
    )
    search.run()
    statuses = [i.status for i in search.individuals.values()]
    assert len(statuses) == 30 and statuses.count("error") == 10
    failed = next(i for i in search.individuals.values() if i.status == "error")
    assert "illegal memory access" in (failed.error or "")
    assert all(i.ok for i in search.archive.front())


def small_real_search(inheritance: bool, budget: Budget) -> Search:
    """The parts of a search, assembled by hand: what :mod:`evonas.scenario.build` does."""
    data = synthetic(n_train=256, n_test=64, shape=(1, 8, 8), num_classes=3, seed=0)
    settings = TrainSettings(batch_size=32, child_epochs=0.5, scratch_epochs=1.0)
    evaluator = TrainingEvaluator(Trainer(data, settings, device="cpu"))
    shape, classes = data.input_shape, data.num_classes
    return Search(
        strategy=get_strategy("lemonade", n_children=6, n_accept=2),
        executor=InProcessExecutor(evaluator),
        children=ChildFactory(
            morphisms=[MORPHISMS.create(n) for n in MORPHISMS.names()],
            initial=[simple_genome(channels=(4,)), simple_genome(channels=(4, 8))],
            limits=SpaceLimits(),
            input_shape=shape,
            num_classes=classes,
            inheritance=inheritance,
        ),
        scorer=Scorer([get_objective("val_error"), get_objective("params")], shape, classes),
        budget=budget,
        seed=0,
    )


def test_real_search_is_lamarckian_and_respects_the_epoch_budget() -> None:
    search = small_real_search(True, Budget(epochs=5.0))
    search.run()
    children = [i for i in search.individuals.values() if i.parent_id is not None]
    assert children and all(i.train.inherited for i in children)
    assert all(i.train.epochs == pytest.approx(0.5, abs=0.1) for i in children)
    assert 5.0 <= search.progress.epochs < 5.0 + 1.1
    assert all(0.0 <= i.objectives["val_error"] <= 1.0 for i in search.individuals.values())


def test_inheritance_switch_trains_children_from_scratch() -> None:
    search = small_real_search(False, Budget(evaluations=5))
    search.run()
    children = [i for i in search.individuals.values() if i.parent_id is not None]
    assert children and not any(i.train.inherited for i in children)
    assert all(i.train.epochs == pytest.approx(1.0, abs=0.1) for i in children)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Budget(), "set at least one of evaluations, minutes, epochs"),
        (lambda: Budget(evaluations=0), "budget.evaluations: must be a finite number > 0"),
        (lambda: SpaceLimits(max_nodes=2), "space.max_nodes: must be >= 3"),
    ],
)
def test_settings_say_what_is_wrong(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make()


def test_the_budget_says_how_far_and_never_a_negative_eta() -> None:
    from evonas.core import Progress

    b = Budget(evaluations=100, minutes=1.0)
    assert b.fraction(Progress(evaluations=25, seconds=6.0)) == pytest.approx(0.25)
    assert b.fraction(Progress(evaluations=25, seconds=45.0)) == pytest.approx(0.75)
    assert b.eta_seconds(Progress(evaluations=25, seconds=45.0)) == pytest.approx(15.0)
    assert b.eta_seconds(Progress(evaluations=10, seconds=120.0)) == 0.0
    assert b.done(Progress(evaluations=100)) and not b.done(Progress(evaluations=99))
    np.testing.assert_equal(b.eta_seconds(Progress()), float("nan"))
