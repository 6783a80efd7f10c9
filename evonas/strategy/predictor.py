"""A learned predictor over children: the ``predicted`` acceptance step.

A strategy that makes more children than it trains (``candidates`` > 1, LEMONADE's
``n_children`` > ``n_accept``) asks an acceptance step which to train. ``predicted`` fits a
random forest (scikit-learn, the surrogate SMAC uses) online on the run's history: from
features of a child's genome (stages, convolutions, widths, kernels, skips, its cheap
objectives) and of its lineage (its parent's results, the epochs its weights already carry,
the morphisms that made it) to each expensive objective after its fine-tune (validation
error, and any other objective measured by training). The spread of the trees' predictions
is its uncertainty. Children are chosen greedily by the hypervolume they would add to the
population's front at an optimistic point (the lower confidence bound, mean - ``kappa`` x
spread, beside their known cheap objectives); each choice joins the front at its mean before
the next (BANANAS chooses among mutations of good networks by an ensemble's acquisition,
White et al., AAAI 2021; Auto-Keras guides network morphisms by a model, Jin et al., KDD
2019). While the history holds fewer than ``min_history`` children, LEMONADE's inverse
density chooses instead.

Every child trained carries the prediction made for it (``Individual.predicted``), so the
run record shows how good the predictor is beside what was realised.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from evonas.core.individual import Candidate, Individual, MorphismRecord
from evonas.core.pareto import ObjectiveInfo, hypervolume, non_dominated, normalised_matrix
from evonas.core.seeds import Stream, derive_seed
from evonas.space.genome import Genome
from evonas.strategy.steps import ACCEPTANCES, Acceptance, AcceptSparse

if TYPE_CHECKING:
    from evonas.strategy.base import StrategyContext

SD_SUFFIX = ".sd"
"""``Individual.predicted`` holds each objective's mean under its name and the spread of the
trees under ``name + SD_SUFFIX``."""


def genome_features(genome: Genome) -> list[float]:
    """Architecture features: stages, nodes, convolutions (separable among them), log2 of
    total, largest and last width, mean kernel, large kernels, pools, skips (merges)."""
    convs = [n for n in genome.nodes if n.op in ("conv", "sep_conv")]
    widths = [n.channels or 0 for n in convs] or [0]
    kernels = [n.kernel or 0 for n in convs] or [0]
    merges = sum(n.op in ("add", "concat") for n in genome.nodes)
    pools = sum(n.op in ("max_pool", "avg_pool") for n in genome.nodes)
    return [
        float(genome.num_stages),
        float(len(genome.nodes)),
        float(len(convs)),
        float(sum(n.op == "sep_conv" for n in convs)),
        math.log2(1 + sum(widths)),
        math.log2(1 + max(widths)),
        math.log2(1 + widths[-1]),
        float(np.mean(kernels)),
        float(sum(k >= 5 for k in kernels)),
        float(pools),
        float(merges),
    ]


class Lineage:
    """What the history says of each individual's ancestry: its results and the epochs its
    weights carry (its own plus its ancestors', for inherited weights)."""

    def __init__(self) -> None:
        self.by_id: dict[int, Individual] = {}
        self.epochs: dict[int, float] = {}

    def add(self, ind: Individual) -> None:
        carried = 0.0
        if ind.parent_id is not None and ind.train.inherited:
            carried = self.epochs.get(ind.parent_id, 0.0)
        self.by_id[ind.id] = ind
        self.epochs[ind.id] = carried + float(ind.train.epochs)


def _value(info: ObjectiveInfo, v: float) -> float:
    """An objective's value on the scale the model fits (log10 for log-scale ones)."""
    if info.log_scale:
        return math.log10(max(v, 1e-30))
    return v


def _unvalue(info: ObjectiveInfo, v: float) -> float:
    return 10.0**v if info.log_scale else v


@ACCEPTANCES.register("predicted")
class AcceptPredicted(Acceptance):
    """Children chosen by a random forest's predicted hypervolume improvement.

    Args:
        kappa: optimism: the acquisition reads each prediction at mean - kappa x spread.
        min_history: children (with a parent, evaluated successfully) the model needs
            before it chooses; before that, ``sparse`` (inverse density) does.
        trees: trees in the forest.
    """

    def __init__(
        self,
        *,
        kappa: float = 2.0,
        min_history: int = 8,
        trees: int = 64,
    ) -> None:
        if not (math.isfinite(kappa) and kappa >= 0):
            raise ValueError(f"predicted kappa must be a number >= 0, got {kappa!r}")
        if isinstance(min_history, bool) or not isinstance(min_history, int) or min_history < 2:
            raise ValueError(f"predicted min_history must be an integer >= 2, got {min_history!r}")
        if isinstance(trees, bool) or not isinstance(trees, int) or trees < 2:
            raise ValueError(f"predicted trees must be an integer >= 2, got {trees!r}")
        try:
            import sklearn.ensemble  # noqa: F401
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise ValueError(
                "the predicted acceptance needs scikit-learn (pip install scikit-learn)"
            ) from exc
        self.kappa = kappa
        self.min_history = min_history
        self.trees = trees
        self.lineage = Lineage()
        self._rows: list[tuple[list[float], list[float]]] = []  # (features, targets)
        self._model: tuple[int, Any] | None = None  # (rows it was fitted on, forest)

    # --- history -----------------------------------------------------------------------------
    def observe(self, individuals: Sequence[Individual], context: StrategyContext) -> None:
        expensive = _expensive(context)
        if not expensive:  # every objective is known before training: nothing to predict
            return
        for ind in individuals:
            if ind.ok and ind.parent_id is not None and ind.parent_id in self.lineage.by_id:
                x = self._features(
                    ind.genome, ind.objectives, ind.parent_id, ind.morphisms, context
                )
                y = [_value(o, ind.objectives[o.name]) for o in expensive]
                if all(math.isfinite(v) for v in x + y):
                    self._rows.append((x, y))
            self.lineage.add(ind)

    def _features(
        self,
        genome: Genome,
        values: dict[str, float],
        parent_id: int,
        morphisms: Sequence[MorphismRecord],
        context: StrategyContext,
    ) -> list[float]:
        parent = self.lineage.by_id[parent_id]
        names = sorted(context.morphisms)
        counts = [float(sum(m.name == n for m in morphisms)) for n in names]
        approximate = any(
            m.name in context.morphisms and not context.morphisms[m.name].preserving
            for m in morphisms
        )
        return [
            *genome_features(genome),
            *(_value(o, values.get(o.name, math.nan)) for o in context.cheap),
            *(_value(o, parent.objectives.get(o.name, math.nan)) for o in context.objectives),
            math.log2(1.0 + self.lineage.epochs.get(parent_id, 0.0)),
            float(len(morphisms)),
            float(approximate),
            *counts,
        ]

    # --- the choice ---------------------------------------------------------------------------
    def choose(
        self,
        candidates: list[Candidate],
        population: Sequence[Individual],
        n: int,
        rng: np.random.Generator,
        context: StrategyContext,
    ) -> list[Candidate]:
        known = [
            c for c in candidates if c.parent_id is not None and c.parent_id in self.lineage.by_id
        ]
        enough = known and _expensive(context) and len(self._rows) >= self.min_history
        forest = self._forest(context) if enough else None
        if forest is None:
            return AcceptSparse().choose(candidates, population, n, rng, context)
        mean, spread = self._predict(forest, known, context)
        expensive = _expensive(context)
        for c, mu, sd in zip(known, mean, spread, strict=True):
            c.predicted = {}
            for j, o in enumerate(expensive):
                c.predicted[o.name] = _unvalue(o, float(mu[j]))
                c.predicted[o.name + SD_SUFFIX] = float(sd[j])
        if len(candidates) <= n:
            return candidates
        chosen = self._greedy(known, mean, spread, population, n, rng, context)
        if len(chosen) < n:  # children of unknown parents: after the predicted ones, in order
            rest = [c for c in candidates if all(c is not k for k in known)]
            chosen += rest[: n - len(chosen)]
        picked = {id(c) for c in chosen}
        return [c for c in candidates if id(c) in picked]

    def _forest(self, context: StrategyContext) -> Any:
        if self._model is not None and self._model[0] == len(self._rows):
            return self._model[1]
        from sklearn.ensemble import RandomForestRegressor

        x = np.array([r[0] for r in self._rows], dtype=float)
        y = np.array([r[1] for r in self._rows], dtype=float)
        forest = RandomForestRegressor(
            n_estimators=self.trees,
            min_samples_leaf=2,
            max_features=0.5,
            random_state=derive_seed(context.seed, Stream.PREDICTOR, len(self._rows)) % 2**31,
            n_jobs=1,
        ).fit(x, y if y.shape[1] > 1 else y[:, 0])
        self._model = (len(self._rows), forest)
        return forest

    def _predict(
        self, forest: Any, children: Sequence[Candidate], context: StrategyContext
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each child's mean and spread (trees' standard deviation) per expensive objective,
        on the fitted scale: arrays of shape (children, objectives)."""
        rows = []
        for c in children:
            assert c.parent_id is not None
            rows.append(self._features(c.genome, c.cheap, c.parent_id, c.morphisms, context))
        x = np.array(rows, dtype=float)
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
        per_tree = np.stack([t.predict(x) for t in forest.estimators_])  # (trees, n[, m])
        per_tree = per_tree.reshape(len(forest.estimators_), len(children), -1)
        return per_tree.mean(axis=0), per_tree.std(axis=0)

    def _greedy(
        self,
        children: list[Candidate],
        mean: np.ndarray,
        spread: np.ndarray,
        population: Sequence[Individual],
        n: int,
        rng: np.random.Generator,
        context: StrategyContext,
    ) -> list[Candidate]:
        """Up to ``n`` children by the hypervolume each adds at its optimistic point; each
        chosen one joins the front at its mean (kriging believer) before the next choice
        (ties: the earlier child). Once no child left adds anything, the rest are drawn by
        inverse density (``sparse``)."""
        expensive = _expensive(context)
        position = {o.name: j for j, o in enumerate(expensive)}

        def point(c: Candidate, mu: np.ndarray, sd: np.ndarray, optimism: float) -> np.ndarray:
            row = []
            for o in context.objectives:
                if o.name in position:
                    j = position[o.name]
                    shift = -optimism * sd[j] if o.direction == "min" else optimism * sd[j]
                    row.append(o.normalised(_unvalue(o, float(mu[j] + shift))))
                else:
                    row.append(o.normalised(c.cheap.get(o.name, math.nan)))
            return np.nan_to_num(np.array(row, dtype=float), nan=1.0)

        front = normalised_matrix([p for p in population if p.ok], context.objectives)
        front = front[non_dominated(front)]
        base = hypervolume(front)
        left = list(range(len(children)))
        chosen: list[Candidate] = []
        while left and len(chosen) < n:
            gains = []
            for i in left:
                optimistic = point(children[i], mean[i], spread[i], self.kappa)
                gains.append((hypervolume(np.vstack([front, optimistic])) - base, -i))
            gain, best = max(gains)
            if gain <= 0:  # no child is expected to add anything: diversity decides the rest
                rest = [children[i] for i in left]
                chosen += AcceptSparse().choose(rest, population, n - len(chosen), rng, context)
                break
            chosen.append(children[-best])
            left.remove(-best)
            front = np.vstack([front, point(children[-best], mean[-best], spread[-best], 0.0)])
            front = front[non_dominated(front)]
            base = hypervolume(front)
        return chosen


def _expensive(context: StrategyContext) -> list[ObjectiveInfo]:
    """The objectives the model predicts: those measured by training."""
    return [o for o in context.objectives if not o.cheap]
