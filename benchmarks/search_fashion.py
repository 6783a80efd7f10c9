"""A real search on Fashion-MNIST, on the available device, for a fixed wall-clock budget.

Initial networks are trained from scratch, children fine-tune their inherited weights
(``--child-epochs``; approximate children too, without distillation: off by default);
objectives val_error and params. Writes its run record (events.jsonl, weights, pareto.csv)
under ``--out``.

Last line: ``front_size=<n> best_val_acc=<x> smallest_params_at_85pct=<n> evaluations=<n>``
(``smallest_params_at_85pct``: fewest parameters among networks with validation accuracy
>= 0.85; ``none`` if no network got there). The line before it gives the share of children
whose training diverged (target 0).

    python benchmarks/search_fashion.py --strategy lemonade --minutes 10
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch

import evonas
from evonas.core import Budget, Individual, Observer, SearchState, Status
from evonas.scenario import DataConfig, Scenario, StrategyConfig
from evonas.trainer import TrainSettings, resolve_device


class Log(Observer):
    """One line per evaluated network."""

    def on_individual(self, search: SearchState, ind: Individual) -> None:
        acc = 1 - ind.objectives["val_error"] if ind.ok else float("nan")
        print(
            f"[{search.progress.seconds:6.0f}s] #{ind.id:<3} {ind.status:<8} acc={acc:.4f} "
            f"params={ind.objectives['params']:.0f} front={len(search.archive.front())} "
            f"hv={search.progress.hypervolume:.4f} {ind.genome.short_summary()}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--strategy", default="lemonade")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--fraction",
        type=float,
        default=None,
        help="share of training images (default: 0.25 on CPU, 1.0 on CUDA)",
    )
    parser.add_argument("--child-epochs", type=float, default=1.0)
    parser.add_argument("--scratch-epochs", type=float, default=3.0)
    parser.add_argument("--out", default=None, help="run directory (default results/bench-...)")
    args = parser.parse_args()
    dev = resolve_device(args.device)
    fraction = args.fraction if args.fraction is not None else (1.0 if dev.type == "cuda" else 0.25)
    name = f"bench-{args.strategy}-{dev.type}-{int(time.time())}"
    scenario = replace(
        Scenario(name),
        seed=args.seed,
        device=args.device,
        data=DataConfig(train_fraction=fraction),
        strategy=StrategyConfig(args.strategy),
        trainer=TrainSettings(child_epochs=args.child_epochs, scratch_epochs=args.scratch_epochs),
        budget=Budget(minutes=args.minutes),
    )
    # the same path as `evonas run`: the run directory opens with `evonas show`
    run = evonas.run(scenario, out=args.out or f"results/{name}", observers=[Log()])
    history = run.history()
    ok = [i for i in history if i.ok]
    best = max((1 - i.objectives["val_error"] for i in ok), default=float("nan"))
    good = [i.objectives["params"] for i in ok if 1 - i.objectives["val_error"] >= 0.85]
    smallest = f"{min(good):.0f}" if good else "none"
    epochs = sum(i.train.epochs for i in history)
    children = [i for i in history if i.parent_id is not None]
    diverged = [i for i in children if i.status == Status.DIVERGED]
    by_morphism = sorted({m.name for i in diverged for m in i.morphisms})
    print(
        f"diverged children: {len(diverged)} of {len(children)} "
        f"(share {len(diverged) / max(1, len(children)):.3f}; target 0)"
        + (f", morphisms involved: {', '.join(by_morphism)}" if diverged else "")
    )
    print(
        f"run record: {run.dir} (evonas show {run.dir}); device {dev.type}, threads "
        f"{torch.get_num_threads()}, data fraction {fraction}, {epochs:.1f} training epochs, "
        f"hv={run.hypervolume():.4f}; stopped: {run.stop_reason()}"
    )
    print(
        f"front_size={len(run.pareto_front())} best_val_acc={best:.4f} "
        f"smallest_params_at_85pct={smallest} evaluations={len(history)}"
    )


if __name__ == "__main__":
    main()
