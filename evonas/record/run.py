"""A run directory read back: its typed config and the :class:`Run` view of its history.

Opening a run needs no user code: objectives are read as recorded
(:class:`~evonas.core.pareto.ObjectiveInfo`), not imported.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evonas.core.individual import SAFE_NAME, Individual
from evonas.core.pareto import ObjectiveInfo, ParetoArchive, hypervolume, normalised_matrix
from evonas.model.builder import GenomeNet, build_model, count_params
from evonas.record.run_record import RecordError, RunRecord
from evonas.scenario.parse import scenario_from_dict, scenario_to_dict
from evonas.scenario.schema import Scenario, ScenarioError

CONFIG_FORMAT = 1


@dataclass(frozen=True)
class TaskInfo:
    """The task a run learned: shapes, and the normalisation exported models build in."""

    input_shape: tuple[int, int, int]
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    dataset: str = ""  # the loader's description of the data


SAFE_UNIT = re.compile(r"^[\w/%.µ-]{0,24}$")
"""An objective's unit as read from a run directory (``s``, ``FLOPs``, ``uJ``)."""


@dataclass(frozen=True)
class RunConfig:
    """``config.json``: written once when a run is created."""

    scenario: Scenario  # every setting, defaults filled in
    objectives: tuple[ObjectiveInfo, ...]  # as they were when the run started
    task: TaskInfo
    import_paths: tuple[str, ...] = ()  # folders with the scenario's own plug-ins

    def to_dict(self) -> dict[str, Any]:
        t = self.task
        return {
            "format": CONFIG_FORMAT,
            "scenario": scenario_to_dict(self.scenario),
            "import_paths": list(self.import_paths),
            "objectives": [o.to_dict() for o in self.objectives],
            "task": {
                "input_shape": list(t.input_shape),
                "num_classes": t.num_classes,
                "mean": list(t.mean),
                "std": list(t.std),
                "dataset": t.dataset,
            },
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str) -> RunConfig:
        if d.get("format") != CONFIG_FORMAT:
            raise RecordError(f"{source}: unknown run format {d.get('format')!r}")
        try:
            task = d["task"]
            c, h, w = (int(v) for v in task["input_shape"])
            return _check_names(
                cls(
                    scenario=scenario_from_dict(d["scenario"], source=source),
                    objectives=tuple(ObjectiveInfo.from_dict(o) for o in d["objectives"]),
                    task=TaskInfo(
                        (c, h, w),
                        int(task["num_classes"]),
                        tuple(float(v) for v in task["mean"]),
                        tuple(float(v) for v in task["std"]),
                        str(task.get("dataset") or ""),
                    ),
                    import_paths=tuple(str(p) for p in d.get("import_paths", [])),
                ),
                source,
            )
        except ScenarioError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
            raise RecordError(
                f"{source}: damaged run config ({type(exc).__name__}: {exc})"
            ) from None


def _check_names(config: RunConfig, source: str) -> RunConfig:
    """Names read from a run directory reach terminals and reports: they must be plug-in
    names and units, with nothing a terminal or a browser would interpret."""
    for o in config.objectives:
        if not SAFE_NAME.match(o.name) or not SAFE_UNIT.match(o.unit):
            raise RecordError(
                f"{source}: objective {o.name!r} (unit {o.unit!r}) is not a plug-in name and "
                "unit; this run directory was not written by evonas"
            )
    if not re.fullmatch(r"[\w .:-]{1,128}", config.scenario.name):
        raise RecordError(f"{source}: scenario name {config.scenario.name!r} is not a name")
    return config


MAX_RECORDED_PARAMS = 2_000_000_000
"""The most parameters a network read from a run directory may have (8 GB in float32),
whatever the run's own limits say: its config is untrusted data too."""


def check_network(ind: Individual, config: RunConfig, source: Path) -> None:
    """Refuses (:class:`RecordError`) a recorded network outside its run's space limits or
    beyond :data:`MAX_RECORDED_PARAMS`, before anything is allocated for it."""
    shape, classes = config.task.input_shape, config.task.num_classes
    params = count_params(ind.genome, shape, classes)
    widest = max(ind.genome.channels.values(), default=0)
    problem = config.scenario.space.problem(len(ind.genome), widest, params)
    if problem is None and params > MAX_RECORDED_PARAMS:
        problem = f"{params} parameters > {MAX_RECORDED_PARAMS}"
    if problem is not None:
        raise RecordError(
            f"{source}: candidate {ind.id}'s network is outside the run's space ({problem}); "
            "this run directory was not written by evonas as it is"
        )


@dataclass
class Run:
    """A run directory, read back."""

    dir: Path
    record: RunRecord
    config: RunConfig

    @property
    def scenario(self) -> Scenario:
        return self.config.scenario

    @property
    def objectives(self) -> list[ObjectiveInfo]:
        return list(self.config.objectives)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.config.task.input_shape

    @property
    def num_classes(self) -> int:
        return self.config.task.num_classes

    @property
    def mean(self) -> tuple[float, ...]:
        return self.config.task.mean

    @property
    def std(self) -> tuple[float, ...]:
        return self.config.task.std

    def history(self) -> list[Individual]:
        """Every evaluated individual, in order (failed ones included); one that lacks an
        objective of this run raises :class:`RecordError` (the record was not written by
        this run)."""
        names = [o.name for o in self.objectives]
        out = []
        for ind in self.record.events():
            missing = [n for n in names if n not in ind.objectives]
            if missing:
                raise RecordError(
                    f"{self.dir / 'events.jsonl'}: candidate {ind.id} lacks objective(s) "
                    f"{missing} of this run; this journal was not written by this run"
                )
            out.append(ind)
        return out

    def check_network(self, ind: Individual) -> None:
        """See :func:`check_network`."""
        check_network(ind, self.config, self.dir)

    def pareto_front(self) -> list[Individual]:
        archive = ParetoArchive(self.objectives)
        archive.add(self.history())
        return archive.front()

    def hypervolume_history(self) -> list[tuple[int, float, float]]:
        """(evaluations, elapsed seconds, hypervolume of the front so far) after each one."""
        archive = ParetoArchive(self.objectives)
        out = []
        for n, ind in enumerate(self.history(), start=1):
            archive.add([ind])
            elapsed = ind.train.elapsed if ind.train.elapsed else math.nan
            out.append((n, float(elapsed), archive.hypervolume()))
        return out

    def hypervolume(self) -> float:
        return hypervolume(normalised_matrix(self.pareto_front(), self.objectives))

    def pick(self, where: Sequence[str] = (), best: str | None = None) -> Individual:
        """The front's network meeting every condition of ``where`` (``"params<=100k"``,
        ``"val_error<=15%"``), best on ``best``, or the knee of the front without it: what
        ``evonas pick`` chooses (Optuna's ``best_trials`` with a preference)."""
        from evonas.record.pick import pick

        return pick(self, where, best)

    def rows(self) -> list[dict[str, Any]]:
        """Every evaluated network as a flat row: id, parent, status, objectives, whether
        it is on the front, epochs trained, its rung and whether that result is provisional
        (with ``[fidelity]``), what a learned acceptance predicted of each objective measured
        by training (``predicted_<name>``, None where nothing was), training seconds, network
        notation."""
        front = {i.id for i in self.pareto_front()}
        measured = [o.name for o in self.objectives if not o.cheap]
        return [
            {
                "id": ind.id,
                "parent_id": ind.parent_id,
                "status": str(ind.status),
                **ind.objectives,
                "on_front": ind.id in front,
                "epochs": ind.train.epochs,
                "rung": ind.train.rung,
                "provisional": ind.train.provisional,
                **{f"predicted_{n}": ind.predicted.get(n) for n in measured},
                "train_seconds": ind.train.train_seconds,
                "morphisms": "+".join(m.name for m in ind.morphisms),
                "network": ind.genome.short_summary(),
            }
            for ind in self.history()
        ]

    def to_dataframe(self) -> Any:
        """:meth:`rows` as a pandas DataFrame (pandas is not a dependency of evonas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "Run.to_dataframe needs pandas (pip install pandas); Run.rows() gives the "
                "same table as a list of dicts"
            ) from None
        return pd.DataFrame(self.rows())

    def stop_reason(self) -> str | None:
        """Why the search stopped, as recorded (None: still running, or killed)."""
        return self.record.stop_reason()

    def individual(self, ident: int) -> Individual:
        for ind in self.history():
            if ind.id == ident:
                return ind
        known = self.history()
        span = f"ids {known[0].id}..{known[-1].id}" if known else "no candidates yet"
        raise RecordError(f"{self.dir}: no candidate {ident} ({span})")

    def model(self, ident: int) -> GenomeNet:
        """Candidate ``ident``'s network with its trained weights, in eval mode, on the CPU."""
        ind = self.individual(ident)
        if not ind.ok:
            raise RecordError(
                f"candidate {ident} failed ({ind.status}: {ind.error}); it has no model"
            )
        self.check_network(ind)
        state = self.record.load_weights(ident)
        return build_model(ind.genome, self.input_shape, self.num_classes, state).eval()


def check_comparable(runs: Sequence[Run]) -> None:
    """Runs shown side by side must share their objectives and how each is normalised for
    hypervolume (a :class:`RecordError` else)."""
    if not runs:
        raise RecordError("give at least one run")
    names = [o.name for o in runs[0].objectives]
    for run in runs[1:]:
        if [o.name for o in run.objectives] != names:
            raise RecordError(
                f"cannot compare {run.dir}: objectives {[o.name for o in run.objectives]} "
                f"differ from {runs[0].dir}'s {names}"
            )
        for mine, first in zip(run.objectives, runs[0].objectives, strict=True):
            if mine.scale != first.scale:
                raise RecordError(
                    f"cannot compare {run.dir}: its hypervolume normalises {mine.scale}, "
                    f"{runs[0].dir}'s {first.scale}; compare runs recorded with the same "
                    "objective bounds"
                )


def load_run(directory: str | os.PathLike[str]) -> Run:
    """Opens a run directory written by :func:`evonas.run`."""
    record = RunRecord(directory)
    config = RunConfig.from_dict(record.config(), str(record.dir / "config.json"))
    return Run(record.dir, record, config)
