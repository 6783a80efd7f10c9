"""Do the strategies beat random search? Every strategy on the surrogate problem.

Runs LEMONADE, aging evolution, NSGA-II and random search for ``--evaluations`` each, on
``--seeds`` seeds, with the surrogate evaluator (no training: a known error function of the
architecture) and objectives (val_error, params). Hypervolume uses the fixed normalisation
of the objectives (val_error in [0, 1], log10 params in [3, 8]) and reference point (1, 1).

Last line: ``hv_vs_random lemonade=<r> aging=<r> nsga2=<r>``, each the median over seeds of
(strategy's final hypervolume / random search's, same seed). Target: every ratio > 1.0.

    python benchmarks/strategies_surrogate.py --seeds 5 --evaluations 1000
"""

from __future__ import annotations

import argparse
import statistics
import time

from evonas.core import Budget
from evonas.engine import surrogate_search

STRATEGIES = ("lemonade", "aging", "nsga2", "random")


def run(strategy: str, seed: int, evaluations: int) -> tuple[float, int, float]:
    started = time.perf_counter()
    search = surrogate_search(strategy, seed=seed, budget=Budget(evaluations=evaluations))
    archive = search.run()
    return archive.hypervolume(), len(archive.front()), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--evaluations", type=int, default=1000)
    args = parser.parse_args()
    hv: dict[str, list[float]] = {s: [] for s in STRATEGIES}
    for seed in range(args.seeds):
        for name in STRATEGIES:
            value, front, seconds = run(name, seed, args.evaluations)
            hv[name].append(value)
            print(f"seed {seed} {name:<9} hv={value:.4f} front={front:<3} ({seconds:.1f}s)")
    for name in STRATEGIES:
        print(f"{name:<9} median hv={statistics.median(hv[name]):.4f}")
    ratios = {
        n: statistics.median(a / b for a, b in zip(hv[n], hv["random"], strict=True))
        for n in STRATEGIES[:-1]
    }
    print(
        f"seeds 0..{args.seeds - 1}, {args.evaluations} evaluations each, "
        "objectives val_error+params"
    )
    print("hv_vs_random " + " ".join(f"{n}={r:.4f}" for n, r in ratios.items()))


if __name__ == "__main__":
    main()
