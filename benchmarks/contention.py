"""Speed under load: the trainer's images per second with one core kept busy by another
process, over its images per second on an idle machine.

Each measurement runs in a fresh process started the way ``evonas`` starts (its command-line
entry point sets the OpenMP wait policy before torch loads), on the quick scenario's data
(Fashion-MNIST, or synthetic images of its shape where the data set is not installed) and a
quick-scenario-sized network, first idle, then while ``python -c 'while True: pass'`` holds a
core. ``--policies`` also measures the OpenMP wait policies explicitly, for the decision.

Last line: ``busy_over_idle=<images/s busy / images/s idle> threads=<n>`` (target >= 0.4; a
core lost should cost about half).

    python benchmarks/contention.py
    python benchmarks/contention.py --policies ACTIVE PASSIVE
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def measure(images: int) -> None:
    """In this process: train and print {"ips": images/s, "threads": n} as JSON."""
    from evonas.cli import apply_thread_policy

    apply_thread_policy()
    import torch

    from evonas.data import load_fashion_mnist, synthetic
    from evonas.data.datasets import DataNotFoundError
    from evonas.space import simple_genome
    from evonas.trainer import Trainer, TrainSettings

    try:
        data = load_fashion_mnist(train_fraction=0.2, val_fraction=0.1, seed=0)
    except DataNotFoundError:
        data = synthetic(n_train=10800, n_test=1000, shape=(1, 28, 28), num_classes=10, seed=0)
    trainer = Trainer(data, TrainSettings(batch_size=128), device="cpu")
    genome = simple_genome(channels=(16, 32), convs_per_stage=2)
    steps = max(1, images // 128)
    trainer.train(genome, seed=0, steps=max(1, steps // 5))  # warm-up
    started = time.perf_counter()
    trainer.train(genome, seed=1, steps=steps)
    seconds = time.perf_counter() - started
    print(json.dumps({"ips": steps * 128 / seconds, "threads": torch.get_num_threads()}))


def run(images: int, env: dict[str, str], busy: bool) -> dict[str, float]:
    hog = None
    if busy:
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(1.0)
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--measure", "--images", str(images)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--images", type=int, default=25600, help="images a measurement trains")
    parser.add_argument("--policies", nargs="*", default=[], help="OMP_WAIT_POLICY values")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.images)
        return
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
    for policy in args.policies:
        env = {**base, "OMP_WAIT_POLICY": policy}
        idle, busy = run(args.images, env, False), run(args.images, env, True)
        print(
            f"OMP_WAIT_POLICY={policy}: idle {idle['ips']:.0f} images/s, one core busy "
            f"{busy['ips']:.0f} ({busy['ips'] / idle['ips']:.3f}), threads {busy['threads']:.0f}",
            flush=True,
        )
    idle, busy = run(args.images, base, False), run(args.images, base, True)
    print(
        f"evonas's own setting: idle {idle['ips']:.0f} images/s, one core busy "
        f"{busy['ips']:.0f}; {os.cpu_count()} cores"
    )
    print(f"busy_over_idle={busy['ips'] / idle['ips']:.3f} threads={busy['threads']:.0f}")


if __name__ == "__main__":
    main()
