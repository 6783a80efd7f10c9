"""Strategies: every registered one passes the contract suite users inherit; NSGA-II's
ranking and selection agree with DEAP's and pymoo's; LEMONADE favours sparse regions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from deap import base, creator, tools
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from evonas.core import Candidate, Individual
from evonas.core.pareto import hypervolume_contributions
from evonas.space import simple_genome
from evonas.strategy import Strategy, get_strategy, list_strategies
from evonas.strategy._deap import rank_and_crowding, select_nsga2
from evonas.strategy.lemonade import inverse_density_weights, kde_density
from evonas.testing.contracts import StrategyContract
from evonas.testing.driver import Drive, context, drive


class TestBuiltinStrategies(StrategyContract):
    @pytest.fixture(params=list_strategies())
    def make_strategy(self, request: pytest.FixtureRequest) -> Callable[[], Strategy]:
        return lambda: get_strategy(request.param)


class TestSmallPopulations(StrategyContract):
    """The configurations that used to run dry."""

    @pytest.fixture(
        params=[
            ("lemonade", {"n_children": 1, "n_accept": 1}),
            ("nsga2", {"population_size": 4}),
            ("aging", {"population_size": 2, "sample_size": 2, "candidates": 1}),
            ("nsga2", {"population_size": 2, "candidates": 6}),
        ],
        ids=["lemonade-1-1", "nsga2-4", "aging-2-1", "nsga2-2-6"],
    )
    def make_strategy(self, request: pytest.FixtureRequest) -> Callable[[], Strategy]:
        name, params = request.param
        return lambda: get_strategy(name, **params)


def fake(i: int, err: float, params: float) -> Individual:
    return Individual(i, simple_genome(), None, (), {"val_error": err, "params": params})


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


def test_lemonade_accepts_children_in_sparse_regions() -> None:
    pop = np.array([[0.1, 0.1], [0.12, 0.1], [0.1, 0.12], [0.11, 0.11]])
    at = np.array([[0.11, 0.1], [0.9, 0.9]])
    density = kde_density(pop, at)
    assert density[0] > 100 * density[1]


def test_lemonade_weights_stay_finite_far_from_every_member() -> None:
    """A child whose cheap objectives lie far from the whole population: the density
    underflows to 0, the log-domain weights do not (it was 'Probabilities contain NaN')."""
    pop = np.array([[0.0, 0.0], [0.001, 0.0], [0.0, 0.001]])
    at = np.array([[0.0, 0.0005], [50.0, 50.0], [80.0, 80.0]])
    assert kde_density(pop, at)[1] == 0.0  # what used to break the sampling
    weights = inverse_density_weights(pop, at)
    assert np.isfinite(weights).all() and weights.sum() == pytest.approx(1.0)
    assert int(np.argmax(weights)) == 2  # the sparsest region is the most likely


@pytest.mark.parametrize("name", ["lemonade", "aging", "nsga2"])
def test_children_take_several_morphisms_of_one_kind(name: str) -> None:
    """With ``morphisms_per_child`` = m, a child's morphism count is geometric with mean m;
    all of a child's morphisms are of one kind, so a function-preserving child keeps its
    parent's function exactly."""
    strategy = get_strategy(name, morphisms_per_child=2.5)
    strategy.setup(context(0))
    counts = []
    for step in range(300):
        strategy._told, strategy._rng = step, None  # a fresh step's stream each time
        names = strategy.random_morphisms(simple_genome(), 0.3, 2.5)
        kinds = {strategy.context.morphisms[n].preserving for n in names}
        assert len(kinds) == 1
        counts.append(len(names))
    assert min(counts) == 1 and max(counts) >= 4
    assert np.mean(counts) == pytest.approx(2.5, rel=0.15)
    one = get_strategy(name, morphisms_per_child=1.0)
    one.setup(context(0))
    assert all(len(one.random_morphisms(simple_genome(), 0.3)) == 1 for _ in range(20))
    with pytest.raises(ValueError, match="morphisms_per_child"):
        get_strategy(name, morphisms_per_child=0.5)


def test_strategies_propose_one_morphism_per_child_by_default() -> None:
    """One morphism per child unless asked (several measured better on the surrogate's
    evaluation budget, not on real data at equal time); with ``morphisms_per_child`` = 2 the
    proposals carry two on average."""
    for name in ("lemonade", "nsga2", "aging"):
        for mean in (1.0, 2.0):
            run = drive(get_strategy(name, morphisms_per_child=mean), 0, 30)
            sizes = [len(p.morphisms) for batch in run.proposals[1:] for p in batch]
            assert sizes and np.mean(sizes) == pytest.approx(mean, rel=0.35), (name, mean)
        run = drive(get_strategy(name), 0, 10)
        assert all(len(p.morphisms) == 1 for batch in run.proposals[1:] for p in batch)


# two dominated members (3, 4) and three on the front (two extremes, one interior);
# normalised (the driver's error in [0, 1], log10 params in [1e3, 1e8]) the front members'
# exclusive hypervolumes are 0.6 x 0.2, 0.2 x 0.3 and 0.2 x 0.4
MEMBERS = [
    fake(0, 0.1, 1e5),
    fake(1, 0.3, 1e4),
    fake(2, 0.6, 1e3),
    fake(3, 0.5, 2e4),
    fake(4, 0.8, 5e4),
]
SHARE = np.array([0.6 * 0.2, 0.2 * 0.3, 0.2 * 0.4]) / (0.6 * 0.2 + 0.2 * 0.3 + 0.2 * 0.4)


def _parents(strategy: Strategy, members: list[Individual], steps: int, n: int) -> list[int | None]:
    """The parents ``strategy`` proposes over ``steps`` fresh steps after being told
    ``members``."""
    strategy.setup(context(0))
    strategy.tell(members)
    parents = []
    for step in range(steps):
        strategy._told, strategy._rng = len(members) + step, None
        parents += [p.parent_id for p in strategy.propose(n)]
    return parents


def _aging_parents(**kwargs: object) -> list[int | None]:
    # 5 alive (< 40): every member is in the sample
    strategy = get_strategy("aging", population_size=40, sample_size=5, **kwargs)
    return _parents(strategy, MEMBERS, 400, 1)


def test_aging_selects_from_the_first_child_while_its_population_fills() -> None:
    """Aging evolution's tournament runs while the population is still filling (ours starts
    from a few initial networks, not P random ones): with every member in the sample, the
    parent is always a non-dominated one, the interior of the front included; by default
    in proportion to its exclusive hypervolume, ``parent="uniform"`` uniformly."""
    parents = _aging_parents()
    assert set(parents) == {0, 1, 2}
    seen = np.array([parents.count(i) for i in (0, 1, 2)]) / len(parents)
    assert np.abs(seen - SHARE).max() < 0.06, (seen, SHARE)
    uniform = _aging_parents(parent="uniform")
    assert set(uniform) == {0, 1, 2}
    assert min(uniform.count(i) for i in (0, 1, 2)) > 100  # not only the two extremes
    with pytest.raises(ValueError, match="parent"):
        get_strategy("aging", parent="crowding")


def _lemonade_parents(members: list[Individual], **kwargs: object) -> list[int | None]:
    strategy = get_strategy("lemonade", n_children=8, n_accept=2, **kwargs)
    return _parents(strategy, members, 60, 8)


def test_lemonade_draws_parents_by_exclusive_hypervolume() -> None:
    """LEMONADE's parents are drawn, by default, in proportion to each front member's
    exclusive hypervolume over every objective; ``parent="density"`` is the paper's
    1 / KDE over the cheap objectives, which ignores the error. Where no member adds any
    hypervolume (all beyond the bounds), contribution falls back to density."""
    front = [fake(0, 0.1, 1e5), fake(1, 0.3, 1e4), fake(2, 0.6, 1e3), fake(3, 0.8, 5e4)]
    parents = _lemonade_parents(front)
    assert set(parents) == {0, 1, 2}  # 3 is dominated: not in the population
    seen = np.array([parents.count(i) for i in (0, 1, 2)]) / len(parents)
    assert np.abs(seen - SHARE).max() < 0.06, (seen, SHARE)
    density = _lemonade_parents(front, parent="density")
    assert set(density) == {0, 1, 2}
    # cheap points (params only) 0.4, 0.2, 0.0 apart evenly: the middle one is densest
    assert density.count(1) < min(density.count(0), density.count(2))
    assert _lemonade_parents(front) == parents  # seeded: the same draws again
    beyond = [fake(0, 0.5, 1e9), fake(1, 0.3, 1e10), fake(2, 2.0, 1e2)]  # no box inside 1
    assert set(_lemonade_parents(beyond)) == set(_lemonade_parents(beyond, parent="density"))
    assert len(set(_lemonade_parents(beyond))) == 3
    with pytest.raises(ValueError, match="parent"):
        get_strategy("lemonade", parent="crowding")


def test_nsga2_mates_front_members_by_exclusive_hypervolume() -> None:
    """NSGA-II's offspring parents are drawn among the population's non-dominated members
    in proportion to their exclusive hypervolume by default; ``mating="tournament"`` is the
    paper's binary tournament, which also lets dominated members breed."""

    def parents(**kwargs: object) -> list[int | None]:
        strategy = get_strategy("nsga2", population_size=20, offspring=8, **kwargs)
        return _parents(strategy, MEMBERS, 60, 8)

    drawn = parents()
    assert set(drawn) == {0, 1, 2}
    seen = np.array([drawn.count(i) for i in (0, 1, 2)]) / len(drawn)
    assert np.abs(seen - SHARE).max() < 0.06, (seen, SHARE)
    assert parents() == drawn  # seeded
    tournament = parents(mating="tournament")
    assert 3 in tournament  # a dominated member wins against a worse-ranked one
    with pytest.raises(ValueError, match="mating"):
        get_strategy("nsga2", mating="crowding")


def test_hypervolume_contributions_are_each_points_exclusive_area() -> None:
    """Against the 2-D staircase computed by hand; a dominated point and a duplicate add 0."""
    pts = np.array([[0.0, 0.9], [0.2, 0.7], [0.5, 0.4], [0.6, 0.6], [0.5, 0.4]])
    gain = hypervolume_contributions(pts)
    assert gain[:2] == pytest.approx([0.2 * 0.1, 0.3 * 0.2])
    assert gain[2:] == pytest.approx([0.0, 0.0, 0.0])  # [2] and [4] are the same point
    assert hypervolume_contributions(pts[:3])[2] == pytest.approx(0.5 * 0.3)


def test_nsga2_generations_are_a_quarter_of_the_population_by_default() -> None:
    """NSGA-II makes N / 4 children a generation unless ``offspring`` says otherwise (more,
    smaller generations: measured better when a network costs minutes)."""
    for kwargs, size in (({}, 5), ({"population_size": 8}, 2), ({"offspring": 20}, 20)):
        strategy = get_strategy("nsga2", **kwargs)
        run = drive(strategy, 0, 6)
        made = {len(batch) for batch in run.proposals[1:]}
        assert made == {size * strategy.candidates}, (kwargs, made)  # type: ignore[attr-defined]
        trained = {len([i for i in run.history if i.step == s]) for s in _steps(run)[1:]}
        assert trained == {size}, (kwargs, trained)
    assert get_strategy("nsga2", population_size=2).offspring == 1  # type: ignore[attr-defined]


def _steps(run: Drive) -> list[int]:
    return sorted({i.step for i in run.history})


def _candidate(params: float) -> Candidate:
    return Candidate(simple_genome(), 0, (), None, False, {"params": params})


@pytest.mark.parametrize("name", ["aging", "nsga2"])
def test_several_children_made_the_sparsest_trained(name: str) -> None:
    """With ``candidates`` = k, aging evolution and NSGA-II make k children per child they
    train and train those whose cheap objectives lie where the population is sparse (as
    LEMONADE accepts): a child sized like no member beats one sized like several; with
    k = 1 they make one child per child trained."""
    strategy = get_strategy(name, population_size=8, candidates=3)
    strategy.setup(context(0))
    strategy.tell(MEMBERS)  # params 1e3 .. 1e5
    n = 1 if name == "aging" else strategy.offspring  # type: ignore[attr-defined]
    assert len(strategy.propose(1)) == 3 * n
    dense = [_candidate(p) for p in (1.1e4, 1.2e4, 2.1e4, 1.9e4)]
    sparse = _candidate(3e7)
    wins = 0
    for step in range(200):
        strategy._told, strategy._rng = len(MEMBERS) + step, None
        strategy.propose(1)
        picked = strategy.select([*dense, sparse])
        assert len(picked) == n
        wins += sparse in picked
    assert wins > 0.9 * 200, wins
    one = get_strategy(name, population_size=8, candidates=1)
    one.setup(context(0))
    one.tell(MEMBERS)
    assert len(one.propose(1)) == n
    with pytest.raises(ValueError, match="candidates"):
        get_strategy(name, candidates=0)
    with pytest.raises(ValueError, match="candidates"):
        get_strategy(name, candidates=1.5)
