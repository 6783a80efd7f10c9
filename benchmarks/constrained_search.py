"""Hard constraints pay: a search told the cap against the same search filtered afterwards.

On the surrogate evaluator (no training), LEMONADE with objectives val_error and params,
``--seeds`` seeds and ``--evaluations`` each: once with a hard constraint ``params <= cap``
(a cheap objective: infeasible children are repaired or never trained), once without it,
its networks over the cap dropped afterwards. Hypervolume of the feasible front within the
feasible region: log10 val_error in [0.01, 1], log10 params from 3 to log10(cap), reference point
(1, 1) there, so the figure measures the trade-off found under the cap.

Last line: ``feasible_hv_ratio=<median over seeds of capped / uncapped-then-filtered>
infeasible_trained=<networks over the cap that the capped runs trained>``. Target: ratio
>= 1.2, ``infeasible_trained=0``.

    python benchmarks/constrained_search.py
"""

from __future__ import annotations

import argparse
import statistics

from evonas.core import Budget, ObjectiveInfo, hypervolume, normalised_matrix, pareto_front
from evonas.objectives import get_objective
from evonas.testing.surrogate import surrogate_search


def feasible_hv(individuals: list, cap: float) -> float:
    """Hypervolume of the feasible front inside the feasible box: the reference point's
    params coordinate is the cap (log scale from 1e3), its error coordinate 1."""
    infos = [ObjectiveInfo("val_error"), ObjectiveInfo("params", bounds=(1e3, cap), log_scale=True)]
    feasible = [i for i in individuals if i.ok and i.objectives["params"] <= cap]
    return hypervolume(normalised_matrix(pareto_front(feasible, infos), infos))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--evaluations", type=int, default=300)
    parser.add_argument("--cap", default="20k", help="params <= cap (default 20k)")
    args = parser.parse_args()
    ratios, infeasible = [], 0
    for seed in range(args.seeds):
        capped_objective = get_objective("params", upper=args.cap)
        cap = float(capped_objective.upper or 0)
        budget = Budget(evaluations=args.evaluations)
        capped = surrogate_search(
            "lemonade", seed=seed, budget=budget, objectives=["val_error", capped_objective]
        )
        capped.run()
        free = surrogate_search("lemonade", seed=seed, budget=budget)
        free.run()
        a = list(capped.individuals.values())
        b = list(free.individuals.values())
        over = sum(i.objectives["params"] > cap for i in a if i.ok)
        infeasible += over
        hv_a, hv_b = feasible_hv(a, cap), feasible_hv(b, cap)
        ratios.append(hv_a / hv_b if hv_b > 0 else float("inf"))
        print(
            f"seed {seed}: capped hv={hv_a:.4f} ({len(a)} evaluated, {over} over the cap), "
            f"uncapped then filtered hv={hv_b:.4f} "
            f"({sum(i.ok and i.objectives['params'] <= cap for i in b)} of {len(b)} within it)"
        )
    print(f"cap params <= {cap:g}, {args.evaluations} evaluations, seeds 0..{args.seeds - 1}")
    print(f"feasible_hv_ratio={statistics.median(ratios):.4f} infeasible_trained={infeasible}")


if __name__ == "__main__":
    main()
