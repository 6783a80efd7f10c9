"""How much training does weight inheritance save? (Fashion-MNIST)

1. Train a parent (``simple_genome((16, 32))``) for ``--parent-epochs`` on a fraction of
   Fashion-MNIST; its validation accuracy is the target.
2. Apply a function-preserving morphism (``deepen``, then ``widen``) to get a child.
3. For budgets 1/8, 1/4, 1/2, 1, 2, 3, 4, ... epochs, train the child (a full cosine
   schedule per budget, the trainer's defaults: an inherited fine-tune under
   ``child_lr_epochs`` peaks lower, every network's batch norms are re-estimated before it
   is evaluated) with inherited weights and, separately, from scratch; the epochs to reach
   the target are the smallest budget whose validation accuracy is at least the target.

Repeated for ``--seeds`` seeds (parent, morphisms and both trainings seeded alike; one data
split, ``--seed``'s). One seed's speedup sits on a step of the budget grid and moves with the
host's numerics (seed 0 read 2 on one CPU and 8 on another), so the figure is the median
seed's.

Last line: ``inheritance_speedup=<epochs_scratch / epochs_inherited> target_acc=<float>``, the
median seed's speedup and its parent's accuracy (target: >= 4).

    python benchmarks/inheritance_gain.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from evonas.data import load_fashion_mnist
from evonas.morphism import get_morphism
from evonas.space import simple_genome
from evonas.trainer import Trainer, TrainSettings

BUDGETS = (0.125, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0)


def epochs_to_target(
    trainer: Trainer, genome, state, target: float, seed: int, label: str, calibrate=()
) -> float:  # type: ignore[no-untyped-def]
    for budget in BUDGETS:
        result = trainer.train(genome, state, seed=seed, epochs=budget, calibrate=calibrate)
        acc = 1.0 - result.val_error
        print(f"  {label:<9} budget {budget:>5} epochs: val_acc={acc:.4f} ({result.seconds:.1f}s)")
        if acc >= target:
            return budget
    return float("inf")


def speedup(trainer: Trainer, seed: int, parent_epochs: float) -> tuple[float, float]:
    """(epochs from scratch / epochs inherited, the parent's accuracy) for one seed."""
    parent = simple_genome(channels=(16, 32))
    result = trainer.train(parent, seed=seed, epochs=parent_epochs)
    assert result.ok and result.state is not None, result.error
    target = 1.0 - result.val_error
    print(f"seed {seed}: parent {parent}: {parent_epochs} epochs -> val_acc={target:.4f}")
    rng = np.random.default_rng(seed)
    child = get_morphism("deepen").apply(parent, result.state, rng)
    # as the search's evaluator does: calibrate deepen's BN only when the settings say so
    calibrate = tuple(child.record.details["calibrate"]) if trainer.config.calibrate else ()
    child = get_morphism("widen").apply(child.genome, child.state, rng)
    print(f"seed {seed}: child  {child.genome} (deepen, then widen)")
    inherited = epochs_to_target(
        trainer, child.genome, child.state, target, seed, "inherited", calibrate
    )
    scratch = epochs_to_target(trainer, child.genome, None, target, seed, "scratch")
    print(f"seed {seed}: epochs to reach {target:.4f}: inherited {inherited}, scratch {scratch}")
    return scratch / inherited, target


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--fraction", type=float, default=0.25, help="share of the training images")
    parser.add_argument("--parent-epochs", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0, help="the first seed (and the data split's)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds seed..seed+seeds-1")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error(f"--seeds must be >= 1, got {args.seeds}")
    started = time.perf_counter()
    data = load_fashion_mnist(train_fraction=args.fraction, seed=args.seed)
    print(data.describe())
    trainer = Trainer(data, TrainSettings(warmup=0.05), device=args.device)
    runs = {
        s: speedup(trainer, s, args.parent_epochs) for s in range(args.seed, args.seed + args.seeds)
    }
    ratio, seed = statistics.median_low((r, s) for s, (r, _) in runs.items())
    print(
        "per seed: "
        + ", ".join(f"{s}: {r:.2f} (target {t:.4f})" for s, (r, t) in runs.items())
        + f"; median seed {seed}; data fraction {args.fraction}, device {trainer.device.type}, "
        f"bf16 {trainer.bf16}, threads {torch.get_num_threads()}, "
        f"{time.perf_counter() - started:.0f}s"
    )
    print(f"inheritance_speedup={ratio:.2f} target_acc={runs[seed][1]:.4f}")


if __name__ == "__main__":
    main()
