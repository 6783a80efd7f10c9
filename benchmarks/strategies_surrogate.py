"""Do the strategies beat an honest random search? Every strategy on the surrogate problem.

Runs LEMONADE, aging evolution and NSGA-II for ``--evaluations`` each, on ``--seeds`` seeds,
with the surrogate evaluator (no training: a known error function of the architecture) and
objectives (val_error, params). The baseline is random search that reaches as far into the
space as the strategies did: per seed, each random candidate is an initial network changed by
1..D random morphisms, D the deepest lineage (morphisms from an initial network) any of the
three strategies reached on that seed. The old baseline (at most 8 morphisms) is shown too.

Hypervolume uses the objectives' fixed normalisation (log10 val_error in [0.01, 1], log10
params in [1e3, 1e8]) and the reference point (1, 1) in that normalised space; both printed.

Last line: ``hv_vs_random lemonade=<r> aging=<r> nsga2=<r>``, each the median over seeds of
(strategy's final hypervolume / honest random search's, same seed). Target: every ratio >= 1.1.

    python benchmarks/strategies_surrogate.py --seeds 5 --evaluations 1000
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from evonas.core import Budget, lineage_depths
from evonas.engine.search import Search
from evonas.space.sampler import initial_genomes
from evonas.strategy.random_search import RandomSearch
from evonas.testing.surrogate import surrogate_search

STRATEGIES = ("lemonade", "aging", "nsga2")


def run(strategy: str | RandomSearch, seed: int, evaluations: int) -> tuple[float, int, Search]:
    # the benchmark's own five initial networks, drawn as they always were (numpy's
    # generator seeded with the seed itself), so its figures stay comparable across versions
    initial = initial_genomes(np.random.default_rng(seed), 5)
    search = surrogate_search(
        strategy, seed=seed, budget=Budget(evaluations=evaluations), initial=initial
    )
    archive = search.run()
    return archive.hypervolume(), len(archive.front()), search


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--evaluations", type=int, default=1000)
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds first..first+seeds-1 (other seeds "
        "than the figure's, to check a choice made on these)",
    )
    args = parser.parse_args()
    hv: dict[str, list[float]] = {s: [] for s in (*STRATEGIES, "random", "random8")}
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for seed in seeds:
        reach = 1
        for name in STRATEGIES:
            started = time.perf_counter()
            value, front, search = run(name, seed, args.evaluations)
            depth = max(
                lineage_depths(sorted(search.individuals.values(), key=lambda i: i.id)).values()
            )
            reach = max(reach, depth)
            hv[name].append(value)
            print(
                f"seed {seed} {name:<9} hv={value:.4f} front={front:<3} deepest={depth:<4} "
                f"({time.perf_counter() - started:.1f}s)",
                flush=True,
            )
        for label, cap in (("random", reach), ("random8", 8)):
            value, front, _ = run(RandomSearch(max_morphisms=cap), seed, args.evaluations)
            hv[label].append(value)
            print(f"seed {seed} {label:<9} hv={value:.4f} front={front:<3} max_morphisms={cap}")
    for name, values in hv.items():
        print(f"{name:<9} median hv={statistics.median(values):.4f}")
    ratio = {
        (n, base): statistics.median(a / b for a, b in zip(hv[n], hv[base], strict=True))
        for n in STRATEGIES
        for base in ("random", "random8")
    }
    print(
        "vs random (at most 8 morphisms, the old baseline): "
        + " ".join(f"{n}={ratio[(n, 'random8')]:.4f}" for n in STRATEGIES)
    )
    scales = ", ".join(o.scale for o in search.archive.objectives)  # the same in every run
    print(
        f"seeds {seeds[0]}..{seeds[-1]}, {args.evaluations} evaluations each; hypervolume "
        f"reference point 1 on each normalised objective: {scales}"
    )
    print("hv_vs_random " + " ".join(f"{n}={ratio[(n, 'random')]:.4f}" for n in STRATEGIES))


if __name__ == "__main__":
    main()
