"""Scenario settings: frozen dataclasses, one per TOML table, with documented defaults.

A scenario file (TOML, see ``scenarios/``) is parsed into :class:`Scenario` by
:func:`evonas.scenario.load_scenario`; nothing in it is executed. Each field's comment is
its documentation; ranges are checked in ``__post_init__``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ScenarioError(ValueError):
    """A scenario that cannot run; the message names the file, the key and what is valid."""


def _check(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ScenarioError(f"{key}: {message}")


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
class SpaceConfig:
    """``[space]``: the initial networks and the limits of the search space."""

    initial: int = 5  # number of initial networks (small, simple; LEMONADE-style)
    initial_stages: tuple[int, int] = (1, 3)  # range of stage counts of initial networks
    initial_channels: tuple[int, ...] = (8, 16, 32)  # base widths drawn for initial networks
    max_nodes: int = 80  # children with more nodes are discarded
    max_channels: int = 512  # widest allowed layer (widen stops there)
    max_params: int | None = None  # children with more parameters are discarded; None: no limit

    def __post_init__(self) -> None:
        _check(self.initial >= 1, "space.initial", "must be >= 1")
        lo, hi = self.initial_stages
        _check(1 <= lo <= hi, "space.initial_stages", "must be [low, high] with 1 <= low <= high")
        _check(
            all(c >= 1 for c in self.initial_channels) and bool(self.initial_channels),
            "space.initial_channels",
            "must be a non-empty list of positive widths",
        )
        _check(self.max_nodes >= 3, "space.max_nodes", "must be >= 3")
        _check(self.max_channels >= 1, "space.max_channels", "must be >= 1")


@dataclass(frozen=True)
class StrategyConfig:
    """``[strategy]``: the search strategy and its parameters."""

    name: str = "lemonade"  # lemonade, aging, nsga2, random, or "module:Class"
    params: dict[str, Any] = field(default_factory=dict)  # constructor arguments


@dataclass(frozen=True)
class MorphismConfig:
    """``[morphisms]``: which morphisms children are made with."""

    enabled: tuple[str, ...] = ()  # names (or "module:Class"); empty: every registered one
    params: dict[str, Any] = field(default_factory=dict)  # per name: constructor arguments


@dataclass(frozen=True)
class ObjectiveConfig:
    """One ``[[objectives]]`` entry."""

    name: str  # val_error, params, flops, latency, peak_memory, or "module:attribute"
    direction: str | None = None  # "min" or "max"; default: the objective's own
    params: dict[str, Any] = field(default_factory=dict)  # constructor arguments (classes)

    def __post_init__(self) -> None:
        _check(
            self.direction in (None, "min", "max"), "objectives.direction", "must be 'min' or 'max'"
        )


@dataclass(frozen=True)
class TrainerSettings:
    """``[trainer]``: how candidates are trained."""

    child_epochs: float = 1.0  # fine-tuning budget of a child that inherited weights
    scratch_epochs: float = 3.0  # budget of networks trained from scratch (initial ones)
    batch_size: int = 128
    lr: float = 0.2  # peak learning rate (SGD, Nesterov), cosine decay to 0
    warmup: float = 0.02  # share of steps with linear warm-up
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    augment: bool = True  # random crop and flips where the dataset allows
    inheritance: bool = True  # Lamarckian: children start from the parent's weights
    distill: bool = True  # distil from the parent after approximate morphisms
    distill_weight: float = 0.5
    distill_temperature: float = 4.0
    bf16: bool = True  # bf16 autocast on CUDA
    channels_last: bool = True

    def __post_init__(self) -> None:
        _check(self.child_epochs > 0, "trainer.child_epochs", "must be > 0")
        _check(self.scratch_epochs > 0, "trainer.scratch_epochs", "must be > 0")
        _check(self.batch_size >= 1, "trainer.batch_size", "must be >= 1")
        _check(self.lr > 0, "trainer.lr", "must be > 0")
        _check(0 <= self.warmup < 1, "trainer.warmup", "must lie in [0, 1)")
        _check(0 <= self.distill_weight <= 1, "trainer.distill_weight", "must lie in [0, 1]")


@dataclass(frozen=True)
class BudgetConfig:
    """``[budget]``: when to stop; whichever limit comes first."""

    evaluations: int | None = None  # networks evaluated
    minutes: float | None = None  # wall-clock minutes of search (resumed runs continue the count)
    epochs: float | None = None  # training epochs summed over all networks

    def __post_init__(self) -> None:
        _check(
            any(v is not None for v in (self.evaluations, self.minutes, self.epochs)),
            "budget",
            "set at least one of evaluations, minutes, epochs",
        )
        for key in ("evaluations", "minutes", "epochs"):
            value = getattr(self, key)
            _check(value is None or value > 0, f"budget.{key}", "must be > 0")


@dataclass(frozen=True)
class ExecutorConfig:
    """``[executor]``: where candidates are trained."""

    kind: str = "inprocess"  # "inprocess", "pool" (local processes) or "ray"
    workers: int = 1  # concurrent trainings (pool, ray)
    address: str | None = None  # ray: an existing cluster ("auto", "ray://host:10001"); None: local
    cpus_per_task: float = 1.0  # ray: CPUs requested per training task
    gpus_per_task: float = 0.0  # ray: GPUs per task; fractions share a GPU
    threads_per_worker: int | None = None  # pool: torch threads per worker (default cores/workers)

    def __post_init__(self) -> None:
        _check(
            self.kind in ("inprocess", "pool", "ray"),
            "executor.kind",
            f"{self.kind!r} is not one of 'inprocess', 'pool', 'ray'",
        )
        _check(self.workers >= 1, "executor.workers", "must be >= 1")
        _check(
            self.gpus_per_task >= 0 and self.cpus_per_task > 0,
            "executor",
            "cpus_per_task must be > 0 and gpus_per_task >= 0",
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
    trainer: TrainerSettings = field(default_factory=TrainerSettings)
    budget: BudgetConfig = field(default_factory=lambda: BudgetConfig(evaluations=50))
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)

    def __post_init__(self) -> None:
        _check(
            bool(self.name) and "/" not in self.name, "name", "must be a non-empty name without '/'"
        )
        _check(bool(self.objectives), "objectives", "list at least one objective")
        names = [o.name for o in self.objectives]
        _check(len(set(names)) == len(names), "objectives", f"names must be unique, got {names}")
