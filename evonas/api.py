"""The Python API, mirroring the command line: run, resume, load a run and inspect it.

import evonas
run = evonas.run("scenarios/quick.toml")       # or a Scenario object
run.pareto_front()                               # evaluated individuals on the front
model = run.model(run.pareto_front()[0].id)      # a torch module with its weights
run = evonas.load_run("results/quick")           # later, or after `evonas resume`
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from evonas.data.datasets import TaskData
from evonas.engine.archive import ParetoArchive, hypervolume, normalised_matrix
from evonas.engine.evaluator import TrainingEvaluator
from evonas.engine.individual import Individual
from evonas.engine.search import Budget, Search, SpaceLimits
from evonas.engine.weights import WeightStore
from evonas.executor.base import Executor, InProcessExecutor
from evonas.executor.pool import LocalPoolExecutor
from evonas.model.builder import GenomeNet, build_model
from evonas.objectives.base import EvalContext, Objective
from evonas.record.run_record import RecordError, RunRecord, atomic_write_text, environment
from evonas.scenario.build import Parts, check_scenario, load_data
from evonas.scenario.parse import (
    add_import_path,
    load_scenario,
    scenario_from_dict,
    scenario_to_dict,
)
from evonas.scenario.schema import BudgetConfig, Scenario
from evonas.space.genome import Genome
from evonas.trainer.trainer import Trainer, resolve_device

CONFIG_FORMAT = 1
ProgressCallback = Callable[[Search, Individual], None]


class ObjectiveSpec(Objective):
    """A recorded objective's name, direction and normalisation, for looking at a run
    without importing the user code that computed it."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.name = spec["name"]
        self.direction = spec["direction"]
        self.cheap = bool(spec["cheap"])
        self.unit = spec.get("unit", "")
        self.bounds = (float(spec["bounds"][0]), float(spec["bounds"][1]))
        self.log_scale = bool(spec["log_scale"])

    def __call__(self, ctx: EvalContext) -> float:
        raise RuntimeError(f"objective {self.name!r} is only recorded here, not computable")


def _spec(o: Objective) -> dict[str, Any]:
    return {
        "name": o.name,
        "direction": o.direction,
        "cheap": o.cheap,
        "unit": o.unit,
        "bounds": list(o.bounds),
        "log_scale": o.log_scale,
    }


class Normalised(nn.Module):
    """An exported network that takes images scaled to [0, 1] and normalises them itself."""

    def __init__(self, net: nn.Module, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.net = net
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(list(mean)).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(list(std)).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)


@dataclass
class Run:
    """A run directory, read back."""

    dir: Path
    record: RunRecord
    scenario: Scenario
    objectives: list[ObjectiveSpec]
    input_shape: tuple[int, int, int]
    num_classes: int
    mean: tuple[float, ...]  # the training data's normalisation, for exported models
    std: tuple[float, ...]

    def history(self) -> list[Individual]:
        """Every evaluated individual, in order (failed ones included)."""
        return list(self.record.events())

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
            out.append((n, float(ind.train.get("elapsed", math.nan)), archive.hypervolume()))
        return out

    def hypervolume(self) -> float:
        return hypervolume(normalised_matrix(self.pareto_front(), self.objectives))

    def individual(self, ident: int) -> Individual:
        for ind in self.history():
            if ind.id == ident:
                return ind
        raise KeyError(f"run {self.dir} has no candidate {ident}")

    def model(self, ident: int) -> GenomeNet:
        """Candidate ``ident``'s network with its trained weights, in eval mode, on the CPU."""
        ind = self.individual(ident)
        if not ind.ok:
            raise RecordError(
                f"candidate {ident} failed ({ind.status}: {ind.error}); it has no model"
            )
        state = self.record.load_weights(ident)
        return build_model(ind.genome, self.input_shape, self.num_classes, state).eval()


def load_run(directory: str | os.PathLike[str]) -> Run:
    """Opens a run directory written by :func:`run`."""
    record = RunRecord(directory)
    config = record.config()
    if config.get("format") != CONFIG_FORMAT:
        raise RecordError(f"{record.dir}/config.json: unknown run format {config.get('format')!r}")
    for folder in config.get("import_paths", []):
        add_import_path(folder)
    scenario = scenario_from_dict(config["scenario"], source=str(record.dir / "config.json"))
    task = config["task"]
    return Run(
        dir=record.dir,
        record=record,
        scenario=scenario,
        objectives=[ObjectiveSpec(s) for s in config["objectives"]],
        input_shape=(
            int(task["input_shape"][0]),
            int(task["input_shape"][1]),
            int(task["input_shape"][2]),
        ),
        num_classes=int(task["num_classes"]),
        mean=tuple(task["mean"]),
        std=tuple(task["std"]),
    )


def run(
    scenario: Scenario | str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    on_progress: ProgressCallback | None = None,
    import_path: str | os.PathLike[str] | None = None,
    source: str | None = None,
) -> Run:
    """Runs a scenario (a :class:`Scenario` or a TOML file) and returns the finished run.

    Everything the scenario names is resolved before any data is loaded; the run directory
    is ``out`` or ``results/<scenario name>``. ``import_path``: a folder with the
    scenario's own plug-ins (a file's own folder is used automatically); ``source``: the
    file named in error messages.
    """
    if not isinstance(scenario, Scenario):
        import_path = import_path or Path(scenario).resolve().parent
    import_paths = [str(Path(import_path).resolve())] if import_path is not None else []
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    source = source or (str(scenario) if not isinstance(scenario, Scenario) else s.name)
    parts = check_scenario(s, source)
    record = RunRecord(Path(out) if out is not None else Path("results") / s.name)
    data = load_data(s)
    config = {
        "format": CONFIG_FORMAT,
        "scenario": scenario_to_dict(s),
        "import_paths": import_paths,  # where the scenario's own plug-ins live
        "objectives": [_spec(o) for o in parts.objectives],
        "task": {
            "input_shape": list(data.input_shape),
            "num_classes": data.num_classes,
            "mean": list(data.mean),
            "std": list(data.std),
            "dataset": data.describe(),
        },
    }
    record.create(config, environment(resolve_device(s.device).type))
    _execute(s, parts, record, data, [], {}, 0.0, on_progress)
    return load_run(record.dir)


def resume(
    directory: str | os.PathLike[str],
    *,
    on_progress: ProgressCallback | None = None,
    budget: dict[str, float] | None = None,
) -> Run:
    """Continues a stopped or killed run where it was.

    Finished evaluations are kept (a candidate whose weights are missing or damaged, and
    everything after it, is evaluated again: the run goes on from its last good state);
    the strategy is replayed through the recorded results, so it continues as the original
    run would have; ids are never reused. ``budget`` (keys evaluations, minutes, epochs)
    replaces the run's budget, e.g. to extend a finished run.
    """
    loaded = load_run(directory)
    record, s = loaded.record, loaded.scenario
    if budget:
        s = dataclasses.replace(s, budget=BudgetConfig(**budget))  # type: ignore[arg-type]
        config = record.config()
        config["scenario"] = scenario_to_dict(s)
        atomic_write_text(record.dir / "config.json", json.dumps(config, indent=2, sort_keys=True))
    parts = check_scenario(s, str(record.dir / "config.json"))
    events = list(record.events())
    good: list[Individual] = []
    for ind in events:
        if ind.ok:
            try:
                record.load_weights(ind.id)
            except RecordError as exc:
                warnings.warn(f"{exc}; resuming from candidate {ind.id}", stacklevel=2)
                break
        good.append(ind)
    lines = [
        line for line in (record.dir / "events.jsonl").read_text().splitlines() if line.strip()
    ]
    if len(good) != len(lines):
        record.rewrite_events(good)
    data = load_data(s)
    elapsed = float(good[-1].train.get("elapsed", 0.0)) if good else 0.0
    _execute(s, parts, record, data, good, record.cheap_cache(), elapsed, on_progress)
    return load_run(record.dir)


@dataclass(frozen=True)
class ScenarioEvaluator:
    """Builds a scenario's training evaluator; picklable, so each worker process (pool,
    Ray) can build its own, with the data on its own device."""

    scenario: dict[str, Any]  # the resolved scenario, as plain data
    import_paths: tuple[str, ...] = ()  # folders with the scenario's plug-ins

    def __call__(self) -> TrainingEvaluator:
        return self.build(None)

    def build(self, data: TaskData | None) -> TrainingEvaluator:
        for folder in self.import_paths:
            add_import_path(folder)
        s = scenario_from_dict(self.scenario)
        trainer = Trainer(
            data if data is not None else load_data(s), check_scenario(s).train_config
        )
        t = s.trainer
        return TrainingEvaluator(
            trainer, child_epochs=t.child_epochs, scratch_epochs=t.scratch_epochs, distill=t.distill
        )


def make_executor(s: Scenario, data: TaskData, import_paths: Sequence[str] = ()) -> Executor:
    """The executor a scenario asks for (``[executor]``)."""
    e = s.executor
    factory = ScenarioEvaluator(scenario_to_dict(s), tuple(import_paths))
    if e.kind == "inprocess":
        return InProcessExecutor(factory.build(data))
    if e.kind == "pool":
        return LocalPoolExecutor(
            factory,
            e.workers,
            data.input_shape,
            data.num_classes,
            threads_per_worker=e.threads_per_worker,
        )
    from evonas.executor.ray_executor import RayExecutor

    return RayExecutor(
        factory,
        e.workers,
        data.input_shape,
        data.num_classes,
        address=e.address,
        cpus_per_task=e.cpus_per_task,
        gpus_per_task=e.gpus_per_task,
    )


def _execute(
    s: Scenario,
    parts: Parts,
    record: RunRecord,
    data: TaskData,
    replay: list[Individual],
    cheap: dict[str, dict[str, float]],
    elapsed: float,
    on_progress: ProgressCallback | None,
) -> None:
    b = s.budget
    search: Search

    def on_individual(ind: Individual) -> None:
        record.append(ind)
        record.write_pareto(search.archive.front(), parts.objectives)
        if on_progress is not None:
            on_progress(search, ind)

    search = Search(
        strategy=parts.strategy,
        executor=make_executor(s, data, record.config().get("import_paths", [])),
        objectives=parts.objectives,
        initial=parts.initial,
        budget=Budget(b.evaluations, b.minutes * 60 if b.minutes is not None else None, b.epochs),
        seed=s.seed,
        morphisms=parts.morphisms,
        inheritance=s.trainer.inheritance,
        limits=SpaceLimits(s.space.max_nodes, s.space.max_channels, s.space.max_params),
        weights=WeightStore(record.save_weights, record.load_weights),
        on_individual=on_individual,
        on_cheap=record.append_cheap,
        replay=replay,
        cheap_cache=cheap,
        elapsed=elapsed,
    )
    search.run()
    record.write_pareto(search.archive.front(), parts.objectives)


def export_model(
    run: Run,
    ident: int,
    *,
    fmt: str = "state_dict",
    out: Path | None = None,
    retrain_epochs: float = 0.0,
) -> tuple[Path, float | None]:
    """Writes candidate ``ident`` for use outside evonas; returns the file and, when
    retrained first, the test accuracy.

    The exported network takes images scaled to [0, 1] (N x C x H x W) and normalises them
    itself. Formats: ``state_dict`` (a ``.pt`` with the genome, shapes and weights; rebuild
    with :func:`load_exported`), ``torchscript`` (``torch.jit.load``), ``onnx``.
    """
    ind = run.individual(ident)
    net = run.model(ident)
    test_acc = None
    if retrain_epochs > 0:
        parts = check_scenario(run.scenario)
        trainer = Trainer(load_data(run.scenario), parts.train_config)
        state = run.record.load_weights(ident)
        result = trainer.train(ind.genome, state, seed=run.scenario.seed, epochs=retrain_epochs)
        if not result.ok or result.state is None:
            raise RecordError(f"retraining candidate {ident} failed: {result.error}")
        net = build_model(ind.genome, run.input_shape, run.num_classes, result.state).eval()
        test_acc = 1.0 - trainer.evaluate(trainer.build(ind.genome, result.state, 0), "test")
    model = Normalised(net, run.mean, run.std).eval()
    suffix = {"state_dict": ".pt", "torchscript": ".torchscript.pt", "onnx": ".onnx"}[fmt]
    path = out or run.dir / "export" / f"{ident}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.rand((1, *run.input_shape))
    if fmt == "state_dict":
        saved = {
            "genome": ind.genome.to_dict(),
            "input_shape": list(run.input_shape),
            "num_classes": run.num_classes,
            "mean": list(run.mean),
            "std": list(run.std),
            "state_dict": net.state_dict(),
        }
        torch.save(saved, path)
    elif fmt == "torchscript":
        with torch.no_grad():
            torch.jit.trace(model, example).save(str(path))
    else:
        if importlib.util.find_spec("onnx") is None:
            raise RecordError("ONNX export needs the 'onnx' package: pip install 'evonas[onnx]'")
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}},
            dynamo=False,
        )
    return path, test_acc


def load_exported(path: str | os.PathLike[str]) -> nn.Module:
    """Rebuilds a network exported with ``format="state_dict"`` (takes images in [0, 1])."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    genome = Genome.from_dict(saved["genome"])
    c, h, w = (int(v) for v in saved["input_shape"])
    net = build_model(genome, (c, h, w), int(saved["num_classes"]), saved["state_dict"])
    return Normalised(net, saved["mean"], saved["std"]).eval()
