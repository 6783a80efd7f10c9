"""How much training does weight inheritance save? (Fashion-MNIST)

1. Train a parent (``simple_genome((16, 32))``) for ``--parent-epochs`` on a fraction of
   Fashion-MNIST; its validation accuracy is the target.
2. Apply a function-preserving morphism (``deepen``, then ``widen``) to get a child.
3. For budgets 1/8, 1/4, 1/2, 1, 2, 3, 4, ... epochs, train the child (a full cosine
   schedule per budget, same trainer settings) with inherited weights and, separately, from
   scratch; the epochs to reach the target are the smallest budget whose validation accuracy
   is at least the target.

Last line: ``inheritance_speedup=<epochs_scratch / epochs_inherited> target_acc=<float>``
(target: >= 2.0).

    python benchmarks/inheritance_gain.py
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--fraction", type=float, default=0.25, help="share of the training images")
    parser.add_argument("--parent-epochs", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    started = time.perf_counter()
    data = load_fashion_mnist(train_fraction=args.fraction, seed=args.seed)
    print(data.describe())
    trainer = Trainer(data, TrainSettings(warmup=0.05), device=args.device)
    parent = simple_genome(channels=(16, 32))
    result = trainer.train(parent, seed=args.seed, epochs=args.parent_epochs)
    assert result.ok and result.state is not None, result.error
    target = 1.0 - result.val_error
    print(f"parent {parent}: {args.parent_epochs} epochs -> val_acc={target:.4f}")
    rng = np.random.default_rng(args.seed)
    child = get_morphism("deepen").apply(parent, result.state, rng)
    # as the search's evaluator does: calibrate deepen's BN only when the settings say so
    calibrate = tuple(child.record.details["calibrate"]) if trainer.config.calibrate else ()
    child = get_morphism("widen").apply(child.genome, child.state, rng)
    print(f"child  {child.genome} (deepen, then widen)")
    inherited = epochs_to_target(
        trainer, child.genome, child.state, target, args.seed, "inherited", calibrate
    )
    scratch = epochs_to_target(trainer, child.genome, None, target, args.seed, "scratch")
    print(
        f"epochs to reach {target:.4f}: inherited {inherited}, scratch {scratch}; "
        f"data fraction {args.fraction}, seed {args.seed}, device {trainer.device.type}, "
        f"threads {torch.get_num_threads()}, {time.perf_counter() - started:.0f}s"
    )
    print(f"inheritance_speedup={scratch / inherited:.2f} target_acc={target:.4f}")


if __name__ == "__main__":
    main()
