"""Engine: the search loop and its parts (child factory, scorer, weight store), and the
evaluators that train (or, for tests, score) candidates."""

from evonas.engine.children import ChildFactory
from evonas.engine.evaluator import TrainingEvaluator
from evonas.engine.scorer import Scorer
from evonas.engine.search import Search
from evonas.engine.surrogate import SurrogateEvaluator, surrogate_error, surrogate_search
from evonas.engine.weights import WeightStore

__all__ = [
    "ChildFactory",
    "Scorer",
    "Search",
    "SurrogateEvaluator",
    "TrainingEvaluator",
    "WeightStore",
    "surrogate_error",
    "surrogate_search",
]
