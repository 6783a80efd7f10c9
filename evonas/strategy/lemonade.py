"""LEMONADE (Elsken, Metzen & Hutter, ICLR 2019): Lamarckian evolution over the Pareto front.

Each generation: the population is the Pareto front of everything evaluated; ``n_children``
children are made by morphisms from parents drawn from it; ``n_accept`` of them, favouring
low kernel density over the cheap objectives (known before training), are trained.

Parents are drawn by exclusive hypervolume by default (``parent = "contribution"``), the
paper's 1 / density over cheap objectives where that says nothing or when asked
(``parent = "density"``); the measurement behind the default is in ``docs/decisions.md``.
"""

from __future__ import annotations

from evonas.strategy.base import Evolution, register_strategy
from evonas.strategy.density import inverse_density_weights, kde_density, kde_log_density
from evonas.strategy.steps import Acceptance, KeepFront, ParentChooser

__all__ = ["Lemonade", "inverse_density_weights", "kde_density", "kde_log_density"]


@register_strategy("lemonade")
class Lemonade(Evolution):
    """LEMONADE: parents from the front, children accepted by density over cheap objectives.

    Args:
        n_children: children generated per generation (the paper's ``n_pc``).
        n_accept: children accepted and trained per generation (``n_ac``).
        p_approximate: probability that a child is made with approximate morphisms.
        morphisms_per_child: mean number of morphisms a child is made with (geometric, >= 1).
        immigrants: share of the children made that are random architectures trained from
            scratch (:class:`~evonas.strategy.base.Evolution`); 0: none.
        parent: parent chooser (:data:`~evonas.strategy.steps.PARENTS`): ``"contribution"``
            (exclusive hypervolume), ``"density"`` (the paper's), or any registered one.
        acceptance: which children are trained: ``"sparse"`` (the paper's), ``"all"`` or
            ``"predicted"`` (a learned predictor, :mod:`evonas.strategy.predictor`).
    """

    def __init__(
        self,
        *,
        n_children: int = 16,
        n_accept: int = 4,
        p_approximate: float = 0.3,
        morphisms_per_child: float = 1.0,
        immigrants: float = 0.0,
        parent: ParentChooser | str = "contribution",
        acceptance: Acceptance | str = "sparse",
    ) -> None:
        if n_children < 1 or not 1 <= n_accept <= n_children:
            raise ValueError(
                f"lemonade needs 1 <= n_accept ({n_accept}) <= n_children ({n_children})"
            )
        super().__init__(
            parent=parent,
            fallback="density",
            acceptance=acceptance,
            survival=KeepFront(),
            p_approximate=p_approximate,
            morphisms_per_child=morphisms_per_child,
            immigrants=immigrants,
        )
        self.n_children = n_children
        self.n_accept = n_accept

    def trained_per_ask(self, n: int) -> int:
        return self.n_accept

    def made_per_ask(self, trained: int) -> int:
        return self.n_children
