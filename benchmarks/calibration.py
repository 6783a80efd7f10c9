"""Does making ``deepen`` the identity in train mode help the fine-tuned child? (Fashion-MNIST)

Trains ``--parents`` initial-style networks from scratch (2 epochs, the quick scenario's data),
makes three ``deepen`` children of each (the third with a second ``deepen`` on top) and
fine-tunes every child for 0.5 and 1 epoch twice, same seed: once with the inserted batch
norms calibrated on the first batch (the child computes the parent's function in train mode
too), once without (they start at scale 1, shift 0: the identity in eval mode only).

Last line: ``calibration_gain epochs_0.5=<e> epochs_1=<e> children=<n>``, each the mean over
children of (val_error without calibration - with it): positive means calibration helps.

    python benchmarks/calibration.py
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

from evonas.data import load_fashion_mnist
from evonas.morphism import get_morphism
from evonas.space import initial_genomes
from evonas.trainer import Trainer, TrainSettings

BUDGETS = (0.5, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--parents", type=int, default=3)
    parser.add_argument("--fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    data = load_fashion_mnist(train_fraction=args.fraction, seed=0)
    trainer = Trainer(data, TrainSettings(), device=args.device)
    rng = np.random.default_rng(args.seed)
    gains: dict[float, list[float]] = {b: [] for b in BUDGETS}
    for p, genome in enumerate(initial_genomes(rng, args.parents, stages=(1, 2))):
        parent = trainer.train(genome, seed=p, epochs=2.0)
        assert parent.state is not None, parent.error
        print(f"parent {genome} val_error={parent.val_error:.4f}", flush=True)
        for c in range(3):
            child = get_morphism("deepen").apply(genome, parent.state, rng)
            calibrate = tuple(child.record.details["calibrate"])
            if c == 2:
                child = get_morphism("deepen").apply(child.genome, child.state, rng)
                calibrate += tuple(child.record.details["calibrate"])
            for budget in BUDGETS:
                a = trainer.train(
                    child.genome, child.state, seed=c, epochs=budget, calibrate=calibrate
                )
                b = trainer.train(child.genome, child.state, seed=c, epochs=budget)
                gains[budget].append(b.val_error - a.val_error)
                print(
                    f"  child {c} epochs {budget}: calibrated {a.val_error:.4f} "
                    f"plain {b.val_error:.4f}",
                    flush=True,
                )
    for budget, g in gains.items():
        print(f"epochs {budget}: calibration helped in {sum(x > 0 for x in g)} of {len(g)}")
    print(
        "calibration_gain "
        + " ".join(f"epochs_{b:g}={statistics.fmean(g):+.4f}" for b, g in gains.items())
        + f" children={len(gains[BUDGETS[0]])}"
    )


if __name__ == "__main__":
    main()
