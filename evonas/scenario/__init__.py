"""Scenarios: TOML files parsed into typed settings, and resolved into a search (the
composition root, :mod:`evonas.scenario.build`)."""

from evonas.scenario.build import (
    Parts,
    build_search,
    load_data,
    make_executor,
    resolve,
    trainer_factory,
)
from evonas.scenario.parse import load_scenario, scenario_from_dict, scenario_to_dict
from evonas.scenario.schema import (
    BudgetConfig,
    DataConfig,
    ExecutorConfig,
    FidelityConfig,
    MorphismConfig,
    ObjectiveConfig,
    Scenario,
    ScenarioError,
    SpaceConfig,
    StrategyConfig,
    TrainerSettings,
)

__all__ = [
    "BudgetConfig",
    "DataConfig",
    "ExecutorConfig",
    "FidelityConfig",
    "MorphismConfig",
    "ObjectiveConfig",
    "Parts",
    "Scenario",
    "ScenarioError",
    "SpaceConfig",
    "StrategyConfig",
    "TrainerSettings",
    "build_search",
    "load_data",
    "load_scenario",
    "make_executor",
    "resolve",
    "scenario_from_dict",
    "scenario_to_dict",
    "trainer_factory",
]
