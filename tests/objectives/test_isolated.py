"""A user's objective runs in a helper process that a time limit can kill: stuck inside C
code, crashed or broken, it fails its candidate only, and the search goes on."""

from __future__ import annotations

import time

import pytest

from evonas.core import Budget, Status
from evonas.objectives import FunctionObjective, InProcessWarning, get_objective, objective
from evonas.objectives.base import EvalContext
from evonas.testing.surrogate import surrogate_search
from tests.plugins.hang import (
    ends_its_process,
    odd,
    raises_for_odd,
    returns_a_generator,
    stuck_in_c,
)
from tests.plugins.user_objectives import conv_count


def test_an_objective_stuck_in_c_code_ends_as_timeout_and_the_search_goes_on() -> None:
    budget = Budget(evaluations=10, candidate_minutes=1 / 60)  # 1 s each; stuck ones take 120 s
    search = surrogate_search(
        "random",
        budget=budget,
        objectives=[get_objective("val_error"), FunctionObjective(stuck_in_c, bounds=(1, 100))],
        initial=4,
    )
    started = time.perf_counter()
    search.run()
    elapsed = time.perf_counter() - started
    individuals = list(search.individuals.values())
    assert len(individuals) == 10
    stuck = [i for i in individuals if odd(i.genome)]
    assert stuck and {i.status for i in stuck} == {Status.TIMEOUT}
    assert all(i.ok for i in individuals if not odd(i.genome))
    # every stuck call was killed at its limit (a new helper starts after each kill: its
    # start-up, seconds on a loaded machine, is the slack; one stuck call alone is 120 s)
    assert elapsed < 90.0
    assert search.scorer.isolated._process is None  # stopped with the search


def test_a_cheap_objective_stuck_in_c_code_fails_only_its_children() -> None:
    stuck = FunctionObjective(stuck_in_c, cheap=True, bounds=(1, 100))
    search = surrogate_search(
        "random",
        budget=Budget(evaluations=8, candidate_minutes=1 / 60),
        objectives=[get_objective("val_error"), stuck],
        initial=4,
    )
    started = time.perf_counter()
    search.run()
    assert time.perf_counter() - started < 90.0  # one stuck call alone is 120 s
    individuals = list(search.individuals.values())
    assert len(individuals) == 8
    assert all(i.ok == (not odd(i.genome)) for i in individuals)


def test_an_objective_that_ends_its_process_fails_its_candidate_only() -> None:
    search = surrogate_search(
        "aging",
        budget=Budget(evaluations=10),
        objectives=[
            get_objective("val_error"),
            FunctionObjective(ends_its_process, bounds=(1, 100)),
        ],
        initial=4,
    )
    search.run()
    individuals = list(search.individuals.values())
    crashed = [i for i in individuals if odd(i.genome)]
    assert len(individuals) == 10 and crashed
    assert all("its process ended" in (i.error or "") for i in crashed)
    assert all("exit code 7" in (i.error or "") for i in crashed)
    assert all(i.ok for i in individuals if not odd(i.genome))


@pytest.mark.parametrize(
    "fn, reason",
    [
        (raises_for_odd, "ZeroDivisionError: a bug in a plug-in"),
        (returns_a_generator, "generator"),
    ],
)
def test_what_an_isolated_objective_raises_is_its_candidates_error(fn: object, reason: str) -> None:
    search = surrogate_search(
        "random",
        budget=Budget(evaluations=8),
        objectives=[get_objective("val_error"), FunctionObjective(fn)],  # type: ignore[arg-type]
        initial=4,
    )
    search.run()
    failed = [i for i in search.individuals.values() if not i.ok]
    assert failed and all(reason in (i.error or "") for i in failed)
    assert all(i.status is Status.ERROR for i in failed)


def test_isolated_and_in_process_objectives_give_the_same_run() -> None:
    """The helper computes exactly what the main process would."""

    def run(in_process: bool) -> list[tuple[str, dict[str, float]]]:
        counted = FunctionObjective(
            conv_count.fn, cheap=True, bounds=(0, 50), in_process=in_process
        )
        search = surrogate_search(
            "lemonade", budget=Budget(evaluations=16), objectives=["val_error", counted]
        )
        search.run()
        assert (search.scorer.isolated._local.get("conv_count") == "") is not in_process
        return [(i.genome.hash, i.objectives) for i in search.individuals.values()]

    assert run(in_process=False) == run(in_process=True)


def test_an_objective_that_cannot_leave_the_process_runs_here_and_says_so() -> None:
    offset = 1.0  # a closure: it cannot be pickled for the helper

    @objective(cheap=True, bounds=(0, 100))
    def nodes_plus(ctx: EvalContext) -> float:
        return len(ctx.genome.nodes) + offset

    search = surrogate_search(
        "random", budget=Budget(evaluations=6), objectives=["val_error", nodes_plus]
    )
    with pytest.warns(InProcessWarning, match="'nodes_plus' runs in the main process"):
        search.run()
    assert all(i.ok for i in search.individuals.values())
    assert search.scorer.isolated._process is None  # nothing to isolate: never started


def test_no_time_limit_keeps_every_objective_in_process() -> None:
    search = surrogate_search(
        "random",
        budget=Budget(evaluations=6, candidate_minutes=None),
        objectives=["val_error", FunctionObjective(conv_count.fn, cheap=True, bounds=(0, 50))],
    )
    search.run()
    assert search.scorer.isolated._local == {}  # never asked: computed in process


def test_a_helper_that_cannot_start_leaves_objectives_in_process_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_process() -> None:
        raise OSError("no more processes")

    monkeypatch.setattr("evonas.objectives.isolated._spawn", no_process)
    counted = FunctionObjective(conv_count.fn, cheap=True, bounds=(0, 50))
    search = surrogate_search(
        "random", budget=Budget(evaluations=6), objectives=["val_error", counted]
    )
    with pytest.warns(InProcessWarning, match="could not start .*no more processes"):
        search.run()
    assert len(search.individuals) == 6
    assert all(i.ok for i in search.individuals.values())
