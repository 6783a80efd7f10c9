"""Children trained per hour with K workers (the local pool), same list of children.

A fixed list of small Fashion-MNIST children (initial networks changed by random morphisms)
is trained from scratch, ``--epochs`` each on ``--fraction`` of the data, with a pool of K
worker processes for each K in ``--workers``. Workers are started and warmed up (data
loaded, one child trained) before timing. torch threads per worker: cores // K.

Last line: ``aggregate_speedup=<throughput(Kmax)/throughput(1)> workers=<Kmax> device=<d>``
(target: >= 1.5 with 2 workers on 2 CPU cores; >= 2.0 with 4-8 workers on one GPU).

    python benchmarks/concurrency.py --workers 1 2
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

import numpy as np

from evonas.core import Candidate
from evonas.data import load_fashion_mnist
from evonas.executor import Job, LocalPoolExecutor
from evonas.morphism import get_morphism, list_morphisms
from evonas.space import Genome, initial_genomes
from evonas.trainer import Trainer, TrainSettings, resolve_device
from evonas.trainer.evaluator import TrainingEvaluator


@dataclass(frozen=True)
class FashionTrainer:
    """Builds the evaluator inside each worker (picklable)."""

    fraction: float
    epochs: float
    device: str

    def __call__(self) -> TrainingEvaluator:
        data = load_fashion_mnist(train_fraction=self.fraction, seed=0)
        settings = TrainSettings(batch_size=128, scratch_epochs=self.epochs)
        return TrainingEvaluator(Trainer(data, settings, device=self.device))


def children(n: int, seed: int) -> list[Genome]:
    rng = np.random.default_rng(seed)
    base = initial_genomes(rng, 4, stages=(1, 2), base_channels=(8, 16))
    names = list_morphisms(preserving=True)
    out = []
    while len(out) < n:
        g = base[int(rng.integers(len(base)))]
        for _ in range(int(rng.integers(1, 4))):
            m = get_morphism(str(rng.choice(names)))
            if m.is_applicable(g):
                g = m.apply(g, None, rng).genome
        out.append(g)
    return out


def throughput(
    factory: FashionTrainer, workers: int, genomes: list[Genome], threads: int | None = None
) -> float:
    """Children per hour with ``workers`` processes (``threads`` torch threads each)."""
    pool = LocalPoolExecutor(factory, workers=workers, threads_per_worker=threads)
    try:
        for k in range(workers):  # warm-up: every worker loads the data and trains once
            pool.submit(
                Job(-1 - k, Candidate(genomes[k % len(genomes)], None, (), None, False), k, None)
            )
        for _ in range(workers):
            pool.wait()
        started = time.perf_counter()
        for i, g in enumerate(genomes):
            pool.submit(Job(i, Candidate(g, None, (), None, False), i, None))
        for _ in genomes:
            _, outcome = pool.wait()
            if isinstance(outcome, BaseException):
                raise outcome
        return len(genomes) / (time.perf_counter() - started) * 3600
    finally:
        pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--children", type=int, default=12)
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--epochs", type=float, default=0.5)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    device = resolve_device(args.device)
    factory = FashionTrainer(args.fraction, args.epochs, str(device))
    genomes = children(args.children, args.seed)
    rates = {}
    for k in sorted(set(args.workers)):
        rates[k] = throughput(factory, k, genomes)
        print(
            f"workers={k}: {rates[k]:.0f} children/hour "
            f"({max(1, (os.cpu_count() or 1) // k)} torch threads each)",
            flush=True,
        )
    kmax, kmin = max(rates), min(rates)
    cores = os.cpu_count() or 1
    if device.type == "cpu" and kmin == 1 and cores > 1:
        # How well does one worker already use the cores by itself? That bounds what more
        # workers can add: ceiling = cores / (speed-up of one worker from its extra threads).
        single = throughput(factory, 1, genomes, threads=1)
        gain = rates[1] / single
        print(
            f"workers=1 with 1 thread: {single:.0f} children/hour; its {cores} threads give "
            f"{gain:.2f}x, so {cores} workers can give at most ~{cores / gain:.2f}x"
        )
    print(
        f"{len(genomes)} children, {args.epochs} epochs each on {args.fraction} of Fashion-MNIST, "
        f"device {device.type}, {os.cpu_count()} cores"
    )
    print(f"aggregate_speedup={rates[kmax] / rates[kmin]:.3f} workers={kmax} device={device.type}")


if __name__ == "__main__":
    main()
