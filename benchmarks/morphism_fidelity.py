"""How exactly do the morphisms preserve the parent's function?

Applies every function-preserving morphism to N random genomes carrying trained-looking
weights (calibrated BN running statistics, random BN affine parameters) and measures the
largest absolute change of the logits in eval mode, fp32; and, per operator, the median
relative logit change in train mode (batch statistics, as fine-tuning sees the child) on the
first batch (what the trainer calibrates new batch norms on) and on the next one. Also prints,
per approximate morphism, the median relative output deviation before any repair.

Last line: ``max_abs_deviation=<float> genomes=<int> operators=<int>``
(target: max_abs_deviation <= 1e-5 with at least 4 operators).

    python benchmarks/morphism_fidelity.py --genomes 200 --seed 0
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from evonas.model import build_model, calibrate_batchnorm
from evonas.morphism import get_morphism, list_morphisms, output_deviation
from evonas.space import random_genome
from evonas.testing import logits, relative_change, train_logits, trained_looking_state

SHAPES = ((1, 28, 28), (3, 32, 32))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--genomes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=4, help="probe images per genome")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    preserving = list_morphisms(preserving=True)
    approximate = list_morphisms(preserving=False)
    worst = {name: 0.0 for name in preserving}
    applied = {name: 0 for name in preserving + approximate}
    rel_dev: dict[str, list[float]] = {name: [] for name in approximate}
    train_first: dict[str, list[float]] = {name: [] for name in preserving}
    train_next: dict[str, list[float]] = {name: [] for name in preserving}
    started = time.perf_counter()
    for seq in np.random.SeedSequence(args.seed).spawn(args.genomes):
        rng = np.random.default_rng(seq)
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        genome = random_genome(rng)
        state = trained_looking_state(genome, shape, 10, rng)
        x = torch.randn(
            (args.batch, *shape), generator=torch.Generator().manual_seed(int(rng.integers(2**31)))
        )
        x2 = torch.randn(
            (args.batch, *shape), generator=torch.Generator().manual_seed(int(rng.integers(2**31)))
        )
        ref = logits(genome, state, x)
        ref_train = train_logits(genome, state, x)
        ref_next = train_logits(genome, state, x2)
        for name in preserving + approximate:
            morphism = get_morphism(name)
            if not morphism.is_applicable(genome):
                continue
            child = morphism.apply(genome, state, rng)
            applied[name] += 1
            if name in worst:
                dev = float((logits(child.genome, child.state, x) - ref).abs().max())
                worst[name] = max(worst[name], dev)
                # train mode, as fine-tuning sees it: the trainer calibrates what the
                # morphism asks for on its first batch (x); x2 is the batch after it
                model = build_model(child.genome, shape, 10, child.state)
                calibrate_batchnorm(model, x, child.record.details.get("calibrate", ()))
                with torch.no_grad():
                    model.train()
                    train_first[name].append(relative_change(ref_train, model(x)))
                    train_next[name].append(relative_change(ref_next, model(x2)))
            else:
                rel_dev[name].append(output_deviation(genome, state, child.genome, child.state, x))
    elapsed = time.perf_counter() - started
    print(f"{args.genomes} random genomes, seed {args.seed}, {elapsed:.1f}s")
    print("function-preserving (max |logit change|, eval mode, fp32):")
    for name in preserving:
        print(f"  {name:<16} applied={applied[name]:<4} max_abs_deviation={worst[name]:.3g}")
    print("function-preserving, train mode (median relative logit change; first batch, next):")
    for name in preserving:
        first = statistics.median(train_first[name]) if train_first[name] else float("nan")
        after = statistics.median(train_next[name]) if train_next[name] else float("nan")
        print(f"  {name:<16} train_first={first:.3g} train_next={after:.3g}")
    print("approximate (median relative output deviation before repair):")
    for name in approximate:
        med = statistics.median(rel_dev[name]) if rel_dev[name] else float("nan")
        print(f"  {name:<16} applied={applied[name]:<4} median_rel_deviation={med:.3g}")
    used = [n for n in preserving if applied[n] > 0]
    worst_train = max(statistics.median(train_first[n]) for n in used)
    print(f"train_mode_median_deviation_max={worst_train:.3g} (target <= 1e-3)")
    print(
        f"max_abs_deviation={max(worst[n] for n in used):.3g} "
        f"genomes={args.genomes} operators={len(used)}"
    )


if __name__ == "__main__":
    main()
