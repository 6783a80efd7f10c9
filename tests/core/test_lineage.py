"""Lineage depth: how far from its initial network each evaluated network is."""

from __future__ import annotations

from evonas.core import Budget, lineage_depths
from evonas.testing.surrogate import surrogate_search


def test_depth_adds_the_morphisms_along_the_lineage() -> None:
    search = surrogate_search("aging", seed=1, budget=Budget(evaluations=60))
    search.run()
    history = sorted(search.individuals.values(), key=lambda i: i.id)
    depth = lineage_depths(history)
    assert set(depth) == {i.id for i in history}
    for ind in history:
        if ind.parent_id is None:
            assert depth[ind.id] == len(ind.morphisms)
        else:
            assert depth[ind.id] == depth[ind.parent_id] + len(ind.morphisms)
    assert max(depth.values()) > 1  # evolution builds on its children
