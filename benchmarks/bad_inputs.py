"""Bad input, answered in words: malformed scenarios, failing plug-ins, damaged run
directories and wrong command-line arguments, each run through the command line in a fresh
directory.

For every case it records whether a traceback escaped (``tracebacks``), whether a case that
must fail exited 0 without a word on stderr (``silent_exit0``), and whether a case that
failed had written or changed files first (``wrote_before_fail``; the run directory's lock
file, which records who last held it, aside). Cases marked *recover* (damaged weights, a
wrong ``cheap.jsonl`` line) must instead exit 0 and finish the run.

Last line: ``cases=<n> tracebacks=<n> silent_exit0=<n> wrote_before_fail=<n>``. Target:
``cases >= 80`` and the three counts 0, in under 3 minutes on 2 cores.

    python benchmarks/bad_inputs.py [--verbose]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DATA = (
    'dataset = "synthetic"\n'
    "options = { n_train = 96, n_test = 32, shape = [1, 8, 8], num_classes = 3 }"
)
"""The base scenario's data lines, which some cases replace."""

BASE = """
name = "case"
seed = 0
device = "cpu"

[data]
dataset = "synthetic"
options = { n_train = 96, n_test = 32, shape = [1, 8, 8], num_classes = 3 }

[space]
initial = 2
initial_stages = [1, 1]
initial_channels = [4]

[strategy]
name = "nsga2"
params = { population_size = 2 }

[[objectives]]
name = "val_error"

[[objectives]]
name = "params"

[trainer]
child_epochs = 0.25
scratch_epochs = 0.5
batch_size = 32

[budget]
evaluations = 4
"""


@dataclass
class Case:
    """One bad input: files to lay out, then the command line to run there."""

    name: str
    argv: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    run_dir: str | None = None  # a finished run copied in as "run" ("base", "other", "failed")
    damage: Callable[[Path], None] | None = None  # changes the copied run directory
    recover: bool = False  # must exit 0 and finish (a damage evonas repairs)


FIDELITY = {
    "min-zero": "min_epochs = 0",
    "min-text": 'min_epochs = "half"',
    "eta-one": "min_epochs = 0.1\neta = 1",
    "eta-float": "min_epochs = 0.1\neta = 2.5",
    "max-below-min": "min_epochs = 1.0\nmax_epochs = 0.5",
    "max-below-min-default": "min_epochs = 1.0",  # max: child_epochs = 0.25
    "unknown-key": "min_epoch = 0.1",
    "max-inf": "min_epochs = 0.1\nmax_epochs = inf",
}
"""``[fidelity]`` tables that must be refused (LEMONADE-style rungs)."""


def edit(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def scenario_cases() -> list[Case]:
    """Scenario files: syntax, types, names, ranges."""
    edits = {
        "not-toml": ('name = "case"', "name = "),
        "unknown-key": ("seed = 0", "seed = 0\nsede = 1"),
        "unknown-nested-key": ("batch_size = 32", "batch_sise = 32"),
        "seed-string": ("seed = 0", 'seed = "abc"'),
        "seed-negative": ("seed = 0", "seed = -1"),
        "seed-float": ("seed = 0", "seed = 1.5"),
        "seed-too-big": ("seed = 0", "seed = 18446744073709551616"),
        "evaluations-zero": ("evaluations = 4", "evaluations = 0"),
        "minutes-negative": ("evaluations = 4", "minutes = -1"),
        "epochs-string": ("evaluations = 4", 'epochs = "ten"'),
        "budget-empty": ("evaluations = 4", ""),
        "candidate-minutes-zero": ("evaluations = 4", "evaluations = 4\ncandidate_minutes = 0"),
        "scratch-epochs-inf": ("scratch_epochs = 0.5", "scratch_epochs = inf"),
        "child-epochs-nan": ("child_epochs = 0.25", "child_epochs = nan"),
        "lr-zero": ("batch_size = 32", "batch_size = 32\nlr = 0"),
        "batch-size-zero": ("batch_size = 32", "batch_size = 0"),
        "warmup-too-big": ("batch_size = 32", "batch_size = 32\nwarmup = 1.5"),
        "distill-weight": ("batch_size = 32", "batch_size = 32\ndistill_weight = 2"),
        "val-fraction-one": ('dataset = "synthetic"', 'dataset = "synthetic"\nval_fraction = 1.0'),
        "train-fraction-zero": (
            'dataset = "synthetic"',
            'dataset = "synthetic"\ntrain_fraction = 0',
        ),
        "resolution-tiny": ('dataset = "synthetic"', 'dataset = "synthetic"\nresolution = 2'),
        "initial-zero": ("initial = 2", "initial = 0"),
        "initial-absurd": ("initial = 2", "initial = 1000000000"),
        "max-nodes-two": ("initial = 2", "initial = 2\nmax_nodes = 2"),
        "stages-reversed": ("initial_stages = [1, 1]", "initial_stages = [3, 1]"),
        "channels-empty": ("initial_channels = [4]", "initial_channels = []"),
        "max-params-below-initial": ("initial = 2", "initial = 2\nmax_params = 10"),
        "max-channels-below-initial": ("initial = 2", "initial = 2\nmax_channels = 2"),
        "objectives-duplicate": ('name = "params"', 'name = "val_error"'),
        "objectives-alias-duplicate": (
            'name = "params"',
            'name = "evonas.objectives.builtin:ValError"',
        ),
        "objective-direction": ('name = "params"', 'name = "params"\ndirection = "up"'),
        "objective-unknown": ('name = "params"', 'name = "latncy"'),
        "objective-no-name": ('name = "params"', 'direction = "min"'),
        "objective-needs-cuda": ('name = "params"', 'name = "peak_memory"'),
        "name-dotdot": ('name = "case"', 'name = ".."'),
        "name-slash": ('name = "case"', 'name = "a/b"'),
        "name-empty": ('name = "case"', 'name = ""'),
        "workers-zero": (
            "evaluations = 4",
            'evaluations = 4\n\n[executor]\nkind = "pool"\nworkers = 0',
        ),
        "threads-negative": (
            "evaluations = 4",
            'evaluations = 4\n\n[executor]\nkind = "pool"\nthreads_per_worker = -2',
        ),
        "executor-unknown": ("evaluations = 4", 'evaluations = 4\n\n[executor]\nkind = "cluster"'),
        "executor-option-wrong-kind": (
            "evaluations = 4",
            'evaluations = 4\n\n[executor]\nkind = "pool"\naddress = "auto"',
        ),
        "strategy-typo": ('name = "nsga2"', 'name = "lemonad"'),
        "strategy-bad-param": ("population_size = 2", "population_size = 1"),
        "strategy-unknown-param": ("population_size = 2", "popsize = 3"),
        "strategy-param-string": ("population_size = 2", 'population_size = "many"'),
        "strategy-param-float-for-int": ("population_size = 2", "population_size = 2.5"),
        "strategy-step-unknown": ("population_size = 2", 'population_size = 4, mating = "best"'),
        "aging-sample-too-big": (
            'name = "nsga2"\nparams = { population_size = 2 }',
            'name = "aging"\nparams = { population_size = 3, sample_size = 5 }',
        ),
        "morphism-typo": ("[[objectives]]", '[morphisms]\nenabled = ["widn"]\n\n[[objectives]]'),
        "morphism-params-not-enabled": (
            "[[objectives]]",
            '[morphisms]\nenabled = ["widen"]\nparams = { deepen = {} }\n\n[[objectives]]',
        ),
        "morphism-unknown-param": (
            "[[objectives]]",
            "[morphisms]\nparams = { widen = { factor = 3 } }\n\n[[objectives]]",
        ),
        "dataset-typo": ('dataset = "synthetic"', 'dataset = "synthetik"'),
        "dataset-no-module": ('dataset = "synthetic"', 'dataset = "nomodule_xyz:load"'),
        "dataset-not-a-loader": ('dataset = "synthetic"', 'dataset = "os:sep"'),
        "data-option-unknown": ("n_train = 96", "n_trian = 96"),
        "data-option-negative": ("n_train = 96", "n_train = -5"),
        "data-option-of-data": ("n_train = 96", "n_train = 96, seed = 3"),
        "data-root-missing": (
            DATA,
            'dataset = "fashion_mnist"\nroot = "/nonexistent/data"',
        ),
        "data-root-for-synthetic": (
            'dataset = "synthetic"',
            'dataset = "synthetic"\nroot = "/tmp"',
        ),
        "device-unknown": ('device = "cpu"', 'device = "cudaa"'),
        "device-cuda-missing": ('device = "cpu"', 'device = "cuda:7"'),
        **{
            f"fidelity-{k}": ("evaluations = 4", f"evaluations = 4\n\n[fidelity]\n{v}")
            for k, v in FIDELITY.items()
        },
        "fidelity-with-random": (
            'name = "nsga2"\nparams = { population_size = 2 }',
            'name = "random"\nparams = {}\n\n[fidelity]\nmin_epochs = 0.1',
        ),
        "fidelity-with-asha": (
            'name = "nsga2"\nparams = { population_size = 2 }',
            'name = "asha"\nparams = {}\n\n[fidelity]\nmin_epochs = 0.1',
        ),
        "fidelity-not-table": ('name = "case"', 'name = "case"\nfidelity = 0.5'),
        "acceptance-typo": ("population_size = 2", 'population_size = 2, acceptance = "predictd"'),
        "acceptance-number": ("population_size = 2", "population_size = 2, acceptance = 3"),
        "candidates-zero": ("population_size = 2", "population_size = 2, candidates = 0"),
        "p-approximate-two": ("population_size = 2", "population_size = 2, p_approximate = 2.0"),
        "morphisms-per-child-half": (
            "population_size = 2",
            "population_size = 2, morphisms_per_child = 0.5",
        ),
        "lemonade-children-text": (
            'name = "nsga2"\nparams = { population_size = 2 }',
            'name = "lemonade"\nparams = { n_children = "many" }',
        ),
        "lemonade-accept-above-children": (
            'name = "nsga2"\nparams = { population_size = 2 }',
            'name = "lemonade"\nparams = { n_children = 2, n_accept = 5 }',
        ),
        "asha-eta-one": (
            'name = "nsga2"\nparams = { population_size = 2 }',
            'name = "asha"\nparams = { eta = 1 }',
        ),
        "asha-max-below-min": (
            'name = "nsga2"\nparams = { population_size = 2 }',
            'name = "asha"\nparams = { min_epochs = 2.0, max_epochs = 1.0 }',
        ),
        "random-epochs-negative": (
            'name = "nsga2"\nparams = { population_size = 2 }',
            'name = "random"\nparams = { epochs = -1.0 }',
        ),
        "objective-max-garbage": ('name = "params"', 'name = "params"\nmax = "lots"'),
        "objective-min-above-max": ('name = "params"', 'name = "params"\nmax = 10\nmin = 100'),
        "objective-param-unknown": ('name = "params"', 'name = "latency"\nparams = { bogus = 1 }'),
        "budget-minutes-nan": ("evaluations = 4", "minutes = nan"),
        "budget-epochs-zero": ("evaluations = 4", "epochs = 0"),
        "executor-cpus-zero": (
            "evaluations = 4",
            'evaluations = 4\n\n[executor]\nkind = "ray"\ncpus_per_task = 0',
        ),
        "resolution-zero": ('dataset = "synthetic"', 'dataset = "synthetic"\nresolution = 0'),
    }
    out = [
        Case(f"scenario/{k}", ["run", "s.toml"], {"s.toml": edit(a, b)})
        for k, (a, b) in edits.items()
    ]
    top = {  # keys of the wrong type at the top of the file
        "budget-not-table": ("[budget]\nevaluations = 4", "", "budget = 5\n"),
        "objectives-not-list": (
            '[[objectives]]\nname = "val_error"\n\n[[objectives]]\nname = "params"',
            "",
            'objectives = "val_error"\n',
        ),
        "data-not-table": (
            "[data]\n" + DATA,
            "",
            "data = [1, 2]\n",
        ),
    }
    out += [
        Case(f"scenario/{k}", ["run", "s.toml"], {"s.toml": first + edit(a, b)})
        for k, (a, b, first) in top.items()
    ]
    out += [
        Case("scenario/empty-file", ["run", "s.toml"], {"s.toml": ""}),
        Case(
            "scenario/utf8-byte-order-mark",
            ["run", "s.toml"],
            {"s.toml": b"\xef\xbb\xbf" + BASE.encode()},
            recover=True,
        ),
        Case("scenario/binary-file", ["run", "s.toml"], {"s.toml": b"\x00\xff\xfe\x89PNG"}),
        Case("scenario/directory", ["run", "adir"], {"adir/x.txt": "x"}),
        Case("scenario/missing", ["run", "nothere.toml"]),
    ]
    return out


def plugin_cases() -> list[Case]:
    """Plug-ins that fail: at import, by type, or while loading."""

    def objective(module: str, code: str, attr: str = "f") -> Case:
        text = edit('name = "params"', f'name = "{module}:{attr}"')
        return Case(f"plugin/{module}", ["run", "s.toml"], {"s.toml": text, f"{module}.py": code})

    return [
        objective("syntax_err", "def f(ctx) return 1\n"),
        objective("raises_at_import", "raise RuntimeError('broken plug-in')\n"),
        objective("exits_at_import", "import sys\nsys.exit(3)\n"),
        objective("no_attribute", "def g(ctx):\n    return 1.0\n"),
        objective("not_callable", "f = 42\n"),
        Case(
            "plugin/strategy-not-a-strategy",
            ["run", "s.toml"],
            {
                "s.toml": edit(
                    'name = "nsga2"\nparams = { population_size = 2 }', 'name = "strat_mod:NotOne"'
                ),
                "strat_mod.py": "class NotOne:\n    pass\n",
            },
        ),
        Case(
            "plugin/morphism-not-a-morphism",
            ["run", "s.toml"],
            {
                "s.toml": edit(
                    "[[objectives]]", '[morphisms]\nenabled = ["morph_mod:Thing"]\n\n[[objectives]]'
                ),
                "morph_mod.py": "class Thing:\n    pass\n",
            },
        ),
        Case(
            "plugin/loader-wrong-type",
            ["run", "s.toml"],
            {
                "s.toml": edit(
                    DATA,
                    'dataset = "loader_mod:load"',
                ),
                "loader_mod.py": "def load(**kw):\n    return 42\n",
            },
        ),
        Case(
            "plugin/loader-raises",
            ["run", "s.toml"],
            {
                "s.toml": edit(
                    DATA,
                    'dataset = "loader_bad:load"',
                ),
                "loader_bad.py": "def load(**kw):\n    raise ValueError('no such split')\n",
            },
        ),
    ]


def cli_cases() -> list[Case]:
    """Command-line arguments."""
    ok = {"s.toml": BASE}
    export = ["export", "run", "0"]
    return [
        Case("cli/no-command", []),
        Case("cli/run-no-scenario", ["run"]),
        Case("cli/budget-unit", ["run", "s.toml", "--budget", "10parsecs"], ok),
        Case("cli/seed-not-int", ["run", "s.toml", "--seed", "abc"], ok),
        Case("cli/seed-negative", ["run", "s.toml", "--seed", "-4"], ok),
        Case("cli/workers-zero", ["run", "s.toml", "--executor", "pool", "--workers", "0"], ok),
        Case("cli/workers-for-inprocess", ["run", "s.toml", "--workers", "3"], ok),
        Case("cli/executor-unknown", ["run", "s.toml", "--executor", "nope"], ok),
        Case("cli/device-unknown", ["run", "s.toml", "--device", "nope"], ok),
        Case("cli/out-is-a-file", ["run", "s.toml", "--out", "afile"], {**ok, "afile": "x"}),
        Case("cli/show-missing", ["show", "nothere"]),
        Case("cli/show-a-file", ["show", "afile"], {"afile": "x"}),
        Case("cli/show-unknown-id", ["show", "run", "--id", "999"], run_dir="base"),
        Case("cli/export-unknown-id", ["export", "run", "999"], run_dir="base"),
        Case("cli/export-format", ["export", "run", "0", "--format", "pdf"], run_dir="base"),
        Case("cli/retrain-negative", [*export, "--retrain-epochs", "-1"], run_dir="base"),
        Case("cli/retrain-nan", [*export, "--retrain-epochs", "nan"], run_dir="base"),
        Case("cli/from-scratch-alone", [*export, "--from-scratch"], run_dir="base"),
        Case(
            "cli/compare-different-objectives",
            ["compare", "run", "other", "--out", "cmp"],
            run_dir="base",
        ),
        Case("cli/list-unknown-kind", ["list", "gizmos"]),
        Case(
            "cli/resume-budget-below-done", ["resume", "run", "--budget", "1evals"], run_dir="base"
        ),
        Case(
            "cli/resume-budget-unit", ["resume", "run", "--budget", "5 lightyears"], run_dir="base"
        ),
        Case("cli/plot-nothing-succeeded", ["plot", "run"], run_dir="failed"),
        Case("cli/export-failed-candidate", ["export", "run", "0"], run_dir="failed"),
    ]


def _write(path: Path, data: str | bytes) -> None:
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)


def _middle_line(replacement: bytes) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        lines = (run / "events.jsonl").read_bytes().splitlines()
        lines[1] = replacement
        (run / "events.jsonl").write_bytes(b"\n".join(lines) + b"\n")

    return damage


def _config(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        config = json.loads((run / "config.json").read_text())
        changed = change(config)
        (run / "config.json").write_text(json.dumps(config if changed is None else changed))

    return damage


def _first_record(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        lines = (run / "events.jsonl").read_text().splitlines()
        record = json.loads(lines[0])
        change(record)
        lines[0] = json.dumps(record)
        (run / "events.jsonl").write_text("\n".join(lines) + "\n")

    return damage


def _put(*path: str, value: object) -> Callable[[dict], None]:
    def change(record: dict) -> None:
        target = record
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _huge_network(record: dict) -> None:
    for node in record["genome"]["nodes"]:
        if node.get("channels"):
            node["channels"] = 1_000_000_000


CRAFTED_RECORDS: dict[str, Callable[[dict], None]] = {
    "error-not-text": _put("error", value={"x": 1}),
    "elapsed-not-a-number": _put("train", "elapsed", value="soon"),
    "steps-fraction": _put("train", "steps", value=2.5),
    "id-fraction": _put("id", value=2.5),
    "id-text": _put("id", value="0"),
    "objective-text": _put("objectives", "val_error", value="0.1"),
    "objective-missing": lambda record: record["objectives"].pop("params") and None,
    "predicted-text": _put("predicted", value={"val_error": "low"}),
}
"""Values a crafted journal line may hold (each must be refused in words)."""


def run_dir_cases() -> list[Case]:
    """Damaged run directories, given to resume (and show)."""

    def truncate(name: str, size: int) -> Callable[[Path], None]:
        return lambda run: (run / name).write_bytes((run / name).read_bytes()[:size])

    damages: dict[str, tuple[Callable[[Path], None], list[str], bool]] = {
        "config-truncated": (truncate("config.json", 40), ["resume", "run"], False),
        "config-null": (lambda r: (r / "config.json").write_text("null"), ["show", "run"], False),
        "config-binary": (
            lambda r: (r / "config.json").write_bytes(b"\xff\xfe\x00"),
            ["resume", "run"],
            False,
        ),
        "config-missing": (lambda r: (r / "config.json").unlink(), ["resume", "run"], False),
        "config-format": (_config(lambda c: c.update(format=99)), ["show", "run"], False),
        "config-unknown-key": (
            _config(lambda c: c["scenario"].update(sede=1)),
            ["resume", "run"],
            False,
        ),
        "config-no-task": (_config(lambda c: c.pop("task") and None), ["show", "run"], False),
        "config-objectives-wrong": (
            _config(lambda c: c.update(objectives=[{"bounds": 3}])),
            ["plot", "run"],
            False,
        ),
        "config-list": (lambda r: (r / "config.json").write_text("[1, 2]"), ["plot", "run"], False),
        "journal-not-utf8": (_middle_line(b'\xff\xfe{"id": 1}'), ["resume", "run"], False),
        "journal-not-json": (_middle_line(b'{"id": 1, '), ["show", "run"], False),
        "journal-wrong-fields": (_middle_line(b'{"id": "x"}'), ["resume", "run"], False),
        "journal-wrong-status": (
            _middle_line(b'{"id": 1, "genome": {}, "objectives": {}, "status": "fine"}'),
            ["show", "run"],
            False,
        ),
        "journal-a-list": (_middle_line(b"[1, 2, 3]"), ["resume", "run"], False),
        "journal-is-directory": (
            lambda r: ((r / "events.jsonl").unlink(), (r / "events.jsonl").mkdir()),
            ["show", "run"],
            False,
        ),
        "weights-corrupted": (
            lambda r: (r / "weights" / "1.pt").write_bytes(b"garbage"),
            ["resume", "run", "--budget", "6evals"],
            True,
        ),
        "weights-missing": (
            lambda r: (r / "weights" / "2.pt").unlink(),
            ["resume", "run", "--budget", "6evals"],
            True,
        ),
        "weights-of-another-network": (
            lambda r: shutil.copy(r / "weights" / "0.pt", r / "weights" / "3.pt"),
            ["resume", "run", "--budget", "6evals"],
            True,
        ),
        "cheap-wrong-lines": (
            lambda r: (r / "cheap.jsonl").write_text(
                '{"hash": 5}\n[1]\n"x"\n{"hash": "a", "values": {"params": "many"}}\n'
            ),
            ["resume", "run", "--budget", "6evals"],
            True,
        ),
        **{
            f"journal-crafted-{k}": (_first_record(change), ["show", "run"], False)
            for k, change in CRAFTED_RECORDS.items()
        },
        "journal-id-twice": (
            lambda r: (r / "events.jsonl").write_bytes(
                (r / "events.jsonl").read_bytes()
                + (r / "events.jsonl").read_bytes().splitlines()[0]
                + b"\n"
            ),
            ["resume", "run"],
            False,
        ),
        "journal-complete-invalid-last-line": (
            lambda r: (r / "events.jsonl").write_bytes(
                (r / "events.jsonl").read_bytes() + b'{"id": "last"}\n'
            ),
            ["resume", "run"],
            False,
        ),
        "journal-network-beyond-the-space": (
            _first_record(_huge_network),
            ["export", "run", "0"],
            False,
        ),
        "leftover-temporary-files": (
            lambda r: (r / "weights" / ".1.pt.tmp42").write_bytes(b"half"),
            ["resume", "run", "--budget", "6evals"],
            True,
        ),
    }
    return [
        Case(f"rundir/{k}", argv, run_dir="base", damage=d, recover=rec)
        for k, (d, argv, rec) in damages.items()
    ] + [
        Case("rundir/a-file-not-a-run", ["resume", "afile"], {"afile": "x"}),
        Case("rundir/empty-directory", ["resume", "emptydir"], {"emptydir/.keep": ""}),
    ]


def all_cases() -> list[Case]:
    return scenario_cases() + plugin_cases() + cli_cases() + run_dir_cases()


def make_runs(root: Path) -> dict[str, Path]:
    """The finished runs the run-directory cases start from."""
    from evonas.cli import main

    runs = {}
    variants = {
        "base": BASE,
        "other": edit('name = "params"', 'name = "flops"'),
        "failed": edit('name = "params"', 'name = "failing_obj:f"'),
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "failing_obj.py").write_text("def f(ctx):\n    raise ValueError('always')\n")
    for name, text in variants.items():
        (root / f"{name}.toml").write_text(text)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            main(["run", str(root / f"{name}.toml"), "--out", str(root / name)])
        runs[name] = root / name
    return runs


@dataclass
class Outcome:
    code: int | None
    traceback: bool
    silent_exit0: bool
    wrote_before_fail: bool
    stderr: str


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    } | {str(p.relative_to(folder)) + "/": b"" for p in folder.rglob("*") if p.is_dir()}


def run_case(case: Case, workdir: Path, runs: dict[str, Path]) -> Outcome:
    from evonas.cli import main

    for name, data in case.files.items():
        (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        _write(workdir / name, data)
    if case.run_dir is not None:
        shutil.copytree(runs[case.run_dir], workdir / "run")
        shutil.copytree(runs["other"], workdir / "other")
        if case.damage is not None:
            case.damage(workdir / "run")
    before = snapshot(workdir)
    out, err = io.StringIO(), io.StringIO()
    escaped = False
    here = os.getcwd()
    os.chdir(workdir)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code: int | None = main(case.argv)
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else 2
            except BaseException:
                escaped = True
                code = None
                traceback.print_exc(file=err)
    finally:
        os.chdir(here)
    text = err.getvalue()
    changed = snapshot(workdir) != before
    if case.recover:
        silent = False
        wrote = False
        escaped = escaped or code != 0
    else:
        silent = code == 0 and not text.strip()
        wrote = code != 0 and changed
        if code == 0:
            silent = True  # every such case must fail
    return Outcome(code, escaped or "Traceback (most recent" in text, silent, wrote, text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--verbose", action="store_true", help="print every case's message")
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    args = parser.parse_args()
    started = time.perf_counter()
    cases = [c for c in all_cases() if args.only in c.name]
    counts = {"tracebacks": 0, "silent_exit0": 0, "wrote_before_fail": 0}
    with tempfile.TemporaryDirectory() as tmp:
        runs = make_runs(Path(tmp) / "runs")
        for i, case in enumerate(cases):
            workdir = Path(tmp) / f"case{i}"
            workdir.mkdir()
            outcome = run_case(case, workdir, runs)
            flags = [
                k
                for k, v in (
                    ("TRACEBACK", outcome.traceback),
                    ("SILENT-EXIT-0", outcome.silent_exit0),
                    ("WROTE-BEFORE-FAIL", outcome.wrote_before_fail),
                )
                if v
            ]
            counts["tracebacks"] += outcome.traceback
            counts["silent_exit0"] += outcome.silent_exit0
            counts["wrote_before_fail"] += outcome.wrote_before_fail
            line = outcome.stderr.strip().splitlines()[-1:] or [""]
            if flags or args.verbose:
                print(f"{case.name:<44} exit {outcome.code} {' '.join(flags)} | {line[0][:150]}")
    print(f"{len(cases)} cases in {time.perf_counter() - started:.0f} s")
    print(
        f"cases={len(cases)} tracebacks={counts['tracebacks']} "
        f"silent_exit0={counts['silent_exit0']} wrote_before_fail={counts['wrote_before_fail']}"
    )


if __name__ == "__main__":
    main()
