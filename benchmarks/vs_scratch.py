"""Do evonas's strategies beat an honest random search at equal wall time? (Fashion-MNIST)

On the quick scenario's data, space, objectives and trainer (``scenarios/quick.toml``), each
evonas strategy (LEMONADE, aging evolution, NSGA-II: children inherit and fine-tune their
parent's weights) runs for ``--minutes`` of wall time per seed. Then random search runs for
the same time with the same trainer: every candidate an initial network changed by 1..D
random morphisms and **trained from scratch** (``scratch_epochs``), D the deepest lineage
(morphisms from an initial network) any strategy reached on that seed, so the random
architectures cover the space the strategies explored.

Hypervolume (val_error, params) uses the objectives' fixed normalisation (log10 val_error in
[0.01, 1], log10 params in [1e3, 1e8]) and the reference point (1, 1) there; printed with the
figure.

Last line: ``hv_ratio lemonade=<r> aging=<r> nsga2=<r> minutes=<m> seeds=<n>``, each the
median over seeds of (strategy's hypervolume / random search's, same seed).
Target: every ratio >= 1.3. About ``4 x seeds x minutes`` of wall time:

    python benchmarks/vs_scratch.py --minutes 4 --seeds 2

``--first-seed K`` runs seeds K..K+seeds-1 instead of 0..seeds-1: other seeds (and
validation splits) than the figure's, at the same cost.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from pathlib import Path

import torch

import evonas
from evonas.core import Budget, Status, lineage_depths
from evonas.record.run import Run
from evonas.scenario import Scenario, StrategyConfig, load_scenario

STRATEGIES = ("lemonade", "aging", "nsga2")


def search(base: Scenario, strategy: StrategyConfig, seed: int, minutes: float, out: Path) -> Run:
    scenario = replace(
        base,
        name=f"{base.name}-{strategy.name}-{seed}",
        seed=seed,
        strategy=strategy,
        budget=Budget(minutes=minutes),
    )
    return evonas.run(scenario, out=out / f"{strategy.name}-{seed}")


def summary(run: Run) -> str:
    history = run.history()
    diverged = sum(i.status == Status.DIVERGED for i in history)
    best = min((i.objectives["val_error"] for i in history if i.ok), default=float("nan"))
    return (
        f"hv={run.hypervolume():.4f} evaluations={len(history)} front={len(run.pareto_front())} "
        f"best_val_error={best:.4f} diverged={diverged}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1"
    )
    parser.add_argument("--scenario", default="scenarios/quick.toml")
    parser.add_argument("--out", default=None, help="folder of the run records")
    args = parser.parse_args()
    out = Path(args.out or f"results/vs-scratch-{int(time.time())}")
    hv: dict[str, list[float]] = {s: [] for s in (*STRATEGIES, "random")}
    started = time.perf_counter()
    scales = ""
    base = load_scenario(args.scenario)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for seed in seeds:
        reach = 1
        for name in STRATEGIES:
            params = dict(base.strategy.params) if name == "lemonade" else {}
            run = search(base, StrategyConfig(name, params), seed, args.minutes, out)
            depth = max(lineage_depths(run.history()).values(), default=0)
            reach = max(reach, depth)
            hv[name].append(run.hypervolume())
            scales = ", ".join(o.scale for o in run.objectives)
            print(f"seed {seed} {name:<9} {summary(run)} deepest={depth}", flush=True)
        strategy = StrategyConfig("random", {"max_morphisms": reach})
        run = search(base, strategy, seed, args.minutes, out)
        hv["random"].append(run.hypervolume())
        print(f"seed {seed} random    {summary(run)} max_morphisms={reach}", flush=True)
    ratio = {
        n: statistics.median(a / max(b, 1e-12) for a, b in zip(hv[n], hv["random"], strict=True))
        for n in STRATEGIES
    }
    print(
        f"run records under {out}; scenario {args.scenario}; seeds {seeds[0]}..{seeds[-1]}; "
        f"device "
        f"{'cuda' if torch.cuda.is_available() else 'cpu'}, threads {torch.get_num_threads()}; "
        f"{(time.perf_counter() - started) / 60:.1f} minutes; hypervolume reference point 1 "
        f"on each normalised objective: {scales}"
    )
    print(
        "hv_ratio "
        + " ".join(f"{n}={r:.4f}" for n, r in ratio.items())
        + f" minutes={args.minutes:g} seeds={args.seeds}"
    )


if __name__ == "__main__":
    main()
