"""Plots of a run (PNG and SVG): fronts, hypervolume, front evolution, lineage; and a
comparison of several runs. matplotlib is imported here only, with a file backend."""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evonas.core.pareto import ParetoArchive, minimised_matrix, non_dominated
from evonas.record.run import check_comparable
from evonas.record.run_record import RecordError, atomic_write_bytes, safe_folder

if TYPE_CHECKING:
    from evonas.record.run import Run


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, out: Path, name: str) -> list[Path]:
    safe_folder(out)
    files = []
    for ext in ("png", "svg"):
        path = out / f"{name}.{ext}"
        buffer = io.BytesIO()
        fig.savefig(buffer, format=ext, dpi=130, bbox_inches="tight")
        atomic_write_bytes(path, buffer.getvalue())  # a link at ``path`` is replaced
        files.append(path)
    _plt().close(fig)
    return files


def _label(o: Any) -> str:
    better = "lower is better" if o.direction == "min" else "higher is better"
    return f"{o.name} ({o.unit}; {better})" if o.unit else f"{o.name} ({better})"


def _limits(ax: Any, o: Any, axis: str) -> None:
    """A hard constraint as a dashed line, the infeasible side shaded."""
    line = ax.axvline if axis == "x" else ax.axhline
    span = ax.axvspan if axis == "x" else ax.axhspan
    lo, hi = ax.get_xlim() if axis == "x" else ax.get_ylim()
    if o.upper is not None:
        line(o.upper, color="C1", ls="--", lw=1, label=f"{o.name} <= {o.upper:g}")
        span(o.upper, max(hi, o.upper), color="C1", alpha=0.07)
    if o.lower is not None:
        line(o.lower, color="C1", ls="--", lw=1, label=f"{o.name} >= {o.lower:g}")
        span(min(lo, o.lower), o.lower, color="C1", alpha=0.07)


def _axes(ax: Any, x: Any, y: Any) -> None:
    """Labels, log scales (for log-normalised objectives) and grid of an x/y objective plot."""
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(y))
    if x.log_scale:
        ax.set_xscale("log")
        _log_ticks(ax.xaxis)
    if y.log_scale:
        ax.set_yscale("log")
        _log_ticks(ax.yaxis)
    ax.grid(alpha=0.3)


def _log_ticks(axis: Any) -> None:
    """Log-axis labels that never overlap: at 1, 2 and 5 of each decade, written plainly
    (``0.2``, ``50k``); matplotlib's default labels every minor tick of a narrow range in
    scientific notation, and they ran into each other."""
    from matplotlib import ticker

    axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=12))
    axis.set_minor_locator(ticker.LogLocator(base=10, subs="auto", numticks=12))
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: _short(v)))
    axis.set_minor_formatter(ticker.NullFormatter())


def _short(value: float) -> str:
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:g}{suffix}"
    return f"{value:g}"


FRONT_MARKER = 28  # area (points^2) of a front member's marker: sqrt(28) = 5.3 points wide

# where a label may sit around its point: offset (points) and alignment, nearest first
_LABEL_SPOTS = (
    (3, 3, "left", "bottom"),
    (3, -3, "left", "top"),
    (-3, 3, "right", "bottom"),
    (-3, -3, "right", "top"),
    (5, 0, "left", "center"),
    (-5, 0, "right", "center"),
    (0, 5, "center", "bottom"),
    (0, -5, "center", "top"),
)


def place_labels(
    ax: Any,
    points: Sequence[tuple[float, float]],
    texts: Sequence[str],
    marker_pt: float = math.sqrt(FRONT_MARKER),
) -> list[Any]:
    """Labels each point (data coordinates) with its text, at the first spot around it
    that overlaps no label placed before and no other point's marker (``marker_pt`` wide),
    else at the spot that overlaps least: on a dense front the ids stay readable. Call it
    once the axes' scales and limits are set; returns the text artists."""
    from matplotlib.transforms import Bbox

    fig = ax.figure
    fig.canvas.draw()  # fixes the transforms and gives a renderer to measure text
    renderer = fig.canvas.get_renderer()
    half = marker_pt * fig.dpi / 72 / 2
    centres = ax.transData.transform(np.asarray(points, dtype=float).reshape(-1, 2))
    taken = [Bbox.from_extents(cx - half, cy - half, cx + half, cy + half) for cx, cy in centres]
    artists = []
    for (x, y), text in zip(points, texts, strict=True):
        best: tuple[float, Any, Any] | None = None  # (overlap, label, its box)
        for dx, dy, ha, va in _LABEL_SPOTS:
            label = ax.annotate(
                text, (x, y), xytext=(dx, dy), textcoords="offset points",
                fontsize=7, ha=ha, va=va,
            )  # fmt: skip
            box = label.get_window_extent(renderer)
            clash = sum(_overlap(box, other) for other in taken)
            if best is not None and clash >= best[0]:
                label.remove()
                continue
            if best is not None:
                best[1].remove()
            best = (clash, label, box)
            if clash == 0:
                break
        assert best is not None
        taken.append(best[2])
        artists.append(best[1])
    return artists


def _overlap(a: Any, b: Any) -> float:
    """Area two matplotlib ``Bbox``es share."""
    from matplotlib.transforms import Bbox

    shared = Bbox.intersection(a, b)
    return 0.0 if shared is None else float(shared.width * shared.height)


def plot_run(run: Run, out: Path | None = None) -> list[Path]:
    """Writes every plot of a run to ``out`` (default ``<run>/plots``); returns the files."""
    out = out or run.dir / "plots"
    history = run.history()
    ok = [i for i in history if i.ok]
    if not ok:
        raise RecordError(f"run {run.dir} has no successful evaluation to plot yet")
    front = run.pareto_front()
    files = _pairwise(run, ok, front, out)
    if len(run.objectives) >= 3:
        files += _front_3d(run, ok, front, out)
    files += _hypervolume(run, out)
    files += _evolution(run, history, out)
    files += _lineage(run, history, front, out)
    return files


def _pairwise(run: Run, ok: list[Any], front: list[Any], out: Path) -> list[Path]:
    plt = _plt()
    pairs = list(itertools.combinations(range(len(run.objectives)), 2)) or [(0, 0)]
    cols = min(3, len(pairs))
    rows = math.ceil(len(pairs) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False)
    front_ids = {i.id for i in front}
    for ax, (a, b) in zip(axes.flat, pairs, strict=False):
        oa, ob = run.objectives[a], run.objectives[b]
        xs = np.array([i.objectives[oa.name] for i in ok])
        ys = np.array([i.objectives[ob.name] for i in ok])
        on = np.array([i.id in front_ids for i in ok])
        ax.scatter(xs[~on], ys[~on], s=14, color="0.6", alpha=0.35, label="dominated")
        # the 2-D front of this pair, as a step line
        pts = np.column_stack([[oa.minimised(x) for x in xs], [ob.minimised(y) for y in ys]])
        nd = non_dominated(pts)
        order = nd[np.argsort(xs[nd])]
        ax.step(xs[order], ys[order], where="post", color="C0", lw=1.2, alpha=0.8)
        low = np.array([i.train.provisional for i in ok], dtype=bool)  # below the top rung
        ax.scatter(
            xs[on & ~low],
            ys[on & ~low],
            s=FRONT_MARKER,
            color="C3",
            zorder=3,
            label="Pareto front (all objectives)",
        )
        if (on & low).any():
            ax.scatter(
                xs[on & low],
                ys[on & low],
                s=FRONT_MARKER,
                facecolors="none",
                edgecolors="C3",
                zorder=3,
                label="on the front, provisional (a low rung)",
            )
        _axes(ax, oa, ob)
        _limits(ax, oa, "x")
        _limits(ax, ob, "y")
        ids = [str(i.id) for i in ok if i.id in front_ids]
        place_labels(ax, list(zip(xs[on], ys[on], strict=True)), ids)
    for ax in list(axes.flat)[len(pairs) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(
        f"{run.scenario.name}: {len(ok)} networks, {len(front)} on the front "
        "(labels: ids for 'evonas export')"
    )
    return _save(fig, out, "front_pairs")


def _front_3d(run: Run, ok: list[Any], front: list[Any], out: Path) -> list[Path]:
    plt = _plt()
    o = run.objectives[:3]
    fig = plt.figure(figsize=(6.5, 5.5))
    ax = fig.add_subplot(projection="3d")

    def coords(items: list[Any]) -> list[np.ndarray]:
        return [
            np.array(
                [
                    math.log10(max(i.objectives[k.name], 1e-30))
                    if k.log_scale
                    else i.objectives[k.name]
                    for i in items
                ]
            )
            for k in o
        ]

    front_ids = {i.id for i in front}
    rest = [i for i in ok if i.id not in front_ids]
    if rest:
        ax.scatter(*coords(rest), s=10, color="0.6", alpha=0.3, label="dominated")
    ax.scatter(*coords(front), s=30, color="C3", label="Pareto front")
    for setter, k in zip((ax.set_xlabel, ax.set_ylabel, ax.set_zlabel), o, strict=True):
        setter(("log10 " if k.log_scale else "") + k.name)
    ax.legend(fontsize=8)
    ax.set_title(f"{run.scenario.name}: 3-D front")
    return _save(fig, out, "front_3d")


def _hypervolume(run: Run, out: Path) -> list[Path]:
    plt = _plt()
    hist = run.hypervolume_history()
    evals = [h[0] for h in hist]
    secs = [h[1] / 60 for h in hist]
    hv = [h[2] for h in hist]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    a.plot(evals, hv, color="C0")
    a.set_xlabel("evaluations")
    b.plot(secs, hv, color="C0")
    b.set_xlabel("minutes")
    for ax in (a, b):
        ax.set_ylabel("hypervolume (normalised)")
        ax.grid(alpha=0.3)
    fig.suptitle(f"{run.scenario.name}: hypervolume of the front")
    return _save(fig, out, "hypervolume")


def _evolution(run: Run, history: list[Any], out: Path) -> list[Path]:
    """The front of the first two objectives at several points of the run."""
    plt = _plt()
    oa, ob = run.objectives[0], run.objectives[min(1, len(run.objectives) - 1)]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    n = len(history)
    cuts = sorted({max(1, round(n * f)) for f in (0.1, 0.25, 0.5, 0.75, 1.0)})
    cmap = plt.get_cmap("viridis")
    for k, cut in enumerate(cuts):
        archive = ParetoArchive([oa, ob])
        archive.add(history[:cut])
        front = sorted(archive.front(), key=lambda i: i.objectives[oa.name])
        if not front:
            continue
        ax.step(
            [i.objectives[oa.name] for i in front],
            [i.objectives[ob.name] for i in front],
            where="post",
            marker="o",
            ms=3,
            color=cmap(k / max(1, len(cuts) - 1)),
            label=f"after {cut} evaluations",
        )
    _axes(ax, oa, ob)
    ax.legend(fontsize=8)
    ax.set_title(f"{run.scenario.name}: how the front moved")
    return _save(fig, out, "front_evolution")


def _lineage(run: Run, history: list[Any], front: list[Any], out: Path) -> list[Path]:
    """Every ancestor of a front member, from the initial networks: x is the order of
    evaluation, y the first objective; edges are morphisms (dashed: approximate)."""
    plt = _plt()
    from evonas.morphism.base import MORPHISMS

    by_id = {i.id: i for i in history}
    keep: set[int] = set()
    for member in front:
        node: int | None = member.id
        while node is not None and node not in keep:
            keep.add(node)
            node = by_id[node].parent_id
    o = run.objectives[0]
    fig, ax = plt.subplots(figsize=(8, 4.8))
    front_ids = {i.id for i in front}
    for ident in sorted(keep):
        ind = by_id[ident]
        if ind.parent_id is not None and ind.parent_id in by_id:
            parent = by_id[ind.parent_id]
            approx = any(
                m.name in MORPHISMS and not MORPHISMS.get(m.name).preserving for m in ind.morphisms
            )
            ax.plot(
                [parent.id, ind.id],
                [parent.objectives[o.name], ind.objectives[o.name]],
                color="C1" if approx else "C0",
                ls="--" if approx else "-",
                lw=0.9,
                alpha=0.7,
            )
    xs = sorted(keep)
    ys = [by_id[i].objectives[o.name] for i in xs]
    colors = [
        "C3" if i in front_ids else ("C2" if by_id[i].parent_id is None else "0.4") for i in xs
    ]
    ax.scatter(xs, ys, c=colors, s=22, zorder=3)
    ax.plot([], [], "o", color="C2", label="initial network")
    ax.plot([], [], "o", color="C3", label="on the front")
    ax.plot([], [], "-", color="C0", label="function-preserving morphism")
    ax.plot([], [], "--", color="C1", label="approximate morphism")
    ax.set_xlabel("candidate id (order of evaluation)")
    ax.set_ylabel(_label(o))
    if o.log_scale:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"{run.scenario.name}: genealogy of the front")
    return _save(fig, out, "lineage")


def plot_compare(runs: Sequence[Run], out: Path) -> list[Path]:
    """Hypervolume against evaluations and time for several runs, and their fronts overlaid
    (first two objectives). The runs must share their objectives."""
    check_comparable(runs)
    plt = _plt()
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(16, 4.3), layout="constrained")
    oa, ob = runs[0].objectives[0], runs[0].objectives[min(1, len(runs[0].objectives) - 1)]
    for k, r in enumerate(runs):
        hist = r.hypervolume_history()
        label = f"{r.scenario.name} ({r.dir.name})"
        a.plot([h[0] for h in hist], [h[2] for h in hist], color=f"C{k}", label=label)
        b.plot([h[1] / 60 for h in hist], [h[2] for h in hist], color=f"C{k}", label=label)
        front = sorted(r.pareto_front(), key=lambda i: i.objectives[oa.name])
        pts = minimised_matrix(front, [oa, ob])
        nd = non_dominated(pts)
        sel = [front[i] for i in sorted(nd, key=lambda i: front[i].objectives[oa.name])]
        c.step(
            [i.objectives[oa.name] for i in sel],
            [i.objectives[ob.name] for i in sel],
            where="post",
            marker="o",
            ms=3,
            color=f"C{k}",
            label=label,
        )
    a.set_xlabel("evaluations")
    b.set_xlabel("minutes")
    for ax in (a, b):
        ax.set_ylabel("hypervolume (normalised)")
        ax.grid(alpha=0.3)
    _axes(c, oa, ob)
    c.legend(fontsize=8)
    fig.suptitle("comparison of runs")
    return _save(fig, out, "compare")
