"""Is measured latency repeatable? 20 random genomes timed twice, in two separate processes.

Each process measures every genome with the ``latency`` objective (batch 1, 1 thread, CPU,
median over blocks); the figure is Spearman's rank correlation between the two runs.

Last line: ``latency_spearman=<rho>`` (target: >= 0.9 on CPU).

    python benchmarks/latency_repeatability.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np


def measure(n: int, seed: int, device: str) -> list[float]:
    from evonas.objectives import EvalContext, Latency
    from evonas.space import random_genome

    latency = Latency(device=device)
    out = []
    for seq in np.random.SeedSequence(seed).spawn(n):
        genome = random_genome(np.random.default_rng(seq), channel_choices=(8, 16, 32, 48))
        out.append(latency(EvalContext(genome, (1, 28, 28), 10)))
    return out


def ranks(values: list[float]) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    r = np.empty(len(values))
    r[order] = np.arange(len(values))
    return r


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--genomes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.genomes, args.seed, args.device)))
        return
    runs = []
    for _ in range(2):
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            "--genomes",
            str(args.genomes),
            "--seed",
            str(args.seed),
            "--device",
            args.device,
        ]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    a, b = np.array(runs[0]), np.array(runs[1])
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        print(f"genome {i:2d}: {x * 1e3:8.3f} ms  {y * 1e3:8.3f} ms")
    rho = float(np.corrcoef(ranks(runs[0]), ranks(runs[1]))[0, 1])
    rel = float(np.median(np.abs(a - b) / np.minimum(a, b)))
    print(
        f"{args.genomes} genomes (seed {args.seed}), device {args.device}, batch 1, 1 thread; "
        f"median relative difference {rel:.1%}"
    )
    print(f"latency_spearman={rho:.4f}")


if __name__ == "__main__":
    main()
