"""Scenario -> the objects of a search (data, trainer, objectives, strategy, morphisms).

:func:`check_scenario` resolves every name a scenario uses (strategy, morphisms,
objectives, dataset) before any data is loaded or network trained, so a misspelt name fails
at once with the key it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from evonas.data.datasets import DATASETS, TaskData
from evonas.morphism.base import Morphism, get_morphism, list_morphisms
from evonas.objectives.base import Objective, get_objective
from evonas.registry import RegistryError
from evonas.scenario.schema import Scenario, ScenarioError
from evonas.space.genome import Genome
from evonas.space.sampler import initial_genomes
from evonas.strategy.base import Strategy, get_strategy
from evonas.trainer.trainer import TrainConfig, resolve_device


@dataclass
class Parts:
    """Everything but the data that a scenario resolves to."""

    strategy: Strategy
    morphisms: list[Morphism]
    objectives: list[Objective]
    initial: list[Genome]
    train_config: TrainConfig


def _resolve(key: str, make: Any) -> Any:
    try:
        return make()
    except (RegistryError, TypeError, ValueError) as exc:
        raise ScenarioError(f"{key}: {exc}") from None


def check_scenario(s: Scenario, source: str = "scenario") -> Parts:
    """Resolves every plug-in a scenario names; raises :class:`ScenarioError` naming the
    source file and the key."""
    try:
        return _check(s)
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None


def _check(s: Scenario) -> Parts:
    strategy = _resolve("strategy", lambda: get_strategy(s.strategy.name, **s.strategy.params))
    names = list(s.morphisms.enabled) or list_morphisms()
    unknown_params = set(s.morphisms.params) - set(names)
    if unknown_params:
        raise ScenarioError(f"morphisms.params: {sorted(unknown_params)} are not enabled morphisms")
    morphisms = []
    for i, name in enumerate(names):
        params = dict(s.morphisms.params.get(name, {}))
        if name == "widen":
            params.setdefault("max_channels", s.space.max_channels)
        morphisms.append(
            _resolve(f"morphisms.enabled[{i}]", lambda n=name, p=params: get_morphism(n, **p))
        )
    objectives = [
        _resolve(
            f"objectives[{i}] ({o.name!r})",
            lambda o=o: get_objective(o.name, direction=o.direction, **o.params),
        )
        for i, o in enumerate(s.objectives)
    ]
    device = _resolve("device", lambda: resolve_device(s.device))
    for i, o in enumerate(objectives):
        _resolve(f"objectives[{i}] ({o.name!r})", lambda o=o: o.check_device(device))
    if ":" not in s.data.dataset and s.data.dataset not in DATASETS:
        _resolve("data.dataset", lambda: DATASETS.get(s.data.dataset))
    t = s.trainer
    train_config = _resolve(
        "trainer",
        lambda: TrainConfig(
            epochs=t.scratch_epochs,
            batch_size=t.batch_size,
            lr=t.lr,
            warmup=t.warmup,
            momentum=t.momentum,
            weight_decay=t.weight_decay,
            label_smoothing=t.label_smoothing,
            distill_weight=t.distill_weight,
            distill_temperature=t.distill_temperature,
            augment=t.augment,
            device=s.device,
            bf16=t.bf16,
            channels_last=t.channels_last,
        ),
    )
    rng = np.random.default_rng(np.random.SeedSequence([s.seed, 2]))
    initial = _resolve(
        "space",
        lambda: initial_genomes(
            rng,
            s.space.initial,
            stages=s.space.initial_stages,
            base_channels=s.space.initial_channels,
        ),
    )
    return Parts(strategy, morphisms, objectives, initial, train_config)


def load_data(s: Scenario) -> TaskData:
    """The scenario's dataset with its split and fidelity settings."""
    d = s.data
    loader = DATASETS.resolve(d.dataset)
    kwargs: dict[str, Any] = {
        "val_fraction": d.val_fraction,
        "train_fraction": d.train_fraction,
        "resolution": d.resolution,
        "seed": s.seed,
        **d.options,
    }
    if d.dataset in ("fashion_mnist", "cifar10"):
        kwargs.update(data_dir=d.root, download=d.download)
    return loader(**kwargs)
