"""The core: every noun evonas passes around, the Pareto maths, budgets, limits, observers
and the one plug-in mechanism. Everything else imports this package; it imports nothing of
evonas but the genome (:mod:`evonas.space.genome`).

Data flow: a strategy's :class:`Proposal` becomes a :class:`Candidate` (child factory), an
:class:`Evaluator` trains it into a :class:`TrainResult`, and the scorer makes an
:class:`Individual`, which the :class:`ParetoArchive` and the strategy receive.
"""

from evonas.core.budget import Budget, Progress
from evonas.core.config import ConfigError, SpaceLimits, check
from evonas.core.evaluator import Evaluator
from evonas.core.individual import (
    Candidate,
    Individual,
    MorphismRecord,
    Proposal,
    Site,
    StateDict,
    Status,
    TrainFacts,
    TrainResult,
    lineage_depths,
)
from evonas.core.observer import Observer, SearchState, WeightBacking
from evonas.core.pareto import (
    DIRECTIONS,
    ObjectiveInfo,
    ParetoArchive,
    constrained_ranks,
    hypervolume,
    minimised_matrix,
    non_dominated,
    nondominated_ranks,
    normalised_matrix,
    pareto_front,
    violation,
)
from evonas.core.registry import Registry, RegistryError, import_object

__all__ = [
    "DIRECTIONS",
    "Budget",
    "Candidate",
    "ConfigError",
    "Evaluator",
    "Individual",
    "MorphismRecord",
    "ObjectiveInfo",
    "Observer",
    "ParetoArchive",
    "Progress",
    "Proposal",
    "Registry",
    "RegistryError",
    "SearchState",
    "Site",
    "SpaceLimits",
    "StateDict",
    "Status",
    "TrainFacts",
    "TrainResult",
    "WeightBacking",
    "check",
    "constrained_ranks",
    "hypervolume",
    "import_object",
    "lineage_depths",
    "minimised_matrix",
    "non_dominated",
    "nondominated_ranks",
    "normalised_matrix",
    "pareto_front",
    "violation",
]
