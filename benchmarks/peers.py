"""evonas against what users would pick instead, at equal training epochs, every front
retrained from scratch and tested (the proof protocol).

Every method searches the same task (the quick scenario's data, space, objectives and
trainer, ``scenarios/quick.toml``) with the same budget counted in **training epochs**:
every image any training step saw, children's fine-tunes and promotions included, and no
candidate of known length starts that would end past it (wall time is reported beside
it). Methods: evonas's ``lemonade``, ``aging`` and ``nsga2`` (children inherit their
parent's weights), and the peers: ``random`` (random architectures, the strategies'
morphism mix, trained from scratch), ``asha`` (the same random architectures under
asynchronous successive halving over epochs, 1 -> 3 -> 9), and, with
Optuna installed (the ``bench`` extra), Optuna's ``NSGAIISampler`` and multi-objective
``TPESampler`` over a fixed-length chain space (``evonas.space.encoding``), every candidate
trained from scratch by the evonas trainer (``benchmarks/optuna_peers.py``).

After the search, each method's front (at most ``--front`` networks, kept by exclusive
hypervolume: the member adding least is dropped until that many remain) is **retrained from
scratch** with one fixed schedule (``--retrain-epochs`` on the same training images, seeded)
and scored on the **test** split. Two hypervolumes per method and seed: *found* (validation
error as the search delivered it) and *retrained* (test error after retraining), both on
the objectives' fixed normalisation (printed). Seeds: a design set (0-9) for choosing
defaults, and a held-out set (100 and up) that only this benchmark's reported line uses.

Last line: ``peers found lemonade=<r> aging=<r> nsga2=<r> retrained lemonade=<r> aging=<r>
nsga2=<r> best_peer=<name> epochs=<E> seeds=<n>``, each r the median over seeds of the
strategy's hypervolume over the best peer's on that seed (the peer with the larger
hypervolume there); ``best_peer`` is the peer best on most seeds. Targets: found >= 1.3,
retrained >= 1.1 (the proof), >= 1.15 (winning it).

    python benchmarks/peers.py                 # held-out seeds 100-102, 36 epochs: ~90 min
    python benchmarks/peers.py --quick         # one held-out seed, 20 epochs: ~8 min
    python benchmarks/peers.py --design --seeds 4   # design seeds 0-3, for choosing defaults
"""

from __future__ import annotations

# ruff: noqa: E402  (the thread policy is set before torch loads)
import argparse
import dataclasses
import importlib.util
import json
import shutil
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from evonas.cli import apply_thread_policy

apply_thread_policy()  # before torch loads: runs beside other work sleep, not spin

import numpy as np
import torch

import evonas
from evonas.core import Budget, Individual
from evonas.core.pareto import (
    ObjectiveInfo,
    hypervolume,
    hypervolume_contributions,
    normalised_matrix,
    pareto_front,
)
from evonas.scenario import (
    FidelityConfig,
    Scenario,
    StrategyConfig,
    load_data,
    load_scenario,
)
from evonas.trainer import Trainer

STRATEGIES = ("lemonade", "aging", "nsga2")
PEERS = ("random", "asha", "optuna_nsga2", "optuna_tpe")
OPTUNA = {  # Optuna's samplers over the chain space (benchmarks/optuna_peers.py)
    "optuna_nsga2": StrategyConfig("optuna_peers:OptunaSearch", {"sampler": "nsga2"}),
    "optuna_tpe": StrategyConfig("optuna_peers:OptunaSearch", {"sampler": "tpe"}),
}
DESIGN_SEEDS = 0
HELD_OUT_SEEDS = 100


def prune_front(front: list[Individual], infos: list[ObjectiveInfo], keep: int) -> list[Individual]:
    """At most ``keep`` members: the one adding the least exclusive hypervolume is dropped
    until that many remain (ties: the later id)."""
    chosen = sorted(front, key=lambda i: i.id)
    while len(chosen) > keep:
        gain = hypervolume_contributions(normalised_matrix(chosen, infos))
        worst = min(range(len(chosen)), key=lambda k: (gain[k], -chosen[k].id))
        del chosen[worst]
    return chosen


def front_hv(individuals: list[Individual], infos: list[ObjectiveInfo]) -> float:
    front = pareto_front(individuals, infos)
    return hypervolume(normalised_matrix(front, infos)) if front else 0.0


def parse_setting(text: str) -> tuple[str, Any]:
    """``key=value``: the value as JSON where it parses (numbers, true, lists), else text."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise SystemExit(f"--set {text!r}: expected KEY=VALUE")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def search(
    base: Scenario, method: str, seed: int, epochs: float, out: Path, reuse: bool = False
) -> evonas.Run:
    """One method's run on one seed; with ``reuse``, a record of the same run under ``out``
    (an earlier invocation's, with the same settings) is read instead of searching: a
    finished one as it is, a killed one resumed where it stopped (a killed Optuna run is
    run again from the start: its sampler's state is not in the record)."""
    params = dict(base.strategy.params) if method == base.strategy.name else {}
    scenario = dataclasses.replace(
        base,
        name=f"{base.name}-{method}-{seed}",
        seed=seed,
        strategy=OPTUNA.get(method, StrategyConfig(method, params)),
        budget=Budget(epochs=epochs),
        # rungs are the evolution strategies' (asha has its own; the other peers none)
        fidelity=base.fidelity if method in STRATEGIES else FidelityConfig(),
    )
    where = out / f"{method}-{seed}"
    if reuse and (where / "config.json").exists():
        run = evonas.load_run(where)
        keys = ("seed", "strategy", "budget", "fidelity", "trainer", "space", "data", "morphisms")
        differ = [k for k in keys if getattr(run.scenario, k) != getattr(scenario, k)]
        if differ:
            raise SystemExit(f"--reuse: {where} was run with other settings: {', '.join(differ)}")
        if (where / "stop.json").exists():
            return run
        if method in OPTUNA:  # no sampler state is recorded: a resume would be another study
            print(f"--reuse: {where} was stopped mid-run; an Optuna run starts again", flush=True)
            shutil.rmtree(where)
        else:
            return evonas.resume(where)
    return evonas.run(scenario, out=where)


def retrain(
    chosen: list[Individual], trainer: Trainer, epochs: float, seed: int
) -> list[Individual]:
    """The chosen networks trained from scratch (one schedule), scored on the test split."""
    out = []
    for k, ind in enumerate(chosen):
        result = trainer.train(ind.genome, None, seed=seed * 1000 + k, epochs=epochs)
        if result.ok and result.state is not None:
            model = trainer.build(ind.genome, result.state, seed)
            error = trainer.evaluate(model, "test")
        else:
            error = float("nan")
        objectives = {**ind.objectives, "val_error": error}
        out.append(dataclasses.replace(ind, objectives=objectives))
    return [i for i in out if np.isfinite(i.objectives["val_error"])]


def kept_schedules(path: Path) -> list[dict[str, Any]]:
    """The retrained test errors kept in ``path``, one entry per schedule (``retrain_epochs``,
    ``ids``, ``test_error``); the earlier one-schedule file is read as one entry. The file is
    untrusted: anything unreadable or malformed reads as nothing kept (the fronts are
    retrained, not trusted)."""
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    entries = kept.get("schedules", [kept]) if isinstance(kept, dict) else []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def retrain_kept(
    chosen: list[Individual], trainer: Trainer, epochs: float, seed: int, path: Path, reuse: bool
) -> list[Individual]:
    """:func:`retrain`, its test errors kept in ``path``; with ``reuse``, errors kept there
    for the same networks and schedule are read instead of training again, and those of
    other schedules stay beside the new ones (retraining the same fronts longer adds to
    what was measured, it does not replace it)."""
    ids = [i.id for i in chosen]
    entries = kept_schedules(path) if reuse else []
    for entry in entries:
        errors = entry.get("test_error")
        if (
            entry.get("retrain_epochs") == epochs
            and entry.get("ids") == ids
            and isinstance(errors, list)
            and len(errors) == len(ids)
            and all(e is None or isinstance(e, (int, float)) for e in errors)
        ):
            out = [
                dataclasses.replace(ind, objectives={**ind.objectives, "val_error": float(e)})
                for ind, e in zip(chosen, errors, strict=True)
                if e is not None
            ]
            return [i for i in out if np.isfinite(i.objectives["val_error"])]
    tested = retrain(chosen, trainer, epochs, seed)
    by_id = {i.id: i.objectives["val_error"] for i in tested}
    record = {"retrain_epochs": epochs, "ids": ids, "test_error": [by_id.get(i) for i in ids]}
    others = [e for e in entries if e.get("retrain_epochs") != epochs]
    path.write_text(json.dumps({"schedules": [*others, record]}))
    return tested


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--epochs", type=float, default=36.0, help="search budget per run")
    parser.add_argument("--retrain-epochs", type=float, default=4.0)
    parser.add_argument("--front", type=int, default=8, help="networks retrained per front")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--design", action="store_true", help="design seeds 0.. instead")
    parser.add_argument(
        "--first-seed", type=int, default=None, help="start here (default 100, or 0 with --design)"
    )
    parser.add_argument("--quick", action="store_true", help="1 seed, 20 epochs, 1 retrain")
    parser.add_argument("--methods", nargs="*", default=None, help="default: all available")
    parser.add_argument("--scenario", default="scenarios/quick.toml")
    parser.add_argument("--out", default=None, help="folder of the run records (default: temp)")
    parser.add_argument(
        "--no-retrain",
        action="store_true",
        help="search only (retrained figures nan): runs to be read later with --reuse",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="read the runs already under --out (an earlier invocation with the same\n"
        "settings) instead of searching again, resuming any that was killed (an Optuna\n"
        "run starts again), and the test errors of fronts already retrained with the\n"
        "same schedule (kept beside the runs)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a scenario key for every run, as the command line's overrides (repeatable), e.g.\n"
        "--set fidelity.min_epochs=0.5 --set strategy.params.acceptance=predicted\n"
        "(strategy.params apply to the scenario's own strategy only)",
    )
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.retrain_epochs, args.seeds, args.front = 20.0, 1.0, 1, 4
    if args.methods is None:
        args.methods = [*STRATEGIES, *PEERS]
        if importlib.util.find_spec("optuna") is None:
            args.methods = [m for m in args.methods if m not in OPTUNA]
            print("optuna is not installed (pip install -e '.[bench]'): its peers are left out")
    first = DESIGN_SEEDS if args.design else HELD_OUT_SEEDS
    if args.first_seed is not None:
        first = args.first_seed
    seeds = list(range(first, first + args.seeds))
    base = load_scenario(args.scenario, dict(parse_setting(kv) for kv in args.set))
    out = Path(args.out or tempfile.mkdtemp(prefix="evonas-peers-"))
    strategies = [m for m in args.methods if m in STRATEGIES]
    peers = [m for m in args.methods if m not in STRATEGIES]
    found: dict[str, list[float]] = {m: [] for m in args.methods}
    retrained: dict[str, list[float]] = {m: [] for m in args.methods}
    started = time.perf_counter()
    scales = ""
    for seed in seeds:
        data = load_data(dataclasses.replace(base, seed=seed))
        trainer = Trainer(data, base.trainer, base.device)
        for method in args.methods:
            t0 = time.perf_counter()
            run = search(base, method, seed, args.epochs, out, args.reuse)
            infos = list(run.objectives)
            scales = ", ".join(o.scale for o in infos)
            history = run.history()
            chosen = prune_front(run.pareto_front(), infos, args.front)
            found[method].append(front_hv(chosen, infos))
            if args.no_retrain:
                tested, retrained_hv = [], float("nan")
            else:
                kept = out / f"{method}-{seed}.retrained.json"
                tested = retrain_kept(chosen, trainer, args.retrain_epochs, seed, kept, args.reuse)
                retrained_hv = front_hv(tested, infos)
            retrained[method].append(retrained_hv)
            spent = sum(i.train.epochs for i in history)
            best_test = min((i.objectives["val_error"] for i in tested), default=float("nan"))
            print(
                f"seed {seed} {method:<9} found_hv={found[method][-1]:.4f} "
                f"retrained_hv={retrained[method][-1]:.4f} evaluations={len(history)} "
                f"epochs={spent:.1f} front={len(chosen)} best_test_error={best_test:.4f} "
                f"({(time.perf_counter() - t0) / 60:.1f} min)",
                flush=True,
            )
    best_peer_per_seed = [
        max(peers, key=lambda p: found[p][k]) if peers else None for k in range(len(seeds))
    ]

    def ratios(hv: dict[str, list[float]], name: str) -> list[float]:
        if not peers:  # strategies alone (comparing settings): no ratio
            return [float("nan")] * len(seeds)
        return [hv[name][k] / max(max(hv[p][k] for p in peers), 1e-12) for k in range(len(seeds))]

    for label, hv in (("found", found), ("retrained", retrained)):
        for m in args.methods:
            values = hv[m]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            print(f"{label:<9} {m:<9} mean hv={statistics.mean(values):.4f} sd={spread:.4f}")
        for m in strategies:
            r = ratios(hv, m)
            wins = sum(x > 1 for x in r)
            print(
                f"{label:<9} {m:<9} vs best peer per seed: {' '.join(f'{x:.3f}' for x in r)}"
                f" (wins {wins} of {len(r)})"
            )
    common = Counter(best_peer_per_seed).most_common(1)
    best_peer = common[0][0] if common else "none"
    settings = "; settings " + " ".join(args.set) if args.set else ""
    print(
        f"run records under {out}; scenario {args.scenario}; seeds {seeds[0]}..{seeds[-1]} "
        f"({'design' if args.design else 'held-out'}); budget {args.epochs:g} training epochs "
        f"per run{settings}; retrained {args.retrain_epochs:g} epochs from scratch, scored on "
        f"the test split; device {'cuda' if torch.cuda.is_available() else 'cpu'}, threads "
        f"{torch.get_num_threads()}; {(time.perf_counter() - started) / 60:.1f} minutes; "
        f"hypervolume reference point 1 on each normalised objective: {scales}"
    )
    line = ["peers", "found"]
    line += [f"{m}={statistics.median(ratios(found, m)):.4f}" for m in strategies]
    line += ["retrained"]
    line += [f"{m}={statistics.median(ratios(retrained, m)):.4f}" for m in strategies]
    line += [f"best_peer={best_peer}", f"epochs={args.epochs:g}", f"seeds={len(seeds)}"]
    print(" ".join(line))


if __name__ == "__main__":
    main()
