"""The ``evonas`` command line: run, resume, show, plot, compare, export, list.

Exit codes: 0 success; 1 the run failed; 2 bad usage or a bad scenario (nothing was run);
130 interrupted (the run can be resumed).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import shutil
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evonas._version import __version__

if TYPE_CHECKING:
    from evonas.core.individual import Individual


_BUDGET = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>s|m|min|h|evals?|evaluations|ep|epochs?)$")


def parse_budget(text: str) -> tuple[str, float]:
    """``"10m"`` -> ("minutes", 10); ``"100evals"`` -> ("evaluations", 100); ``"20epochs"``."""
    match = _BUDGET.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"budget {text!r} not understood; use e.g. 90s, 10m, 2h, 100evals or 20epochs"
        )
    n, unit = float(match["n"]), match["unit"]
    if unit in ("s", "m", "min", "h"):
        return "minutes", n * {"s": 1 / 60, "m": 1, "min": 1, "h": 60}[unit]
    if unit.startswith("ev"):
        return "evaluations", int(n)
    return "epochs", n


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in getattr(args, "budget", None) or []:
        out[f"budget.{key}"] = value
    if getattr(args, "budget", None):  # budgets given on the command line replace the file's
        for key in ("evaluations", "minutes", "epochs"):
            out.setdefault(f"budget.{key}", None)
    if getattr(args, "seed", None) is not None:
        out["seed"] = args.seed
    if getattr(args, "device", None) is not None:
        out["device"] = args.device
    if getattr(args, "executor", None) is not None:
        out["executor.kind"] = args.executor
    if getattr(args, "workers", None) is not None:
        out["executor.workers"] = args.workers
    return out


# --- commands -----------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from evonas.api import run
    from evonas.scenario import load_scenario

    scenario = load_scenario(args.scenario, _overrides(args))
    out = args.out or str(Path("results") / scenario.name)
    print(f"evonas: running {args.scenario} -> {out}", flush=True)
    from evonas.progress import ProgressDisplay

    display = ProgressDisplay()
    display.starting(f"loading {scenario.data.dataset} and checking the scenario ...")
    try:
        result = run(
            scenario,
            out=out,
            observers=[display],
            import_path=Path(args.scenario).resolve().parent,
            source=args.scenario,
        )
    finally:
        display.close()
    _summary(result)
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    from evonas.api import plugin_sources, resume
    from evonas.core.budget import Budget
    from evonas.core.registry import add_import_path
    from evonas.progress import ProgressDisplay
    from evonas.record import load_run

    display = ProgressDisplay()
    scenario = load_run(args.run_dir).scenario
    limit = scenario.budget.candidate_minutes  # kept: --budget replaces the run's limits
    budget = Budget(**dict(args.budget), candidate_minutes=limit) if args.budget else None
    for folder in args.import_path or []:
        add_import_path(Path(folder).resolve())
    print(f"evonas: resuming {args.run_dir}", flush=True)
    if budget is not None:
        print(f"evonas: the budget is now {_budget_words(budget)} (it replaces the run's)")
    for ref, origin in plugin_sources(scenario).items():
        print(f"evonas: plug-in {ref}: importing {origin}", flush=True)
    try:
        result = resume(
            args.run_dir, observers=[display], budget=budget, import_paths=args.import_path or ()
        )
    finally:
        display.close()
    _summary(result)
    return 0


def _budget_words(b: Any) -> str:
    parts = [
        f"{v:g} {k}"
        for k, v in (("evaluations", b.evaluations), ("minutes", b.minutes), ("epochs", b.epochs))
        if v is not None
    ]
    return " or ".join(parts)


class UsageError(Exception):
    """Command-line arguments that contradict each other (exit 2)."""


class NothingEvaluated(Exception):
    """The run produced no successful network (exit 1)."""


def _summary(result: Any) -> None:
    history = result.history()
    if not any(i.ok for i in history):
        failures = sorted({f"{i.status}: {i.error}" for i in history})[:3]
        raise NothingEvaluated(
            f"no network was evaluated successfully ({len(history)} evaluated"
            + (f"; failures: {'; '.join(failures)}" if failures else "")
            + f"; stopped: {result.stop_reason()})"
        )
    front = result.pareto_front()
    if front and all(i.violation > 0 for i in front):
        print(
            "evonas: no network meets the hard constraints; the front holds the least "
            "violating ones",
            file=sys.stderr,
        )
    print(
        f"evonas: {len(result.history())} evaluated, {len(front)} on the Pareto front, "
        f"hypervolume {result.hypervolume():.4f}; see {result.dir}/pareto.csv "
        f"('evonas show {result.dir}', 'evonas plot {result.dir}')"
    )


NOTATION = """network notation (evonas show, plots, pareto.csv): stages left to right,
separated by '|' (each '|' halves the resolution); in a stage, c3x16 is a 3x3 convolution
with 16 channels (with its batch norm and ReLU), s5x32 a depthwise-separable 5x5 one, '+'
an addition of two branches (a skip), '&' a concatenation, max/avg a pooling layer. Every
network ends in global average pooling and a linear classifier."""


def cmd_show(args: argparse.Namespace) -> int:
    from evonas.record import load_run

    run = load_run(args.run_dir)
    history = run.history()
    front = run.pareto_front()
    on_front = {i.id for i in front}
    first = run.objectives[0]
    rest = sorted((i for i in history if i.id not in on_front), key=lambda i: _sort_key(i, first))
    rows = sorted(front, key=lambda i: _sort_key(i, first)) + (rest if args.all else [])
    what = "Every network of {}, the front first" if args.all else "Pareto front of {}"
    lower = [o.name for o in run.objectives if o.direction == "min"]
    higher = [o.name for o in run.objectives if o.direction == "max"]
    better = "; ".join(
        f"{word} is better for {', '.join(names)}"
        for word, names in (("lower", lower), ("higher", higher))
        if names
    )
    print(f"{what.format(run.dir)}: {len(rows)} networks by {first.name}; {better}")
    if front and all(i.violation > 0 for i in front):
        print("no network meets the constraints: the front shows the least violating ones")
    _print_table(_show_table(run, rows, on_front, {i.id: i for i in history}))
    if args.id is not None:
        genome = run.individual(args.id).genome
        print()
        print(genome.summary().replace(f"Genome {genome.short_hash}", f"#{args.id}", 1))
    return 0


def _show_table(
    run: Any, rows: list[Individual], on_front: set[int], by_id: dict[int, Individual]
) -> list[list[str]]:
    """``show``'s header and one row per network: id (a trailing space off the front),
    objectives with units, params where no objective is, violation under constraints,
    lineage and network."""
    from evonas.core.units import format_quantity

    names = [o.name for o in run.objectives]
    units = {o.name: o.unit for o in run.objectives}
    extra = [] if "params" in names else ["params"]
    constrained = any(o.constrained for o in run.objectives)
    header = ["id", *names, *extra, *(["violation"] if constrained else []), "lineage", "network"]
    table = [header]
    for ind in rows:
        table.append(
            [
                str(ind.id) + ("" if ind.id in on_front else " "),
                *(format_quantity(ind.objectives[n], units[n]) for n in names),
                *([format_quantity(_params(run, ind))] if extra else []),
                *([f"{ind.violation:.3g}"] if constrained else []),
                _lineage(ind, by_id),
                ind.genome.short_summary() + ("" if ind.ok else f"  [{ind.status}]"),
            ]
        )
    return table


def _print_table(table: list[list[str]]) -> None:
    """Columns padded to their widest cell; cut to a terminal's width with ``~``."""
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    limit = shutil.get_terminal_size((200, 20)).columns if sys.stdout.isatty() else None
    for r in table:
        line = "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        print(line[: limit - 1] + "~" if limit and len(line) > limit else line)


def _sort_key(ind: Individual, first: Any) -> tuple[float, int]:
    value = ind.objectives.get(first.name, math.nan)
    return (first.minimised(value) if math.isfinite(value) else math.inf, ind.id)


def cmd_pick(args: argparse.Namespace) -> int:
    from evonas.core.units import format_quantity
    from evonas.record import load_run
    from evonas.record.pick import pick

    run = load_run(args.run_dir)
    chosen = pick(run, args.where or [], args.best)
    by_id = {i.id: i for i in run.history()}
    how = f"best {args.best}" if args.best else "the knee of the front"
    conditions = " and ".join(args.where or []) or "no conditions"
    print(f"picked #{chosen.id} ({how}; {conditions})")
    for o in run.objectives:
        print(f"  {o.name:<12} {format_quantity(chosen.objectives[o.name], o.unit)}")
    print(f"  network      {chosen.genome.short_summary()}")
    print(f"  lineage      {_lineage(chosen, by_id, last=100)}")
    print(f"export it with: evonas export {run.dir} {chosen.id}")
    print(chosen.id)
    return 0


def _lineage(ind: Individual, by_id: dict[int, Individual], last: int = 3) -> str:
    """``0 > 3:widen > 7:prune_filters``: the chain from an initial network to ``ind``
    (its ``last`` steps, the rest shown as ``...``)."""
    chain: list[str] = []
    node: Individual | None = ind
    while node is not None:
        step = "+".join(m.name for m in node.morphisms)
        chain.append(f"{node.id}:{step}" if step else str(node.id))
        node = by_id.get(node.parent_id) if node.parent_id is not None else None
    chain.reverse()
    if len(chain) > last + 1:
        chain = [chain[0], "...", *chain[-last:]]
    return " > ".join(chain)


def _params(run: Any, ind: Individual) -> int:
    from evonas.model import count_params

    return count_params(ind.genome, run.input_shape, run.num_classes)


def cmd_plot(args: argparse.Namespace) -> int:
    from evonas.record import load_run
    from evonas.record.plots import plot_run

    files = plot_run(load_run(args.run_dir), Path(args.out) if args.out else None)
    for f in files:
        print(f)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from evonas.record import load_run
    from evonas.record.plots import plot_compare

    runs = [load_run(d) for d in args.run_dirs]
    files = plot_compare(runs, Path(args.out))
    for run in runs:
        print(
            f"{run.dir}: {len(run.history())} evaluations, front {len(run.pareto_front())}, "
            f"hypervolume {run.hypervolume():.4f}"
        )
    for f in files:
        print(f)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from evonas.record import load_run
    from evonas.record.report import write_report

    runs = [load_run(d) for d in args.run_dirs]
    out = Path(args.out) if args.out else runs[0].dir / "report.html"
    print(write_report(runs, out))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from evonas.export import export_model
    from evonas.record import load_run
    from evonas.record.pick import pick

    epochs = args.retrain_epochs
    if epochs is not None and not (math.isfinite(epochs) and epochs > 0):
        raise UsageError(f"--retrain-epochs must be a number > 0, got {epochs:g}")
    if args.from_scratch and epochs is None:
        raise UsageError("--from-scratch needs --retrain-epochs E (how long to train it)")
    run = load_run(args.run_dir)
    ident = args.id
    if ident is None:
        ident = pick(run, args.where or [], args.best).id
        print(f"evonas: exporting #{ident} (picked: see 'evonas pick')")
    elif args.where or args.best:
        raise UsageError("give either an id or --where/--best, not both")
    result = export_model(
        run,
        ident,
        fmt=args.format,
        out=Path(args.out) if args.out else None,
        retrain_epochs=args.retrain_epochs or 0.0,
        from_scratch=args.from_scratch,
    )
    print(f"weights: {result.weights}")
    if result.test_accuracy is not None:
        print(f"test accuracy: {result.test_accuracy:.4f}")
    if result.onnx_max_abs_diff is not None:
        diff = result.onnx_max_abs_diff
        print(f"onnxruntime vs torch, max abs difference of the logits: {diff:.3g}")
    print(result.path)
    return 0


# --- parser -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evonas",
        description="Multi-objective evolutionary architecture search with network morphisms.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks (also: EVONAS_DEBUG=1)"
    )
    parser.add_argument("--version", action="version", version=f"evonas {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run a scenario file", description="Run a scenario (TOML file).")
    p.add_argument("scenario", help="scenario file, e.g. scenarios/quick.toml")
    p.add_argument("--out", help="run directory (default results/<scenario name>)")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument(
        "--budget",
        type=parse_budget,
        action="append",
        metavar="B",
        help="replace the budget: 90s, 10m, 2h, 100evals, 20epochs (repeatable)",
    )
    p.add_argument("--device", help="training device: auto, cpu, cuda, cuda:1, mps")
    p.add_argument("--executor", help="where to train: inprocess, pool, ray (see evonas list)")
    p.add_argument("--workers", type=int, help="concurrent trainings (pool, ray)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "resume",
        help="continue a stopped or killed run",
        description="Continue a run directory; finished evaluations are kept.",
    )
    p.add_argument("run_dir")
    p.add_argument(
        "--budget",
        type=parse_budget,
        action="append",
        metavar="B",
        help="a new budget for the whole run, replacing the old one (e.g. 20m to extend it)",
    )
    p.add_argument(
        "--import-path",
        action="append",
        metavar="DIR",
        help="a folder to import the run's plug-ins from (its code runs: trust it); "
        "by default they come from installed packages, PYTHONPATH and the current folder",
    )
    p.set_defaults(func=cmd_resume)

    p = sub.add_parser(
        "show",
        help="print the Pareto front as a table",
        description="Print the Pareto front (or every network) of a run.",
        epilog=NOTATION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir")
    p.add_argument("--all", action="store_true", help="every evaluated network, not only the front")
    p.add_argument("--id", type=int, help="also print this candidate's full genome")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser(
        "plot",
        help="write the run's plots (PNG and SVG)",
        description="Write a run's plots as PNG and SVG: the front (every pair of "
        "objectives), hypervolume over evaluations and time, how the front moved, a 3-D "
        "front for three objectives, and the front's genealogy.",
    )
    p.add_argument("run_dir", help="a run directory (results/NAME)")
    p.add_argument("--out", help="folder for the plots (default RUN_DIR/plots)")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser(
        "compare",
        help="hypervolume over time and fronts of several runs",
        description="Plot several runs together: hypervolume over evaluations and time, and "
        "their fronts overlaid. The runs must share objectives and normalisation.",
    )
    p.add_argument("run_dirs", nargs="+", help="two or more run directories")
    p.add_argument("--out", default="results/compare", help="folder for the plots")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser(
        "export",
        help="write a network for use outside evonas",
        description="Write one network of a run (by id, or picked with --where/--best) as a "
        "state_dict, a torch.export program, ONNX (checked with onnxruntime) or TorchScript; "
        "it takes images scaled to [0, 1] and normalises them itself. With --retrain-epochs "
        "it is first trained on the full training split and its test accuracy reported.",
    )
    p.add_argument("run_dir", help="a run directory (results/NAME)")
    p.add_argument("id", type=int, nargs="?", help="candidate id (see 'evonas show'); or pick one:")
    p.add_argument("--where", action="append", metavar="COND", help="as for 'evonas pick'")
    p.add_argument("--best", metavar="OBJECTIVE", help="as for 'evonas pick'")
    p.add_argument(
        "--format",
        choices=["state_dict", "exported_program", "onnx", "torchscript"],
        default="state_dict",
        help="state_dict (.pt), exported_program (torch.export, .pt2), onnx (checked with "
        "onnxruntime when installed), torchscript",
    )
    p.add_argument("--out", help="output file (default RUN_DIR/export/<id>.<ext>)")
    p.add_argument(
        "--retrain-epochs",
        type=float,
        default=None,
        help="first train this many epochs on the full training split and report the test "
        "accuracy (continuing from the searched weights, or see --from-scratch)",
    )
    p.add_argument(
        "--from-scratch",
        action="store_true",
        help="with --retrain-epochs: train from a fresh initialisation (LEMONADE's protocol)",
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "pick",
        help="choose a network from the front by conditions and a preference",
        description="Choose from a run's front: every --where condition must hold; --best "
        "picks the best on one objective, else the knee (the highest trade-off point).",
        epilog="example: evonas pick results/quick --where 'params<=100k' "
        "--where 'latency<=2ms' --best val_error",
    )
    p.add_argument("run_dir")
    p.add_argument("--where", action="append", metavar="COND", help="e.g. 'params<=100k'")
    p.add_argument("--best", metavar="OBJECTIVE", help="e.g. val_error")
    p.set_defaults(func=cmd_pick)

    p = sub.add_parser(
        "report",
        help="one self-contained interactive HTML page of a run (or several to compare)",
        description="Write an HTML report (opens from disk, no server, no network): the "
        "interactive front (hover for details, click for the lineage), parallel coordinates, "
        "hypervolume, how the front moved, failures; several runs are overlaid.",
    )
    p.add_argument("run_dirs", nargs="+")
    p.add_argument("--out", help="the HTML file (default RUN_DIR/report.html)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("list", help="list the registered plug-ins of every kind")
    p.add_argument("kind", nargs="?", choices=sorted(_registries()), help="only this kind")
    p.set_defaults(func=cmd_list)
    return parser


def _registries() -> dict[str, str]:
    """Kind -> the module that holds its registry, imported when listed."""
    return {
        "strategies": "evonas.strategy.base:STRATEGIES",
        "morphisms": "evonas.morphism:MORPHISMS",
        "objectives": "evonas.objectives:OBJECTIVES",
        "datasets": "evonas.data.datasets:DATASETS",
        "executors": "evonas.executor:EXECUTORS",
    }


def cmd_list(args: argparse.Namespace) -> int:
    from evonas.core.registry import Registry, import_object

    for kind, path in _registries().items():
        if args.kind not in (None, kind):
            continue
        registry = import_object(path)
        assert isinstance(registry, Registry)
        names = registry.names()
        if kind == "morphisms":  # say which ones a scenario gets only by naming them
            names = [n if registry.get(n).default else f"{n} (only where named)" for n in names]
        print(f"{kind}: {', '.join(names)}")
    return 0


def _warning(message: Warning | str, *args: object, **kwargs: object) -> None:
    print(f"evonas: warning: {message}", file=sys.stderr)


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the run stops where it is and can be resumed."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated()


def apply_thread_policy() -> None:
    """OpenMP threads that wait for each other sleep instead of spinning
    (``OMP_WAIT_POLICY=PASSIVE``), unless the user chose a policy: with a core taken by
    another process, spinning threads slowed training 10-20x (``benchmarks/contention.py``,
    ``docs/decisions.md``). OpenMP reads it once, when torch loads, so it is set before that,
    here, and worker processes inherit it."""
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(argv: Sequence[str] | None = None) -> int:
    """The command line. Exit codes: 0 done; 1 the run produced no network (or failed on
    an error of evonas's own, or of the disk); 2 bad input (a message names the file, key
    or value; a traceback only with ``--debug`` or ``EVONAS_DEBUG=1``); 130 / 143
    interrupted by Ctrl-C / SIGTERM (resumable)."""
    apply_thread_policy()
    args = build_parser().parse_args(argv)
    debug = args.debug or os.environ.get("EVONAS_DEBUG", "") not in ("", "0")
    from evonas.core.errors import UserError

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning
            return int(args.func(args))
    except (UserError, UsageError) as exc:
        if debug:
            raise
        print(f"evonas: error: {exc}", file=sys.stderr)
        return 2
    except NothingEvaluated as exc:
        print(f"evonas: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away (``evonas show RUN | head``): as cat does
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more is written
        return 0
    except OSError as exc:  # a full disk, a read-only folder
        if debug:
            raise
        print(f"evonas: error: {exc}", file=sys.stderr)
        where = getattr(args, "out", None) or getattr(args, "run_dir", None)
        if where and args.func in (cmd_run, cmd_resume) and Path(where, "config.json").is_file():
            print(f"evonas: fix it, then continue with 'evonas resume {where}'", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        where = getattr(args, "out", None) or getattr(args, "run_dir", None)
        what = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(
            f"\nevonas: {what}; continue with 'evonas resume {where or 'RUN_DIR'}'",
            file=sys.stderr,
        )
        return 143 if isinstance(exc, Terminated) else 130


if __name__ == "__main__":
    sys.exit(main())
