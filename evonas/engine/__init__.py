"""Engine: the search loop and its parts (child factory, scorer, weight store), and the one
function that assembles them (:func:`assemble_search`)."""

from evonas.engine.assemble import assemble_search
from evonas.engine.children import ChildFactory
from evonas.engine.scorer import Scorer
from evonas.engine.search import Search
from evonas.engine.weights import WeightStore

__all__ = ["ChildFactory", "Scorer", "Search", "WeightStore", "assemble_search"]
