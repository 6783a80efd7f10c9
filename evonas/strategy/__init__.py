"""Search strategies behind one ask/tell interface.

Registered: ``lemonade``, ``aging``, ``nsga2``, ``random``, ``asha`` (see :func:`list_strategies`).
"""

from evonas.strategy.aging import AgingEvolution
from evonas.strategy.asha import ASHA
from evonas.strategy.base import (
    STRATEGIES,
    Strategy,
    StrategyContext,
    get_strategy,
    register_strategy,
)
from evonas.strategy.lemonade import Lemonade
from evonas.strategy.nsga2 import NSGA2
from evonas.strategy.predictor import AcceptPredicted
from evonas.strategy.random_search import RandomSearch

list_strategies = STRATEGIES.names

__all__ = [
    "ASHA",
    "NSGA2",
    "STRATEGIES",
    "AcceptPredicted",
    "AgingEvolution",
    "Lemonade",
    "RandomSearch",
    "Strategy",
    "StrategyContext",
    "get_strategy",
    "list_strategies",
    "register_strategy",
]
