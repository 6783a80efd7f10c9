"""Search strategies behind one ask/tell interface.

Registered: ``lemonade``, ``aging``, ``nsga2``, ``random``.
"""

from evonas.strategy.aging import AgingEvolution
from evonas.strategy.base import (
    STRATEGIES,
    Proposal,
    Strategy,
    StrategyContext,
    get_strategy,
    register_strategy,
)
from evonas.strategy.lemonade import Lemonade
from evonas.strategy.nsga2 import NSGA2
from evonas.strategy.random_search import RandomSearch

__all__ = [
    "NSGA2",
    "STRATEGIES",
    "AgingEvolution",
    "Lemonade",
    "Proposal",
    "RandomSearch",
    "Strategy",
    "StrategyContext",
    "get_strategy",
    "register_strategy",
]
