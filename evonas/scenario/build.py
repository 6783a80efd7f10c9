"""The composition root: the only place a scenario becomes objects.

:func:`resolve` turns every name a scenario uses (strategy, morphisms, objectives, dataset,
executor, device) into objects before any data is loaded or network trained, so a
misspelt name fails at once with the key it came from; :func:`load_data` loads the
dataset; :func:`build_search` assembles the search loop from the parts. Nothing here names
a built-in plug-in: every kind is looked up in its registry, and settings reach a plug-in
when its signature names them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from evonas.core.config import SpaceLimits
from evonas.core.errors import UserError
from evonas.core.individual import Individual
from evonas.core.observer import Observer, WeightBacking
from evonas.core.registry import (
    RegistryError,
    accepted_params,
    named_params,
    takes_var_keyword,
)
from evonas.core.seeds import Stream, generator
from evonas.data.datasets import DATASETS, DataOptionError, TaskData, make_task
from evonas.engine.assemble import assemble_search
from evonas.engine.scorer import Scorer
from evonas.engine.search import Search
from evonas.executor.base import EXECUTORS, Executor
from evonas.model.builder import count_params
from evonas.morphism.base import MORPHISMS, Morphism, default_morphisms
from evonas.objectives.base import Objective, get_objective
from evonas.scenario.schema import DataConfig, ExecutorConfig, Scenario, ScenarioError
from evonas.space.genome import Genome
from evonas.space.sampler import chain_genomes, initial_genomes
from evonas.strategy.base import Evolution, Strategy, get_strategy
from evonas.strategy.rungs import Rungs
from evonas.trainer.evaluator import TrainerFactory
from evonas.trainer.profile import resolve_device


@dataclass
class Parts:
    """Everything but the data that a scenario resolves to."""

    strategy: Strategy
    morphisms: list[Morphism]
    objectives: list[Objective]
    initial: list[Genome]
    executor: type[Executor] | Callable[..., Executor]  # what ``[executor] kind`` names


def _resolve(key: str, make: Callable[[], Any]) -> Any:
    try:
        return make()
    except (RegistryError, TypeError, ValueError) as exc:
        raise ScenarioError(f"{key}: {exc}") from None


def resolve(s: Scenario, source: str = "scenario") -> Parts:
    """Resolves every plug-in a scenario names; raises :class:`ScenarioError` naming the
    source file and the key."""
    try:
        return _parts(s)
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None


def _parts(s: Scenario) -> Parts:
    strategy: Strategy = _resolve(
        "strategy", lambda: get_strategy(s.strategy.name, **s.strategy.params)
    )
    if s.fidelity.min_epochs is not None:
        if not isinstance(strategy, Evolution):
            raise ScenarioError(
                f"fidelity: rungs apply to lemonade, aging and nsga2 (strategies made of "
                f"evolution steps), not to {s.strategy.name!r}"
                + (
                    " (asha has rungs of its own: set its min_epochs, eta, max_epochs)"
                    if s.strategy.name == "asha"
                    else ""
                )
            )
        top = s.fidelity.max_epochs or s.trainer.child_epochs
        if top < s.fidelity.min_epochs:
            raise ScenarioError(
                f"fidelity.max_epochs (default: trainer.child_epochs = {top:g}) must be >= "
                f"fidelity.min_epochs ({s.fidelity.min_epochs:g})"
            )
        strategy.use_fidelity(Rungs(s.fidelity.min_epochs, s.fidelity.eta, top, label="fidelity"))
    names = list(s.morphisms.enabled) or default_morphisms()
    unknown = set(s.morphisms.params) - set(names)
    if unknown:
        raise ScenarioError(f"morphisms.params: {sorted(unknown)} are not enabled morphisms")
    morphisms: list[Morphism] = [
        _resolve(f"morphisms.enabled[{i}]", functools.partial(_morphism, n, s))
        for i, n in enumerate(names)
    ]
    objectives: list[Objective] = [
        _resolve(
            f"objectives[{i}] ({o.name!r})",
            functools.partial(
                get_objective, o.name, direction=o.direction, upper=o.max, lower=o.min, **o.params
            ),
        )
        for i, o in enumerate(s.objectives)
    ]
    names = [o.name for o in objectives]
    if len(set(names)) != len(names):
        raise ScenarioError(f"objectives: two entries name the same objective: {names}")
    device = _resolve("device", lambda: resolve_device(s.device))
    for i, obj in enumerate(objectives):
        _resolve(f"objectives[{i}] ({obj.name!r})", functools.partial(obj.check_device, device))
    loader = _resolve("data.dataset", lambda: DATASETS.resolve(s.data.dataset))
    if not callable(loader):
        raise ScenarioError(
            f"data.dataset: {s.data.dataset!r} is not a loader function "
            f"(it is a {type(loader).__name__})"
        )
    _check_data_keys(loader, s)
    executor = _resolve("executor.kind", lambda: EXECUTORS.resolve(s.executor.kind))
    try:  # before anything is written: a run directory must not be left half made
        getattr(executor, "check_available", lambda: None)()
    except (ImportError, ValueError) as exc:
        raise ScenarioError(f"executor.kind = {s.executor.kind!r}: {exc}") from None
    _resolve("executor", lambda: _executor_options(executor, s.executor))
    rng = generator(s.seed, Stream.INITIAL)
    space = s.space
    sample = (  # the two samplers read initial_channels as stage widths / base widths
        functools.partial(chain_genomes, widths=space.initial_channels)
        if space.initial_sampler == "chain"
        else functools.partial(initial_genomes, base_channels=space.initial_channels)
    )
    initial = _resolve(
        "space",
        lambda: sample(
            rng, space.initial, stages=space.initial_stages, max_params=space.max_params
        ),
    )
    for i, genome in enumerate(initial):
        widest = max(genome.channels.values())
        problem = s.space.limits.problem(len(genome), widest, None)
        if problem is not None:
            raise ScenarioError(
                f"space: initial network {i} ({genome.short_summary()}) has {problem}"
            )
    return Parts(strategy, morphisms, objectives, initial, executor)


SPLIT_KEYS = {"val_fraction", "train_fraction", "resolution", "seed"}  # set by [data] keys


def _check_data_keys(loader: Any, s: Scenario) -> None:
    """``data.options`` keys the loader does not declare, and ``root``/``download`` set for a
    loader that does not take them, are errors. A loader declares by its signature; one
    taking ``**split`` (as the built-ins do) also takes :func:`make_task`'s split options;
    one whose signature cannot be read is not checked."""
    named = named_params(loader)
    if named is None:
        return
    if takes_var_keyword(loader):
        named |= (named_params(make_task) or set()) - {"name", "train", "test"}
    for key in ("root", "download"):
        value, default = getattr(s.data, key), getattr(DataConfig, key)
        if key not in named and value != default:
            raise ScenarioError(f"data.{key}: dataset {s.data.dataset!r} does not take {key!r}")
    own = SPLIT_KEYS | {"root", "download"}
    for key in s.data.options:
        if key in own:
            raise ScenarioError(f"data.options.{key}: set it as data.{key}, not in data.options")
        if key not in named:
            raise ScenarioError(
                f"data.options.{key}: dataset {s.data.dataset!r} has no option {key!r}; "
                f"valid: {', '.join(sorted(named - own)) or 'none'}"
            )


def check_initial_sizes(
    s: Scenario, parts: Parts, data: TaskData, source: str = "scenario"
) -> None:
    """Initial networks over ``space.max_params`` (known once the data's shapes are)."""
    for i, genome in enumerate(parts.initial if s.space.max_params is not None else []):
        params = count_params(genome, data.input_shape, data.num_classes)
        if s.space.max_params is not None and params > s.space.max_params:
            raise ScenarioError(
                f"{source}: space: initial network {i} ({genome.short_summary()}) has {params} "
                f"parameters > space.max_params = {s.space.max_params}; raise the limit or "
                "lower space.initial_channels"
            )
    scorer = Scorer(parts.objectives, data.input_shape, data.num_classes)
    problems = [scorer.cheap_problem(g) for g in parts.initial]
    if problems and all(p is not None for p in problems):
        details = "; ".join(
            f"network {i} ({g.short_summary()}): {p}"
            for i, (g, p) in enumerate(zip(parts.initial, problems, strict=True))
        )
        raise ScenarioError(
            f"{source}: objectives: no initial network meets the hard constraints, so nothing "
            f"could be trained ({details}); relax the constraint or make the initial networks "
            "smaller (space.initial_channels, space.initial_stages)"
        )


def _morphism(name: str, s: Scenario) -> Morphism:
    """A morphism with its scenario parameters; a constructor parameter named like a space
    limit (``max_channels``, ...) gets the scenario's limit unless given."""
    cls = MORPHISMS.resolve(name)
    params = dict(s.morphisms.params.get(name, {}))
    accepted = accepted_params(cls) if isinstance(cls, type) else set()
    for f in fields(SpaceLimits):
        if accepted and f.name in accepted and f.name not in params:
            params[f.name] = getattr(s.space, f.name)
    return MORPHISMS.create(name, **params)


def _executor_options(executor: Any, e: ExecutorConfig) -> dict[str, Any]:
    """The ``[executor]`` keys the executor's constructor names; a key set to other than its
    default that the executor does not take is an error."""
    accepted = accepted_params(executor)
    out: dict[str, Any] = {}
    for f in fields(ExecutorConfig):
        if f.name == "kind":
            continue
        value = getattr(e, f.name)
        if accepted is None or f.name in accepted:
            out[f.name] = value
        elif value != f.default:
            raise ValueError(
                f"{f.name} = {value!r} does not apply to executor {e.kind!r} "
                f"(it takes: {', '.join(sorted(accepted - {'evaluator', 'factory'})) or 'nothing'})"
            )
    return out


def data_request(s: Scenario) -> tuple[str, dict[str, Any]]:
    """The dataset a scenario names and its loader's keywords: the split and fidelity
    settings, ``data.options``, and ``root``/``download`` for loaders that name them."""
    d = s.data
    kwargs: dict[str, Any] = {
        "val_fraction": d.val_fraction,
        "train_fraction": d.train_fraction,
        "resolution": d.resolution,
        "seed": s.seed,
        **d.options,
    }
    named = named_params(DATASETS.resolve(d.dataset)) or set()
    for key, value in (("root", d.root), ("download", d.download)):
        if key in named:
            kwargs[key] = value
    return d.dataset, kwargs


def load_data(s: Scenario) -> TaskData:
    """The scenario's dataset with its split and fidelity settings (:func:`data_request`)."""
    name, kwargs = data_request(s)
    try:
        return DATASETS.create(name, **kwargs)
    except RegistryError as exc:
        raise ScenarioError(f"data.dataset: {exc}") from None
    except DataOptionError as exc:
        where = f"data.options.{exc.key}" if exc.key in s.data.options else f"data.{exc.key}"
        raise ScenarioError(f"{where}: {exc.problem}") from None
    except UserError:
        raise
    except Exception as exc:  # the loader's own check of its options, or its own bug
        raise ScenarioError(
            f"data.dataset: loading {name!r} failed: {type(exc).__name__}: {exc}"
        ) from None


def trainer_factory(s: Scenario) -> TrainerFactory:
    """What a worker process needs to build the scenario's evaluator, and nothing more."""
    name, kwargs = data_request(s)
    return TrainerFactory(name, kwargs, s.trainer, s.device)


def make_executor(s: Scenario, parts: Parts, data: TaskData) -> Executor:
    """The executor ``[executor]`` names, with the options its constructor takes."""
    factory = trainer_factory(s)
    options = _executor_options(parts.executor, s.executor)
    accepted = accepted_params(parts.executor) or set()
    if "evaluator" in accepted:  # runs here: the data already loaded is used
        return parts.executor(factory.build(data), **options)  # type: ignore[call-arg]
    return parts.executor(factory, **options)  # type: ignore[call-arg]


def build_search(
    s: Scenario,
    parts: Parts,
    data: TaskData,
    *,
    observers: Sequence[Observer] = (),
    weights: WeightBacking | None = None,
    history: Sequence[Individual] = (),
    cheap_cache: dict[str, dict[str, float]] | None = None,
) -> Search:
    """The search loop of a scenario, over loaded data; ``history`` and ``cheap_cache``
    continue a stopped run."""
    return assemble_search(
        strategy=parts.strategy,
        executor=make_executor(s, parts, data),
        objectives=parts.objectives,
        morphisms=parts.morphisms,
        initial=parts.initial,
        input_shape=data.input_shape,
        num_classes=data.num_classes,
        budget=s.budget,
        seed=s.seed,
        limits=s.space.limits,
        inheritance=s.trainer.inheritance,
        weights=weights,
        cheap_cache=cheap_cache,
        observers=observers,
        history=history,
    )
