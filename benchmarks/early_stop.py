"""Does a search spend its whole budget? Configurations that used to run out of new
children early, on the surrogate evaluator (no training).

Runs ``lemonade`` with ``n_children = 1, n_accept = 1`` and ``nsga2`` with
``population_size = 4`` for ``--evaluations`` on ``--seeds`` seeds. A run that stops short
must say why (its recorded stop reason is printed).

Last line: ``min_evaluations=<n> budget=<evaluations>``. Target: ``min_evaluations`` equal
to the budget (or a stop reason for every run that stops short).

    python benchmarks/early_stop.py
"""

from __future__ import annotations

import argparse
from typing import Any

from evonas.core import Budget, Observer, SearchState
from evonas.strategy import get_strategy
from evonas.testing.surrogate import surrogate_search

CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "lemonade n_children=1 n_accept=1": ("lemonade", {"n_children": 1, "n_accept": 1}),
    "nsga2 population_size=4": ("nsga2", {"population_size": 4}),
}


class StopReason(Observer):
    """Keeps the reason the search gives when it stops."""

    reason = ""

    def on_stop(self, search: SearchState, reason: str) -> None:
        self.reason = reason


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--evaluations", type=int, default=200)
    args = parser.parse_args()
    counts = []
    for label, (name, params) in CONFIGS.items():
        for seed in range(args.seeds):
            stop = StopReason()
            search = surrogate_search(
                get_strategy(name, **params),
                seed=seed,
                budget=Budget(evaluations=args.evaluations),
                observers=[stop],
            )
            search.run()
            n = search.progress.evaluations
            counts.append(n)
            print(f"{label:<34} seed {seed}: {n:>4} evaluations; stopped: {stop.reason}")
    print(f"min_evaluations={min(counts)} budget={args.evaluations}")


if __name__ == "__main__":
    main()
