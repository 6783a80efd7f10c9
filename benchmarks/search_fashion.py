"""A real search on Fashion-MNIST, on the available device, for a fixed wall-clock budget.

Initial networks are trained from scratch, children fine-tune their inherited weights
(``--child-epochs``), approximate morphisms distil from the parent; objectives val_error and
params. Writes its run record (events.jsonl, weights, pareto.csv) under ``--out``.

Last line: ``front_size=<n> best_val_acc=<x> smallest_params_at_85pct=<n> evaluations=<n>``
(``smallest_params_at_85pct``: fewest parameters among networks with validation accuracy
>= 0.85; ``none`` if no network got there).

    python benchmarks/search_fashion.py --strategy lemonade --minutes 10
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from evonas.data import load_fashion_mnist
from evonas.engine import Budget, Search, TrainingEvaluator
from evonas.engine.weights import WeightStore
from evonas.objectives import get_objective
from evonas.record import RunRecord, environment
from evonas.space import initial_genomes
from evonas.strategy import get_strategy
from evonas.trainer import TrainConfig, Trainer, resolve_device


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
    trainer_cfg = TrainConfig(device=args.device, batch_size=128, warmup=0.02)
    dev = resolve_device(args.device)
    fraction = args.fraction if args.fraction is not None else (1.0 if dev.type == "cuda" else 0.25)
    data = load_fashion_mnist(train_fraction=fraction, seed=args.seed)
    trainer = Trainer(data, trainer_cfg)
    objectives = [get_objective("val_error"), get_objective("params")]
    out = Path(args.out or f"results/bench-{args.strategy}-{dev.type}-{int(time.time())}")
    record = RunRecord(out)
    config = {"benchmark": "search_fashion", **vars(args), "fraction": fraction}
    record.create(config, environment(dev.type))
    search: Search

    def on_individual(ind):  # type: ignore[no-untyped-def]
        record.append(ind)
        record.write_pareto(search.archive.front(), objectives)
        acc = 1 - ind.objectives["val_error"] if ind.ok else float("nan")
        print(
            f"[{search.progress.seconds:6.0f}s] #{ind.id:<3} {ind.status:<8} acc={acc:.4f} "
            f"params={ind.objectives['params']:.0f} front={len(search.archive.front())} "
            f"hv={search.progress.hypervolume:.4f} {ind.genome.short_summary()}",
            flush=True,
        )

    search = Search(
        strategy=get_strategy(args.strategy),
        evaluator=TrainingEvaluator(
            trainer, child_epochs=args.child_epochs, scratch_epochs=args.scratch_epochs
        ),
        objectives=objectives,
        initial=initial_genomes(np.random.default_rng(args.seed), 5),
        budget=Budget(seconds=args.minutes * 60),
        seed=args.seed,
        on_individual=on_individual,
        weights=WeightStore(record.save_weights, record.load_weights),
    )
    archive = search.run()
    front = archive.front()
    ok = [i for i in search.individuals.values() if i.ok]
    best = max((1 - i.objectives["val_error"] for i in ok), default=float("nan"))
    good = [i.objectives["params"] for i in ok if 1 - i.objectives["val_error"] >= 0.85]
    smallest = f"{min(good):.0f}" if good else "none"
    print(
        f"run record: {out}; device {dev.type}, threads {torch.get_num_threads()}, data fraction "
        f"{fraction}, {search.progress.epochs:.1f} training epochs, hv={archive.hypervolume():.4f}"
    )
    print(
        f"front_size={len(front)} best_val_acc={best:.4f} smallest_params_at_85pct={smallest} "
        f"evaluations={search.progress.evaluations}"
    )


if __name__ == "__main__":
    main()
