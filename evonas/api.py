"""The Python API, mirroring the command line: run a scenario, resume a run.

import evonas
run = evonas.run("scenarios/quick.toml")       # or a Scenario object
run.pareto_front()                               # evaluated individuals on the front
model = run.model(run.pareto_front()[0].id)      # a torch module with its weights
run = evonas.load_run("results/quick")           # later, or after `evonas resume`
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from evonas.core.budget import Budget, Progress
from evonas.core.errors import UserError
from evonas.core.individual import Individual
from evonas.core.observer import Observer
from evonas.core.registry import add_import_path
from evonas.data.datasets import TaskData
from evonas.model.builder import build_model
from evonas.record.run import Run, RunConfig, TaskInfo, check_network, load_run
from evonas.record.run_record import RecordError, RunRecord, environment
from evonas.scenario.build import Parts, build_search, check_initial_sizes, load_data, resolve
from evonas.scenario.parse import load_scenario
from evonas.scenario.schema import Scenario, ScenarioError
from evonas.trainer.trainer import resolve_device


def run(
    scenario: Scenario | str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    observers: Sequence[Observer] = (),
    import_path: str | os.PathLike[str] | None = None,
    source: str | None = None,
) -> Run:
    """Runs a scenario (a :class:`Scenario` or a TOML file) and returns the finished run.

    Everything the scenario names is resolved, and the data loaded, before anything is
    written; the run directory is ``out`` or ``results/<scenario name>``, locked for the
    run's life. ``observers`` see every step (e.g. a progress display); ``import_path``: a
    folder with the scenario's own plug-ins (a file's own folder is used automatically);
    ``source``: the file named in error messages.
    """
    if not isinstance(scenario, Scenario):
        import_path = import_path or Path(scenario).resolve().parent
    import_paths = (str(Path(import_path).resolve()),) if import_path is not None else ()
    for folder in import_paths:
        add_import_path(folder)
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    source = source or (str(scenario) if not isinstance(scenario, Scenario) else s.name)
    parts, data = _prepare(s, source)
    record = RunRecord(Path(out) if out is not None else Path("results") / s.name)
    config = RunConfig(
        scenario=s,
        objectives=tuple(o.info for o in parts.objectives),
        task=TaskInfo(data.input_shape, data.num_classes, data.mean, data.std, data.describe()),
        import_paths=import_paths,
    )
    with record.locked(create=True):
        record.create(config.to_dict(), environment(resolve_device(s.device).type))
        return _search(record, config, parts, data, observers, [])


def resume(
    directory: str | os.PathLike[str],
    *,
    observers: Sequence[Observer] = (),
    budget: Budget | None = None,
    import_paths: Sequence[str | os.PathLike[str]] = (),
) -> Run:
    """Continues a stopped or killed run where it was.

    Finished evaluations are kept (a candidate whose weights are missing, damaged or do not
    fit its network, and everything after it, is evaluated again); the strategy's state is
    restored from the recorded history, so a run resumes under a later evonas version too;
    ids are never reused. ``budget`` replaces the run's budget (it must go beyond what is
    done). Plug-ins the run names are imported from the user's environment (installed
    packages, ``PYTHONPATH``, the current folder) and ``import_paths``, never from folders
    the run directory names.
    """
    config = load_run(directory).config  # a directory that is no run is not touched
    record = RunRecord(directory)
    with record.locked():
        for folder in import_paths:
            add_import_path(Path(folder).resolve())
        if budget is not None:
            _check_extends(budget, list(record.events()), record)
            config = dataclasses.replace(
                config, scenario=dataclasses.replace(config.scenario, budget=budget)
            )
        parts, data = _prepare(config.scenario, str(record.dir / "config.json"), config)
        if budget is not None:
            record.write_config(config.to_dict())
        history = _trusted_history(record, config)
        return _search(record, config, parts, data, observers, history)


def plugin_sources(scenario: Scenario) -> dict[str, str]:
    """Every ``module:attribute`` the scenario names, and the file it would be imported
    from in this environment ("not found" when it is not importable)."""
    refs = [scenario.strategy.name, scenario.data.dataset, scenario.executor.kind]
    refs += list(scenario.morphisms.enabled) + [o.name for o in scenario.objectives]
    out = {}
    for ref in refs:
        if ":" in ref:
            try:
                spec = importlib.util.find_spec(ref.partition(":")[0])
            except (ImportError, ValueError):
                spec = None
            out[ref] = spec.origin if spec is not None and spec.origin else "not found"
    return out


def _prepare(s: Scenario, source: str, config: RunConfig | None = None) -> tuple[Parts, TaskData]:
    """Resolves every plug-in, loads the data and checks the initial networks against the
    limits: everything that can fail on bad input, before anything is written."""
    try:
        parts = resolve(s, source)
    except ScenarioError as exc:
        if config is not None and config.import_paths and "cannot import module" in str(exc):
            folders = ", ".join(config.import_paths)
            raise ScenarioError(
                f"{exc}. When the run started, its plug-ins were imported from {folders}; "
                "if you trust that folder's code, resume with --import-path FOLDER"
            ) from None
        raise
    try:
        data = load_data(s)
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None
    check_initial_sizes(s, parts, data, source)
    return parts, data


def _search(
    record: RunRecord,
    config: RunConfig,
    parts: Parts,
    data: TaskData,
    observers: Sequence[Observer],
    history: list[Individual],
) -> Run:
    """Runs the search of a run directory (new, or continued from ``history``)."""
    search = build_search(
        config.scenario,
        parts,
        data,
        observers=[record, *observers],
        weights=record,
        history=history,
        cheap_cache=record.cheap_cache(),
    )
    search.run()
    return Run(record.dir, record, config)


def _check_extends(budget: Budget, events: list[Individual], record: RunRecord) -> None:
    """A new budget must go beyond what the run has done; else nothing is changed."""
    done = Progress(
        evaluations=len(events),
        epochs=sum(i.train.epochs for i in events),
        seconds=events[-1].train.elapsed if events else 0.0,
    )
    if budget.done(done):
        raise UserError(
            f"{record.dir} has already done {done.evaluations} evaluations, "
            f"{done.seconds / 60:.1f} minutes and {done.epochs:.1f} epochs: the new budget "
            f"({budget.reason(done).removeprefix('budget reached: ')}) does not extend it; "
            "nothing was changed"
        )


def _trusted_history(record: RunRecord, config: RunConfig) -> list[Individual]:
    """The journal up to the first individual whose weights are missing, damaged or do not
    fit its network (that one and everything after it is evaluated again); rewrites the
    journal when cut."""
    events = list(record.events())
    good: list[Individual] = []
    shape, classes = config.task.input_shape, config.task.num_classes
    for ind in events:
        if ind.ok:
            try:
                check_network(ind, config, record.dir)
                state = record.load_weights(ind.id)
                expected = build_model(ind.genome, shape, classes).state_dict()
                if {k: v.shape for k, v in state.items()} != {
                    k: v.shape for k, v in expected.items()
                }:
                    raise RecordError(
                        f"weights file {record.weight_path(ind.id)} does not fit candidate "
                        f"{ind.id}'s network"
                    )
            except RecordError as exc:
                warnings.warn(f"{exc}; resuming from candidate {ind.id}", stacklevel=3)
                break
        good.append(ind)
    lines = record.event_lines()
    if len(good) != lines:
        kept = record.rewrite_events(good)
        where = f"after candidate {good[-1].id}" if good else "(all of them)"
        warnings.warn(
            f"{lines - len(good)} journal line(s) {where} are evaluated again; the journal "
            f"as it was is kept in {kept}",
            stacklevel=3,
        )
    return good
