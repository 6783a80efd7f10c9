"""Hard constraints: quantities with units, Deb's constrained domination on a hand-worked
set, the least violating networks when nothing is feasible, and the hypervolume of the
feasible front only."""

from __future__ import annotations

import numpy as np
import pytest

from evonas.core import Individual, ObjectiveInfo, ParetoArchive, constrained_ranks, violation
from evonas.core.units import format_quantity, parse_quantity
from evonas.space import simple_genome

ERR = ObjectiveInfo("val_error")
PARAMS = ObjectiveInfo("params", cheap=True, bounds=(1e3, 1e8), log_scale=True, upper=1e4)


def ind(i: int, err: float, params: float) -> Individual:
    values = {"val_error": err, "params": params}
    return Individual(
        i, simple_genome(), None, (), values, violation=violation(values, [ERR, PARAMS])
    )


@pytest.mark.parametrize(
    "text, unit, value",
    [
        ("2ms", "s", 2e-3),
        ("100k", "", 1e5),
        ("1.5GFLOPs", "FLOPs", 1.5e9),
        ("250us", "s", 2.5e-4),
        (3, "", 3.0),
        ("7e3", "", 7e3),
    ],
)
def test_quantities(text: str | int, unit: str, value: float) -> None:
    assert parse_quantity(text, unit) == pytest.approx(value)


def test_a_wrong_unit_is_named() -> None:
    with pytest.raises(ValueError, match="'kg' is not an SI prefix"):
        parse_quantity("2kg", "s")
    assert format_quantity(18900) == "18.9k" and format_quantity(0.00014, "s") == "0.14 ms"


def test_constrained_domination_on_a_hand_worked_set() -> None:
    # feasible: a (0.2, 5k), b (0.1, 9k) both on the front, c (0.3, 8k) dominated by b;
    # infeasible: d (0.05, 20k) violation 1.0, e (0.01, 40k) violation 3.0
    people = [
        ind(0, 0.2, 5e3),
        ind(1, 0.1, 9e3),
        ind(2, 0.3, 8e3),
        ind(3, 0.05, 2e4),
        ind(4, 0.01, 4e4),
    ]
    assert [p.violation for p in people] == [0, 0, 0, 1.0, 3.0]
    minimised = np.array([[p.objectives["val_error"], p.objectives["params"]] for p in people])
    ranks = constrained_ranks(minimised, np.array([p.violation for p in people]))
    assert ranks.tolist() == [0, 0, 1, 2, 3]  # feasible beat infeasible; those by violation
    archive = ParetoArchive([ERR, PARAMS])
    archive.add(people)
    assert [i.id for i in archive.front()] == [0, 1]


def test_with_nothing_feasible_the_front_is_the_least_violating() -> None:
    archive = ParetoArchive([ERR, PARAMS])
    archive.add([ind(0, 0.2, 2e4), ind(1, 0.1, 2e4), ind(2, 0.01, 5e4)])
    assert [i.id for i in archive.front()] == [1]
    assert archive.hypervolume() == 0.0  # only feasible points count


def test_an_epoch_budget_counts_the_training_in_flight() -> None:
    """A generation submitted at once must not run past an epoch budget by a generation:
    candidates in flight count at the mean epochs of an evaluation so far."""
    from evonas.core import Budget
    from evonas.core.budget import Progress

    budget = Budget(epochs=20.0)
    spent = Progress(evaluations=8, epochs=16.0)  # 2 epochs an evaluation
    assert [budget.may_submit(spent, k) for k in range(4)] == [True, True, False, False]
    assert not budget.may_submit(Progress(evaluations=10, epochs=20.0), 0)
    assert Budget(evaluations=9).may_submit(spent, 0) and not Budget(evaluations=9).may_submit(
        spent, 1
    )


def test_a_candidate_of_known_length_starts_only_if_it_ends_within_the_epoch_budget() -> None:
    """A promotion of 6 epochs with 4 left would buy compute no other method is given."""
    from evonas.core import Budget
    from evonas.core.budget import Progress

    budget = Budget(epochs=20.0)
    spent = Progress(evaluations=8, epochs=16.0)  # 2 epochs an evaluation
    assert budget.fits(spent, 0, 4.0) and budget.fits(spent, 0, 4.2)  # rounding: 1% of 20
    assert not budget.fits(spent, 0, 4.3)
    assert not budget.fits(spent, 0, 6.0)
    assert not budget.fits(spent, 1, 3.0)  # one in flight counts 2 epochs
    assert budget.fits(spent, 1, None)  # the trainer's own length: may_submit decides
    assert Budget(evaluations=9).fits(spent, 3, 100.0)  # no epoch budget: no limit


def test_candidates_in_flight_count_their_own_epochs_where_known() -> None:
    """A generation submitted at once (rung children and promotions) must not run past the
    budget: each one in flight counts the epochs it will train where they are known, the
    mean of an evaluation so far only where not. Counted at the mean (1.42 here), a
    promotion of 6 and two children of 2 started together and ended an epoch past 36."""
    from evonas.core import Budget
    from evonas.core.budget import Progress

    budget = Budget(epochs=36.0)
    spent = Progress(evaluations=19, epochs=27.0)
    assert budget.fits(spent, [], 6.0) and budget.fits(spent, [6.0], 2.0)
    assert not budget.fits(spent, [6.0, 2.0], 2.0)
    assert budget.fits(spent, 2, 2.0)  # a count: each at the mean
    assert budget.fits(spent, [None, None], 2.0) == budget.fits(spent, 2, 2.0)
    assert budget.may_submit(spent, [6.0, 2.0]) and not budget.may_submit(spent, [6.0, 2.0, 1.0])
    assert not Budget(evaluations=21).may_submit(spent, [None, 0.0])  # each counts once
