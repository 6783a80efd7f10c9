"""The search engine and strategies: archive correctness against pymoo/DEAP, seeded
determinism, budgets, failures, deduplication, and Lamarckian inheritance."""

from __future__ import annotations

import numpy as np
import pytest
from deap import base, creator, tools
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from evonas.data import synthetic
from evonas.engine import (
    Budget,
    Individual,
    ParetoArchive,
    Search,
    SurrogateEvaluator,
    TrainingEvaluator,
    hypervolume,
)
from evonas.engine.evaluator import Evaluator
from evonas.objectives import get_objective
from evonas.space import initial_genomes, simple_genome
from evonas.strategy import STRATEGIES, get_strategy
from evonas.strategy._deap import rank_and_crowding, select_nsga2
from evonas.strategy.lemonade import kde_density
from evonas.trainer import TrainConfig, Trainer

OBJECTIVES = [get_objective("val_error"), get_objective("params")]


def fake(i: int, err: float, params: float) -> Individual:
    return Individual(i, simple_genome(), None, (), {"val_error": err, "params": params}, "ok")


def surrogate_search(strategy: str, seed: int, evaluations: int = 120, **kw: object) -> Search:
    return Search(
        strategy=get_strategy(strategy),
        evaluator=SurrogateEvaluator(seed=seed),
        objectives=OBJECTIVES,
        initial=initial_genomes(np.random.default_rng(seed), 4),
        budget=Budget(evaluations=evaluations),
        seed=seed,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("seed", range(5))
def test_archive_front_matches_pymoo(seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = rng.random((60, 2)) * [1.0, 1e6] + [0, 1e3]
    archive = ParetoArchive(OBJECTIVES)
    for start in range(0, 60, 7):  # incremental updates, as results arrive
        archive.add([fake(i, *points[i]) for i in range(start, min(60, start + 7))])
    expected = set(NonDominatedSorting().do(points, only_non_dominated_front=True).tolist())
    assert {i.id for i in archive.front()} == expected


def test_failed_individuals_are_kept_but_never_on_the_front() -> None:
    archive = ParetoArchive(OBJECTIVES)
    bad = Individual(
        0, simple_genome(), None, (), {"val_error": float("nan"), "params": 1.0}, "diverged"
    )
    archive.add([bad, fake(1, 0.5, 1e4)])
    assert [i.id for i in archive.front()] == [1] and len(archive.individuals) == 2


@pytest.mark.parametrize("seed", range(5))
def test_hypervolume_matches_a_hand_computed_2d_sweep(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pts = rng.random((30, 2))
    front = pts[NonDominatedSorting().do(pts, only_non_dominated_front=True)]
    front = front[np.argsort(front[:, 0])]
    expected, prev_y = 0.0, 1.0
    for x, y in front:  # rectangles between the front and the reference point (1, 1)
        expected += (1.0 - x) * (prev_y - y)
        prev_y = y
    assert hypervolume(pts) == pytest.approx(expected)


def test_nsga2_selection_equals_deap_with_its_own_individuals() -> None:
    rng = np.random.default_rng(0)
    values = rng.random((24, 2))
    ours = select_nsga2([fake(i, *v) for i, v in enumerate(values)], values, 10)
    if not hasattr(creator, "EvonasTestFit"):
        creator.create("EvonasTestFit", base.Fitness, weights=(-1.0, -1.0))
        creator.create("EvonasTestInd", list, fitness=creator.EvonasTestFit, idx=int)
    population = []
    for i, v in enumerate(values):
        ind = creator.EvonasTestInd(v.tolist())
        ind.fitness.values, ind.idx = tuple(v), i
        population.append(ind)
    theirs = tools.selNSGA2(population, 10)
    assert [i.id for i in ours] == [ind.idx for ind in theirs]


def test_deap_ranks_match_pymoo_ranks() -> None:
    values = np.random.default_rng(1).random((40, 3))
    ranks, crowding = rank_and_crowding(values)
    _, pymoo_rank = NonDominatedSorting().do(values, return_rank=True)
    assert ranks.tolist() == list(pymoo_rank)
    assert (crowding >= 0).all()


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_strategy_is_seeded(name: str) -> None:
    def ids_and_hashes(seed: int) -> list[tuple[int | None, str]]:
        search = surrogate_search(name, seed)
        search.run()
        return [(i.parent_id, i.genome.hash) for i in search.individuals.values()]

    a, b, c = ids_and_hashes(0), ids_and_hashes(0), ids_and_hashes(1)
    assert a == b
    assert a != c


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_no_architecture_is_evaluated_twice(name: str) -> None:
    search = surrogate_search(name, 3, evaluations=200)
    search.run()
    hashes = [i.genome.hash for i in search.individuals.values()]
    assert len(hashes) == len(set(hashes)) == 200


def test_lemonade_accepts_children_in_sparse_regions() -> None:
    pop = np.array([[0.1, 0.1], [0.12, 0.1], [0.1, 0.12], [0.11, 0.11]])
    at = np.array([[0.11, 0.1], [0.9, 0.9]])
    density = kde_density(pop, at)
    assert density[0] > 100 * density[1]


def test_budget_in_epochs_and_failures_do_not_stop_the_search() -> None:
    class Flaky(SurrogateEvaluator):
        calls = 0

        def evaluate(self, candidate, seed, teacher):  # type: ignore[no-untyped-def]
            Flaky.calls += 1
            if Flaky.calls % 3 == 0:
                raise RuntimeError("CUDA error: an illegal memory access was encountered")
            return super().evaluate(candidate, seed, teacher)

    search = Search(
        strategy=get_strategy("aging", population_size=6, sample_size=3),
        evaluator=Flaky(),
        objectives=OBJECTIVES,
        initial=initial_genomes(np.random.default_rng(0), 3),
        budget=Budget(evaluations=30),
    )
    search.run()
    statuses = [i.status for i in search.individuals.values()]
    assert len(statuses) == 30 and statuses.count("error") == 10
    failed = next(i for i in search.individuals.values() if i.status == "error")
    assert "illegal memory access" in (failed.error or "")
    assert all(i.ok for i in search.archive.front())


def small_real_search(inheritance: bool, budget: Budget) -> Search:
    data = synthetic(n_train=256, n_test=64, shape=(1, 8, 8), num_classes=3, seed=0)
    trainer = Trainer(data, TrainConfig(batch_size=32, device="cpu"))
    evaluator: Evaluator = TrainingEvaluator(trainer, child_epochs=0.5, scratch_epochs=1.0)
    return Search(
        strategy=get_strategy("lemonade", n_children=6, n_accept=2),
        evaluator=evaluator,
        objectives=[get_objective("val_error"), get_objective("params")],
        initial=[simple_genome(channels=(4,)), simple_genome(channels=(4, 8))],
        budget=budget,
        seed=0,
        inheritance=inheritance,
    )


def test_real_search_is_lamarckian_and_respects_the_epoch_budget() -> None:
    search = small_real_search(True, Budget(epochs=5.0))
    search.run()
    children = [i for i in search.individuals.values() if i.parent_id is not None]
    assert children and all(i.train["inherited"] for i in children)
    assert all(i.train["epochs"] == pytest.approx(0.5, abs=0.1) for i in children)
    assert 5.0 <= search.progress.epochs < 5.0 + 1.1
    assert all(0.0 <= i.objectives["val_error"] <= 1.0 for i in search.individuals.values())


def test_inheritance_switch_trains_children_from_scratch() -> None:
    search = small_real_search(False, Budget(evaluations=5))
    search.run()
    children = [i for i in search.individuals.values() if i.parent_id is not None]
    assert children and not any(i.train["inherited"] for i in children)
    assert all(i.train["epochs"] == pytest.approx(1.0, abs=0.1) for i in children)


def test_budget_needs_a_limit() -> None:
    with pytest.raises(ValueError, match="at least one of evaluations, seconds or epochs"):
        Budget()
