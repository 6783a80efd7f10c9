"""``evonas report``: one self-contained HTML file per run (or comparison of runs).

The page opens from disk with no server and no network access: plotly.js is inlined. It
shows the interactive front (hover: id, objectives, architecture, parent and morphisms,
training facts; click: the lineage of a network highlighted), parallel coordinates over
every objective coloured by Pareto rank (three objectives or more), the hypervolume over
evaluations and over time, how the front moved during the run, the failed candidates with
their errors, and, for several runs, their fronts and hypervolume curves overlaid.
plotly is an optional extra (``pip install 'evonas[report]'``); the static matplotlib plots
(``evonas plot``) need nothing more.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evonas.core.individual import Individual
from evonas.core.pareto import ParetoArchive, constrained_ranks, minimised_matrix
from evonas.core.units import format_quantity
from evonas.record.run import Run, check_comparable
from evonas.record.run_record import RecordError, atomic_write_text, safe_folder

CLICK_JS = """
var plot = document.getElementById('{div}');
var lineage = {lineage};
plot.on('plotly_click', function(event) {{
  var id = event.points[0].customdata[0];
  var xs = [], ys = [], text = [];
  while (id !== null && id !== undefined && lineage[id]) {{
    xs.unshift(lineage[id][0]); ys.unshift(lineage[id][1]); text.unshift('#' + id);
    id = lineage[id][2];
  }}
  Plotly.restyle(plot, {{x: [xs], y: [ys], text: [text]}}, [{trace}]);
  document.getElementById('{div}-lineage').textContent =
    'lineage: ' + text.join(' > ');
}});
"""


def _plotly() -> Any:
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise RecordError(
            "the interactive report needs plotly: pip install 'evonas[report]' "
            "('evonas plot' draws static plots without it)"
        ) from None
    return go


def _hover(ind: Individual, run: Run, by_id: dict[int, Individual]) -> str:
    units = {o.name: o.unit for o in run.objectives}
    rows = [f"<b>#{ind.id}</b> {html.escape(ind.genome.short_summary())}"]
    rows += [f"{k}: {format_quantity(v, units.get(k, ''))}" for k, v in ind.objectives.items()]
    if ind.parent_id is not None:
        steps = ", ".join(m.name for m in ind.morphisms) or "-"
        rows.append(f"parent #{ind.parent_id} by {steps}")
    else:
        rows.append("initial network (trained from scratch)")
    t = ind.train
    how = "fine-tuned (inherited weights)" if t.inherited else "from scratch"
    rows.append(f"{how}: {t.epochs:.2g} epochs, {t.train_seconds:.3g} s")
    if t.rung is not None:
        rows.append(
            f"rung {t.rung}" + (" (provisional: a low-fidelity result)" if t.provisional else "")
        )
    if "val_error" in ind.predicted:
        rows.append(f"predicted val_error {ind.predicted['val_error']:.3g} before training")
    if ind.violation > 0:
        rows.append(f"constraint violation {ind.violation:.3g}")
    return "<br>".join(rows)


def _front_figure(run: Run, div: str) -> tuple[Any, str]:
    go = _plotly()
    history = run.history()
    by_id = {i.id: i for i in history}
    ok = [i for i in history if i.ok]
    front = {i.id for i in run.pareto_front()}
    oa, ob = run.objectives[0], run.objectives[min(1, len(run.objectives) - 1)]
    fig = go.Figure()
    for name, members, style in (
        (
            "dominated",
            [i for i in ok if i.id not in front],
            {"color": "rgba(120,120,120,0.4)", "size": 6},
        ),
        ("Pareto front", [i for i in ok if i.id in front], {"color": "#d62728", "size": 10}),
    ):
        fig.add_trace(
            go.Scatter(
                x=[i.objectives[oa.name] for i in members],
                y=[i.objectives[ob.name] for i in members],
                mode="markers",
                name=name,
                marker=style,
                customdata=[[i.id] for i in members],
                hovertext=[_hover(i, run, by_id) for i in members],
                hoverinfo="text",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[],
            y=[],
            mode="lines+markers+text",
            name="lineage (click a network)",
            line={"color": "#1f77b4", "width": 2},
            textposition="top center",
        )
    )
    _axes(fig, oa, ob)
    fig.update_layout(title=f"{run.scenario.name}: {len(ok)} networks, {len(front)} on the front")
    lineage = {i.id: [i.objectives[oa.name], i.objectives[ob.name], i.parent_id] for i in ok}
    return fig, CLICK_JS.format(div=div, lineage=json.dumps(lineage), trace=2)


def _axes(fig: Any, oa: Any, ob: Any) -> None:
    def title(o: Any) -> str:
        better = "lower is better" if o.direction == "min" else "higher is better"
        return f"{o.name} ({o.unit + '; ' if o.unit else ''}{better})"

    fig.update_xaxes(title=title(oa), type="log" if oa.log_scale else "linear")
    fig.update_yaxes(title=title(ob), type="log" if ob.log_scale else "linear")


def _parallel(run: Run) -> Any:
    go = _plotly()
    ok = [i for i in run.history() if i.ok]
    ranks = constrained_ranks(
        minimised_matrix(ok, run.objectives), np.array([i.violation for i in ok])
    )
    dims = []
    for o in run.objectives:
        values = [i.objectives[o.name] for i in ok]
        if o.log_scale:
            values = [math.log10(max(v, 1e-30)) for v in values]
        dims.append({"label": ("log10 " if o.log_scale else "") + o.name, "values": values})
    line = {
        "color": ranks,
        "colorscale": "Viridis_r",
        "showscale": True,
        "colorbar": {"title": "Pareto rank"},
    }
    fig = go.Figure(go.Parcoords(line=line, dimensions=dims))
    fig.update_layout(title="every network over every objective (colour: Pareto rank, 0 = front)")
    return fig


def _hypervolume(runs: Sequence[Run]) -> Any:
    go = _plotly()
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("over evaluations", "over time"))
    for k, run in enumerate(runs):
        hist = run.hypervolume_history()
        name = str(run.dir.name)
        fig.add_trace(
            go.Scatter(
                x=[h[0] for h in hist],
                y=[h[2] for h in hist],
                name=name,
                legendgroup=name,
                line={"color": _colour(k)},
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=[h[1] / 60 for h in hist],
                y=[h[2] for h in hist],
                name=name,
                legendgroup=name,
                showlegend=False,
                line={"color": _colour(k)},
            ),
            row=1,
            col=2,
        )
    fig.update_xaxes(title="evaluations", row=1, col=1)
    fig.update_xaxes(title="minutes", row=1, col=2)
    fig.update_yaxes(title="hypervolume (normalised)")
    fig.update_layout(title="hypervolume of the front")
    return fig


def _evolution(run: Run) -> Any:
    go = _plotly()
    history = run.history()
    oa, ob = run.objectives[0], run.objectives[min(1, len(run.objectives) - 1)]
    fig = go.Figure()
    n = len(history)
    for cut in sorted({max(1, round(n * f)) for f in (0.1, 0.25, 0.5, 0.75, 1.0)}):
        archive = ParetoArchive([oa, ob])
        archive.add(history[:cut])
        front = sorted(archive.front(), key=lambda i: i.objectives[oa.name])
        fig.add_trace(
            go.Scatter(
                x=[i.objectives[oa.name] for i in front],
                y=[i.objectives[ob.name] for i in front],
                mode="lines+markers",
                line={"shape": "hv"},
                name=f"after {cut} evaluations",
            )
        )
    _axes(fig, oa, ob)
    fig.update_layout(title="how the front moved during the run")
    return fig


def _overlay(runs: Sequence[Run]) -> Any:
    go = _plotly()
    oa, ob = runs[0].objectives[0], runs[0].objectives[min(1, len(runs[0].objectives) - 1)]
    fig = go.Figure()
    for k, run in enumerate(runs):
        front = sorted(run.pareto_front(), key=lambda i: i.objectives[oa.name])
        fig.add_trace(
            go.Scatter(
                x=[i.objectives[oa.name] for i in front],
                y=[i.objectives[ob.name] for i in front],
                mode="lines+markers",
                line={"shape": "hv", "color": _colour(k)},
                name=f"{run.dir.name} (hv {run.hypervolume():.4f})",
                hovertext=[f"#{i.id} {i.genome.short_summary()}" for i in front],
                hoverinfo="text",
            )
        )
    _axes(fig, oa, ob)
    fig.update_layout(title="fronts of the runs")
    return fig


def _failures(run: Run) -> str:
    failed = [i for i in run.history() if not i.ok]
    if not failed:
        return "<p>No candidate failed.</p>"
    rows = "".join(
        f"<tr><td>#{i.id}</td><td>{html.escape(str(i.status))}</td>"
        f"<td>{html.escape(i.genome.short_summary())}</td>"
        f"<td><code>{html.escape(i.error or '')}</code></td></tr>"
        for i in failed
    )
    return (
        f"<p>{len(failed)} of {len(run.history())} candidates failed.</p><table>"
        "<tr><th>id</th><th>status</th><th>network</th><th>error</th></tr>"
        f"{rows}</table>"
    )


def _colour(k: int) -> str:
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    return palette[k % len(palette)]


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border-bottom: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; }
.lineage { font-family: monospace; color: #1f77b4; min-height: 1.2em; }
"""


def write_report(runs: Sequence[Run], out: Path) -> Path:
    """Writes the report of ``runs`` (one run, or several to compare) to ``out``."""
    check_comparable(runs)
    for run in runs:
        if not any(i.ok for i in run.history()):
            raise RecordError(f"run {run.dir} has no successful evaluation to report yet")
    from plotly.offline import get_plotlyjs

    parts: list[str] = []

    def figure(fig: Any, div: str, script: str = "") -> str:
        body = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=div,
            post_script=script or None,
            config={"displaylogo": False},
        )
        return str(body)

    for k, run in enumerate(runs):
        front_fig, click = _front_figure(run, f"front{k}")
        stop = run.stop_reason() or "still running, or stopped by a signal"
        name, where = html.escape(run.scenario.name), html.escape(str(run.dir))
        parts.append(f"<h1>{name} <small>({where})</small></h1>")
        parts.append(
            f"<p>{len(run.history())} evaluations; front of {len(run.pareto_front())}; "
            f"hypervolume {run.hypervolume():.4f}; stopped: {html.escape(stop)}.</p>"
        )
        parts.append("<h2>Pareto front</h2>" + figure(front_fig, f"front{k}", click))
        parts.append(
            f'<p class="lineage" id="front{k}-lineage">click a network to see its lineage</p>'
        )
        if len(run.objectives) >= 3:
            parts.append("<h2>All objectives</h2>" + figure(_parallel(run), f"parallel{k}"))
        parts.append("<h2>How the front moved</h2>" + figure(_evolution(run), f"evolution{k}"))
        parts.append("<h2>Failures</h2>" + _failures(run))
    if len(runs) > 1:
        parts.append("<h1>Comparison</h1>" + figure(_overlay(runs), "overlay"))
    parts.append("<h2>Hypervolume</h2>" + figure(_hypervolume(runs), "hypervolume"))
    title = " vs ".join(html.escape(r.scenario.name) for r in runs)
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>evonas: {title}</title>"
        f"<style>{STYLE}</style><script type='text/javascript'>{get_plotlyjs()}</script>"
        f"</head><body>{''.join(parts)}</body></html>"
    )
    safe_folder(out.parent)
    atomic_write_text(out, page)  # a link at ``out`` is replaced, never followed
    return out
