"""One plug-in mechanism: every kind registers, creates, lists and fails the same way."""

from __future__ import annotations

import pytest

from evonas.core import RegistryError
from evonas.data import DATASETS, TaskData
from evonas.executor import EXECUTORS, Executor
from evonas.morphism import MORPHISMS, Morphism
from evonas.objectives import OBJECTIVES, EvalContext, Objective
from evonas.strategy import STRATEGIES, Strategy

REGISTRIES = {
    "morphism": (MORPHISMS, Morphism, "widen"),
    "strategy": (STRATEGIES, Strategy, "aging"),
    "objective": (OBJECTIVES, Objective, "params"),
    "dataset": (DATASETS, TaskData, "synthetic"),
    "executor": (EXECUTORS, Executor, "inprocess"),
}


@pytest.mark.parametrize("kind", sorted(REGISTRIES))
def test_every_kind_lists_and_reports_unknown_names_alike(kind: str) -> None:
    registry, _, example = REGISTRIES[kind]
    assert example in registry.names() and registry.names() == sorted(registry.names())
    with pytest.raises(RegistryError, match=rf"unknown {kind} 'nope'.*registered: .*{example}"):
        registry.get("nope")
    with pytest.raises(RegistryError, match="cannot import module 'no_such_module'"):
        registry.create("no_such_module:thing")


@pytest.mark.parametrize("kind", ["morphism", "strategy", "objective", "executor"])
def test_the_name_is_written_once_and_classes_of_other_kinds_are_refused(kind: str) -> None:
    registry, base, _ = REGISTRIES[kind]
    cls = type("Mine", (base,), {})  # abstract, never instantiated here
    try:
        registry.register("mine_for_test", cls)
        assert cls.name == "mine_for_test"
        with pytest.raises(ValueError, match="already registered"):
            registry.register("mine_for_test", cls)
    finally:
        registry.unregister("mine_for_test")
    with pytest.raises(TypeError, match=f"is not a {base.__name__}"):
        registry.register("not_mine", int)


def test_create_passes_parameters_and_names_the_ones_that_do_not_exist() -> None:
    assert STRATEGIES.create("aging", population_size=7).population_size == 7  # type: ignore[attr-defined]
    with pytest.raises(RegistryError, match=r"no parameter\(s\) \['popsize'\]"):
        STRATEGIES.create("aging", popsize=7)


def test_a_plain_function_objective_is_adapted() -> None:
    def conv_count(ctx: EvalContext) -> float:
        return float(sum(n.op == "conv" for n in ctx.genome.nodes))

    objective = OBJECTIVES.create(conv_count, direction="max")
    assert isinstance(objective, Objective) and objective.name == "conv_count"
    assert objective.direction == "max"
