"""Scenario settings: frozen dataclasses, one per TOML table, with documented defaults.

A scenario file (TOML, see ``scenarios/``) is parsed into :class:`Scenario` by
:func:`evonas.scenario.load_scenario`; nothing in it is executed. Each field's comment is
its documentation; ranges are checked in ``__post_init__``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from evonas.core.budget import Budget
from evonas.core.config import ConfigError, SpaceLimits
from evonas.core.config import check as _check
from evonas.trainer.settings import TrainSettings

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class ScenarioError(ConfigError):
    """A scenario that cannot run; the message names the file, the key and what is valid."""


INITIAL_SAMPLERS = ("lemonade", "chain")  # space.initial_sampler


@dataclass(frozen=True)
class DataConfig:
    """``[data]``: what to learn and at which fidelity."""

    dataset: str = "fashion_mnist"  # fashion_mnist, cifar10, synthetic, or "module:function"
    root: str | None = None  # data directory (default: $EVONAS_DATA, then Debian's package path)
    download: bool = False  # let torchvision download the data (needs a network)
    val_fraction: float = 0.1  # share of the training set held out for validation
    train_fraction: float = 1.0  # share of the remaining training images used (lower fidelity)
    resolution: int | None = None  # resize images to this side (lower fidelity); None: native
    options: dict[str, Any] = field(default_factory=dict)  # extra arguments for the loader

    def __post_init__(self) -> None:
        _check(0 < self.val_fraction < 1, "data.val_fraction", "must lie in (0, 1)")
        _check(0 < self.train_fraction <= 1, "data.train_fraction", "must lie in (0, 1]")
        _check(self.resolution is None or self.resolution >= 4, "data.resolution", "must be >= 4")


@dataclass(frozen=True)
class SpaceConfig(SpaceLimits):
    """``[space]``: the initial networks, and the limits of the search space (the fields of
    :class:`~evonas.core.config.SpaceLimits`: max_nodes, max_channels, max_params). Initial
    networks drawn over ``max_params`` are drawn again."""

    initial: int = 5  # number of initial networks (small, simple; LEMONADE-style)
    initial_stages: tuple[int, int] = (1, 3)  # range of stage counts of initial networks
    initial_channels: tuple[int, ...] = (8, 16, 32)  # base widths drawn for initial networks
    # "lemonade": small simple chains, widths doubling per stage from a base drawn from
    # initial_channels; "chain": random points of the chain space (plain or separable
    # convolutions, 1-3 a stage, each stage's width drawn from initial_channels)
    initial_sampler: str = "lemonade"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(1 <= self.initial <= 200, "space.initial", f"must lie in 1..200, got {self.initial}")
        lo, hi = self.initial_stages
        _check(1 <= lo <= hi, "space.initial_stages", "must be [low, high] with 1 <= low <= high")
        _check(
            all(c >= 1 for c in self.initial_channels) and bool(self.initial_channels),
            "space.initial_channels",
            "must be a non-empty list of positive widths",
        )
        _check(
            self.initial_sampler in INITIAL_SAMPLERS,
            "space.initial_sampler",
            f"must be one of {', '.join(map(repr, INITIAL_SAMPLERS))}, "
            f"got {self.initial_sampler!r}",
        )

    @property
    def limits(self) -> SpaceLimits:
        return SpaceLimits(self.max_nodes, self.max_channels, self.max_params)


@dataclass(frozen=True)
class StrategyConfig:
    """``[strategy]``: the search strategy and its parameters."""

    name: str = "lemonade"  # lemonade, aging, nsga2, random, or "module:Class"
    params: dict[str, Any] = field(default_factory=dict)  # constructor arguments


@dataclass(frozen=True)
class MorphismConfig:
    """``[morphisms]``: which morphisms children are made with."""

    enabled: tuple[str, ...] = ()  # names (or "module:Class"); empty: default_morphisms()
    params: dict[str, Any] = field(default_factory=dict)  # per name: constructor arguments


@dataclass(frozen=True)
class ObjectiveConfig:
    """One ``[[objectives]]`` entry."""

    name: str  # val_error, params, flops, latency, peak_memory, or "module:attribute"
    direction: str | None = None  # "min" or "max"; default: the objective's own
    params: dict[str, Any] = field(default_factory=dict)  # constructor arguments (classes)
    max: float | str | None = None  # hard constraint: value <= max ("2ms", "100k", or a number)
    min: float | str | None = None  # hard constraint: value >= min

    def __post_init__(self) -> None:
        _check(
            self.direction in (None, "min", "max"),
            "objectives.direction",
            f"must be 'min' or 'max', got {self.direction!r}",
        )


TrainerSettings = TrainSettings  # ``[trainer]``
BudgetConfig = Budget  # ``[budget]``


@dataclass(frozen=True)
class ExecutorConfig:
    """``[executor]``: where candidates are trained."""

    kind: str = "inprocess"  # a registered executor (inprocess, pool, ray) or "module:Class"
    workers: int = 1  # concurrent trainings (pool, ray)
    address: str | None = None  # ray: an existing cluster ("auto", "ray://host:10001"); None: local
    cpus_per_task: float = 1.0  # ray: CPUs requested per training task
    gpus_per_task: float = 0.0  # ray: GPUs per task; fractions share a GPU
    threads_per_worker: int | None = None  # pool: torch threads per worker (default cores/workers)

    def __post_init__(self) -> None:
        _check(self.workers >= 1, "executor.workers", f"must be >= 1, got {self.workers}")
        _check(
            self.threads_per_worker is None or self.threads_per_worker >= 1,
            "executor.threads_per_worker",
            f"must be >= 1, got {self.threads_per_worker}",
        )
        _check(
            self.gpus_per_task >= 0 and self.cpus_per_task > 0,
            "executor",
            "cpus_per_task must be > 0 and gpus_per_task >= 0",
        )


@dataclass(frozen=True)
class FidelityConfig:
    """``[fidelity]``: children fine-tune in successive-halving rungs (LEMONADE, aging,
    NSGA-II): ``min_epochs`` first, then, when in the top ``1 / eta`` of their rung by
    non-dominated rank, ``eta`` times as long in all, up to ``max_epochs``. Off (no
    ``min_epochs``): every child fine-tunes ``trainer.child_epochs``."""

    min_epochs: float | None = None  # the lowest rung; None: no rungs
    eta: int = 3  # rung growth factor and promotion rate
    max_epochs: float | None = None  # the top rung (at most); None: trainer.child_epochs

    def __post_init__(self) -> None:
        _check(
            self.min_epochs is None or (math.isfinite(self.min_epochs) and self.min_epochs > 0),
            "fidelity.min_epochs",
            f"must be a number > 0, got {self.min_epochs}",
        )
        _check(self.eta >= 2, "fidelity.eta", f"must be an integer >= 2, got {self.eta}")
        _check(
            self.max_epochs is None
            or (
                math.isfinite(self.max_epochs)
                and self.max_epochs >= (self.min_epochs or 0)
                and self.max_epochs > 0
            ),
            "fidelity.max_epochs",
            f"must be a number >= fidelity.min_epochs, got {self.max_epochs}",
        )


@dataclass(frozen=True)
class Scenario:
    """A whole search: what, how, for how long, and where."""

    name: str  # run name; the run directory is results/<name>/ unless --out says otherwise
    seed: int = 0  # the one seed every random choice derives from
    device: str = "auto"  # training device: auto (cuda, mps, cpu), cpu, cuda, cuda:1, ...
    data: DataConfig = field(default_factory=DataConfig)
    space: SpaceConfig = field(default_factory=SpaceConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    morphisms: MorphismConfig = field(default_factory=MorphismConfig)
    objectives: tuple[ObjectiveConfig, ...] = (
        ObjectiveConfig("val_error"),
        ObjectiveConfig("params"),
    )
    trainer: TrainSettings = field(default_factory=TrainSettings)
    budget: Budget = field(default_factory=lambda: Budget(evaluations=50))
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)
    fidelity: FidelityConfig = field(default_factory=FidelityConfig)

    def __post_init__(self) -> None:
        _check(
            bool(NAME.fullmatch(self.name)) and self.name not in (".", ".."),
            "name",
            f"{self.name!r} is not a plain name: use letters, digits, '.', '_' and '-', "
            "starting with a letter or digit (it names the run directory)",
        )
        _check(0 <= self.seed < 2**63, "seed", f"must lie in 0..2**63-1, got {self.seed}")
        _check(bool(self.device.strip()), "device", "must be auto, cpu, cuda, cuda:N or mps")
        _check(bool(self.objectives), "objectives", "list at least one objective")
        names = [o.name for o in self.objectives]
        _check(len(set(names)) == len(names), "objectives", f"names must be unique, got {names}")
