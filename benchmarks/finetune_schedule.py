"""Which fine-tuning schedule keeps an inherited child's warm start? (Fashion-MNIST)

1. Train ``--parents`` initial-style networks from scratch (``--parent-epochs``) on a share of
   Fashion-MNIST (the quick scenario's data).
2. From each, make children the way a search does: ``--children`` random sequences of one to
   three function-preserving morphisms, and one approximate child per approximate morphism.
3. Fine-tune every preserving child (and the parent itself, unchanged) for ``--child-epochs``
   under each schedule in ``--lrs`` x ``--warmups``; fine-tune every approximate child under
   the best schedule with and without distillation from the parent.

Prints the mean validation error per schedule and per distillation setting, paired over the
same children and seeds.

Last line: ``best_child_lr=<lr> best_child_warmup=<w> mean_val_error=<e> default_val_error=<e>
distill_gain=<mean error without - with distillation>``.

    python benchmarks/finetune_schedule.py
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from dataclasses import replace

import numpy as np
import torch

from evonas.core.individual import StateDict
from evonas.data import load_fashion_mnist
from evonas.morphism import get_morphism, list_morphisms
from evonas.morphism.base import NotApplicable
from evonas.space import Genome, initial_genomes
from evonas.trainer import Trainer, TrainSettings

Child = tuple[str, Genome, StateDict, tuple[str, ...]]  # (label, genome, state, calibrate)


def children_of(
    genome: Genome, state: StateDict, n: int, rng: np.random.Generator
) -> tuple[list[Child], list[Child]]:
    """``n`` preserving children (1-3 random preserving morphisms) and one approximate child
    per approximate morphism that applies."""
    preserving: list[Child] = [("parent", genome, state, ())]
    names = list_morphisms(preserving=True)
    while len(preserving) < n + 1:
        g, s, calibrate, labels = genome, state, [], []
        for _ in range(int(rng.integers(1, 4))):
            name = str(rng.choice(names))
            try:
                child = get_morphism(name).apply(g, s, rng)
            except NotApplicable:
                continue
            assert child.state is not None
            g, s = child.genome, child.state
            calibrate += child.record.details.get("calibrate", [])
            labels.append(name)
        if labels:
            preserving.append(("+".join(labels), g, s, tuple(calibrate)))
    approximate: list[Child] = []
    for name in list_morphisms(preserving=False):
        try:
            child = get_morphism(name).apply(genome, state, rng)
        except NotApplicable:
            continue
        assert child.state is not None
        approximate.append((name, child.genome, child.state, ()))
    return preserving, approximate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--fraction", type=float, default=0.2, help="share of training images")
    parser.add_argument("--parents", type=int, default=3)
    parser.add_argument("--children", type=int, default=3, help="preserving children a parent")
    parser.add_argument("--parent-epochs", type=float, default=2.0)
    parser.add_argument("--child-epochs", type=float, default=1.0)
    parser.add_argument("--lrs", default="0.2,0.1,0.05,0.02")
    parser.add_argument("--warmups", default="0.02,0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    started = time.perf_counter()
    data = load_fashion_mnist(train_fraction=args.fraction, seed=args.seed)
    print(data.describe())
    base = TrainSettings()
    trainer = Trainer(data, base, device=args.device)
    rng = np.random.default_rng(args.seed)
    schedules = list(
        itertools.product(
            [float(v) for v in args.lrs.split(",")], [float(v) for v in args.warmups.split(",")]
        )
    )
    errors: dict[tuple[float, float], list[float]] = {s: [] for s in schedules}
    approximate: list[tuple[Child, Genome, StateDict]] = []
    for p, genome in enumerate(initial_genomes(rng, args.parents, stages=(1, 2))):
        result = trainer.train(genome, seed=args.seed + p, epochs=args.parent_epochs)
        assert result.ok and result.state is not None, result.error
        print(f"parent {p}: {genome} val_error={result.val_error:.4f}", flush=True)
        preserving, approx = children_of(genome, result.state, args.children, rng)
        approximate += [(c, genome, result.state) for c in approx]
        for label, g, s, calibrate in preserving:
            line = []
            for lr, warm in schedules:
                trainer.config = replace(base, child_lr=lr, child_warmup=warm)
                r = trainer.train(
                    g, s, seed=args.seed, epochs=args.child_epochs, calibrate=calibrate
                )
                errors[(lr, warm)].append(r.val_error if r.ok else 1.0)
                line.append(f"{r.val_error:.4f}")
            print(f"  {label:<40} " + " ".join(line), flush=True)
    print("preserving children, mean val_error after fine-tuning, per (child_lr, child_warmup):")
    means = {s: statistics.fmean(v) for s, v in errors.items()}
    for (lr, warm), m in means.items():
        print(f"  lr={lr:<5} warmup={warm:<5} mean_val_error={m:.4f} (n={len(errors[(lr, warm)])})")
    best = min(means, key=means.__getitem__)
    default = (base.lr, base.warmup)
    trainer.config = replace(base, child_lr=best[0], child_warmup=best[1])
    gains = []
    for (label, g, s, _), parent, parent_state in approximate:
        with_d = trainer.train(
            g, s, seed=args.seed, epochs=args.child_epochs, teacher=(parent, parent_state)
        )
        without = trainer.train(g, s, seed=args.seed, epochs=args.child_epochs)
        gains.append(without.val_error - with_d.val_error)
        print(
            f"  {label:<16} distilled={with_d.val_error:.4f} plain={without.val_error:.4f}",
            flush=True,
        )
    gain = statistics.fmean(gains) if gains else float("nan")
    wins = sum(g > 0 for g in gains)
    print(
        f"distillation (best schedule): helped in {wins} of {len(gains)} approximate children; "
        f"data fraction {args.fraction}, {args.parents} parents, seed {args.seed}, "
        f"device {trainer.device.type}, threads {torch.get_num_threads()}, "
        f"{time.perf_counter() - started:.0f}s"
    )
    print(
        f"best_child_lr={best[0]:g} best_child_warmup={best[1]:g} "
        f"mean_val_error={means[best]:.4f} "
        f"default_val_error={means.get(default, float('nan')):.4f} distill_gain={gain:+.4f}"
    )


if __name__ == "__main__":
    main()
