"""Scenarios: TOML files parsed into typed settings, and resolved into search parts."""

from evonas.scenario.build import Parts, check_scenario, load_data
from evonas.scenario.parse import load_scenario, scenario_from_dict, scenario_to_dict
from evonas.scenario.schema import (
    BudgetConfig,
    DataConfig,
    ExecutorConfig,
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
    "MorphismConfig",
    "ObjectiveConfig",
    "Parts",
    "Scenario",
    "ScenarioError",
    "SpaceConfig",
    "StrategyConfig",
    "TrainerSettings",
    "check_scenario",
    "load_data",
    "load_scenario",
    "scenario_from_dict",
    "scenario_to_dict",
]
