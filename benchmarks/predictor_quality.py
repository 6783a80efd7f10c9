"""How well the ``predicted`` acceptance step predicts a child's error before training it.

Runs LEMONADE with ``acceptance = "predicted"`` on the quick scenario's task
(``scenarios/quick.toml``: a fifth of Fashion-MNIST's training images) for each design seed
(0 and up; never the held-out seeds ``peers.py`` reports on), a budget counted in training
epochs, children fine-tuning ``--child-epochs``. Every child the predictor chose among
carries the prediction made before it was trained (out of sample: the forest was fitted on
the children evaluated before it) beside the validation error it realised.

Two rank correlations (Spearman), each computed within one run and averaged over runs
weighted by their children: over all predicted children, and *at fixed parameter count*:
within groups of children whose parameter counts lie in the same factor-of-2 band
(``floor(log2(params))``, groups of at least 5), so that knowing size alone does not score.

Each seed's line also gives the same figures for the naive prediction "a child's error is
its parent's", so what the model adds beyond it is seen.

Last line: ``spearman=<x> spearman_fixed_params=<x> children=<n>``. Targets: >= 0.5 / >= 0.3.

    python benchmarks/predictor_quality.py            # design seeds 0-2, 60 epochs each
    python benchmarks/predictor_quality.py --quick    # one seed, 24 epochs
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

import evonas
from evonas.core import Budget, Individual
from evonas.scenario import StrategyConfig, load_scenario

MIN_GROUP = 5


def correlations(children: list[Individual]) -> tuple[float, int, float, int]:
    """(Spearman over ``children``, their number, the size-weighted mean Spearman within
    factor-of-2 parameter bands, the children in bands counted)."""
    predicted = [c.predicted["val_error"] for c in children]
    realised = [c.objectives["val_error"] for c in children]
    overall = _spearman(predicted, realised)
    bands: dict[int, list[Individual]] = defaultdict(list)
    for c in children:
        bands[math.floor(math.log2(max(c.objectives["params"], 1.0)))].append(c)
    total, weight = 0.0, 0
    for group in bands.values():
        if len(group) < MIN_GROUP:
            continue
        rho = _spearman(
            [c.predicted["val_error"] for c in group], [c.objectives["val_error"] for c in group]
        )
        if math.isfinite(rho):
            total += rho * len(group)
            weight += len(group)
    return overall, len(children), total / weight if weight else math.nan, weight


def parent_baseline(
    children: list[Individual], by_id: dict[int, Individual]
) -> tuple[float, int, float, int]:
    """The same correlations for the naive prediction "a child's error is its parent's":
    what the model adds beyond it."""
    naive = [
        dataclasses.replace(c, predicted={"val_error": by_id[c.parent_id].objectives["val_error"]})
        for c in children
        if c.parent_id in by_id
    ]
    return correlations(naive)


def _spearman(a: list[float], b: list[float]) -> float:
    if len(a) < 3 or len(set(a)) < 2 or len(set(b)) < 2:
        return math.nan
    return float(spearmanr(a, b)[0])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=3, help="design seeds 0..seeds-1")
    parser.add_argument("--epochs", type=float, default=60.0, help="budget per run")
    parser.add_argument("--child-epochs", type=float, default=1.0)
    parser.add_argument("--scenario", default="scenarios/quick.toml")
    parser.add_argument("--quick", action="store_true", help="1 seed, 24 epochs")
    parser.add_argument("--out", default=None, help="folder of the run records (default: temp)")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.epochs = 1, 24.0
    base = load_scenario(args.scenario, {"trainer.child_epochs": args.child_epochs})
    params = dict(base.strategy.params) if base.strategy.name == "lemonade" else {}
    strategy = StrategyConfig("lemonade", {**params, "acceptance": "predicted"})
    out = Path(args.out or tempfile.mkdtemp(prefix="evonas-predictor-"))
    started = time.perf_counter()
    per_run = []
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        scenario = dataclasses.replace(
            base,
            name=f"{base.name}-predicted-{seed}",
            seed=seed,
            strategy=strategy,
            budget=Budget(epochs=args.epochs),
        )
        run = evonas.run(scenario, out=out / f"seed-{seed}")
        history = run.history()
        children = [i for i in history if i.ok and "val_error" in i.predicted]
        result = correlations(children)
        per_run.append(result)
        naive = parent_baseline(children, {i.id: i for i in history})
        print(
            f"seed {seed}: spearman={result[0]:.3f} over {result[1]} children, "
            f"fixed params {result[2]:.3f} over {result[3]} in bands of >= {MIN_GROUP} "
            f"({len(history)} evaluations, {(time.perf_counter() - t0) / 60:.1f} min); "
            f"predicting the parent's error instead: {naive[0]:.3f}, fixed params "
            f"{naive[2]:.3f}",
            flush=True,
        )

    def weighted(value: int, count: int) -> float:
        pairs = [(r[value], r[count]) for r in per_run if math.isfinite(r[value]) and r[count]]
        n = sum(c for _, c in pairs)
        return sum(v * c for v, c in pairs) / n if n else math.nan

    overall, fixed = weighted(0, 1), weighted(2, 3)
    children = sum(r[1] for r in per_run)
    spread = np.std([r[0] for r in per_run if math.isfinite(r[0])]) if per_run else math.nan
    print(
        f"run records under {out}; scenario {args.scenario}, child_epochs "
        f"{args.child_epochs:g}, budget {args.epochs:g} epochs per run, design seeds "
        f"0..{args.seeds - 1}; per-run spearman sd {spread:.3f}; "
        f"{(time.perf_counter() - started) / 60:.1f} minutes"
    )
    print(f"spearman={overall:.4f} spearman_fixed_params={fixed:.4f} children={children}")


if __name__ == "__main__":
    main()
