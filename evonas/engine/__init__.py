"""Engine: the search loop, the Pareto archive, evaluators and the run's individuals."""

from evonas.engine.archive import ParetoArchive, hypervolume, non_dominated, nondominated_ranks
from evonas.engine.evaluator import (
    Evaluator,
    SurrogateEvaluator,
    TrainingEvaluator,
    surrogate_error,
)
from evonas.engine.individual import Candidate, Individual
from evonas.engine.search import Budget, Progress, Search

__all__ = [
    "Budget",
    "Candidate",
    "Evaluator",
    "Individual",
    "ParetoArchive",
    "Progress",
    "Search",
    "SurrogateEvaluator",
    "TrainingEvaluator",
    "hypervolume",
    "non_dominated",
    "nondominated_ranks",
    "surrogate_error",
]
