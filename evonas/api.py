"""The Python API, mirroring the command line: run a scenario, resume a run.

import evonas
run = evonas.run("scenarios/quick.toml")       # or a Scenario object
run.pareto_front()                               # evaluated individuals on the front
model = run.model(run.pareto_front()[0].id)      # a torch module with its weights
run = evonas.load_run("results/quick")           # later, or after `evonas resume`
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from evonas.core.budget import Budget
from evonas.core.individual import Individual
from evonas.core.observer import Observer
from evonas.record.run import Run, RunConfig, TaskInfo, load_run
from evonas.record.run_record import RecordError, RunRecord, environment
from evonas.scenario.build import Parts, build_search, load_data, resolve
from evonas.scenario.parse import add_import_path, load_scenario
from evonas.scenario.schema import Scenario
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

    Everything the scenario names is resolved before any data is loaded; the run directory
    is ``out`` or ``results/<scenario name>``. ``observers`` see every step (e.g. a progress
    display); ``import_path``: a folder with the scenario's own plug-ins (a file's own
    folder is used automatically); ``source``: the file named in error messages.
    """
    if not isinstance(scenario, Scenario):
        import_path = import_path or Path(scenario).resolve().parent
    import_paths = (str(Path(import_path).resolve()),) if import_path is not None else ()
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    source = source or (str(scenario) if not isinstance(scenario, Scenario) else s.name)
    parts = resolve(s, source)
    record = RunRecord(Path(out) if out is not None else Path("results") / s.name)
    data = load_data(s)  # before anything is written: a missing dataset leaves no directory
    config = RunConfig(
        scenario=s,
        objectives=tuple(o.info for o in parts.objectives),
        task=TaskInfo(data.input_shape, data.num_classes, data.mean, data.std, data.describe()),
        import_paths=import_paths,
    )
    record.create(config.to_dict(), environment(resolve_device(s.device).type))
    return _search(record, config, parts, observers, [])


def resume(
    directory: str | os.PathLike[str],
    *,
    observers: Sequence[Observer] = (),
    budget: Budget | None = None,
) -> Run:
    """Continues a stopped or killed run where it was.

    Finished evaluations are kept (a candidate whose weights are missing or damaged, and
    everything after it, is evaluated again); the strategy's state is restored from the
    recorded history, so a run resumes under a later evonas version too; ids are never
    reused. ``budget`` replaces the run's budget, e.g. to extend a finished run.
    """
    loaded = load_run(directory)
    record, config = loaded.record, loaded.config
    for folder in config.import_paths:
        add_import_path(folder)
    if budget is not None:
        config = dataclasses.replace(
            config, scenario=dataclasses.replace(config.scenario, budget=budget)
        )
        record.write_config(config.to_dict())
    parts = resolve(config.scenario, str(record.dir / "config.json"))
    return _search(record, config, parts, observers, _trusted_history(record))


def _search(
    record: RunRecord,
    config: RunConfig,
    parts: Parts,
    observers: Sequence[Observer],
    history: list[Individual],
) -> Run:
    """Runs the search of a run directory (new, or continued from ``history``)."""
    s = config.scenario
    search = build_search(
        s,
        parts,
        load_data(s),
        observers=[record, *observers],
        weights=record,
        history=history,
        cheap_cache=record.cheap_cache(),
        import_paths=config.import_paths,
    )
    search.run()
    return Run(record.dir, record, config)


def _trusted_history(record: RunRecord) -> list[Individual]:
    """The journal up to the first individual whose weights are missing or damaged (that
    one and everything after it is evaluated again); rewrites the journal when cut."""
    events = list(record.events())
    good: list[Individual] = []
    for ind in events:
        if ind.ok:
            try:
                record.load_weights(ind.id)
            except RecordError as exc:
                warnings.warn(f"{exc}; resuming from candidate {ind.id}", stacklevel=3)
                break
        good.append(ind)
    if len(good) != record.event_lines():
        record.rewrite_events(good)
    return good
