"""The strategy interface: an ask/tell object that the search loop drives.

A strategy proposes children (:meth:`Strategy.ask`): which evaluated parent to start from
and which morphisms to apply, or a network to train from scratch. The loop makes the
children, computes their cheap objectives and lets the strategy choose which to train
(:meth:`Strategy.accept`); it trains them and reports the evaluated individuals back
(:meth:`Strategy.tell`).

Randomness is derived per step: :attr:`Strategy.rng` is seeded from the run's seed and the
number of individuals told so far, so a strategy whose state is restored from the recorded
history (:meth:`Strategy.restore`) draws exactly what the live one would have drawn, and a
run resumes without replaying its search.

A subclass implements :meth:`propose` and :meth:`advance`, and optionally :meth:`select`
(which children to train) and a faster :meth:`restore`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

import numpy as np

from evonas.core.individual import Candidate, Individual, Proposal
from evonas.core.pareto import ObjectiveInfo
from evonas.core.registry import Registry, RegistryError
from evonas.core.seeds import Stream, generator
from evonas.morphism.base import Morphism
from evonas.space.genome import Genome
from evonas.strategy.rungs import Rungs
from evonas.strategy.steps import (
    Acceptance,
    ParentChooser,
    Survival,
    get_acceptance,
    get_parent_chooser,
)


@dataclass
class StrategyContext:
    """What the loop gives a strategy at setup."""

    objectives: list[ObjectiveInfo]  # all objectives, in the run's order
    morphisms: dict[str, Morphism]  # the enabled morphisms by name
    initial: list[Genome]  # the initial networks
    seed: int = 0  # the run's seed; every random choice derives from it

    @property
    def cheap(self) -> list[ObjectiveInfo]:
        return [o for o in self.objectives if o.cheap]


class Strategy(ABC):
    """Base class of search strategies.

    ``asynchronous`` strategies use each result as soon as it arrives (one child per free
    worker); generational ones get a batch at a time and are told the batch, by id, when all
    of it is evaluated.
    """

    name: str = ""
    asynchronous: bool = False

    def setup(self, context: StrategyContext) -> None:
        """Called once by the loop before the first ``ask``."""
        self.context = context
        self._told = 0
        self._rng: np.random.Generator | None = None
        self._initial_sent = False

    # --- what the loop calls --------------------------------------------------------------
    @property
    def step(self) -> int:
        """Individuals told so far: the step the next proposals belong to."""
        return self._told

    @property
    def rng(self) -> np.random.Generator:
        """This step's random stream (seed, step): the same after a restore."""
        if self._rng is None:
            self._rng = generator(self.context.seed, Stream.STRATEGY, self._told)
        return self._rng

    def ask(self, n: int = 1) -> list[Proposal]:
        """Proposals for the next evaluations (``n``: free workers, a hint). The initial
        networks come first, once."""
        if self._told == 0 and not self._initial_sent:
            self._initial_sent = True
            return [Proposal(None, g, (), self.new_seed()) for g in self.context.initial]
        return self.propose(n)

    def accept(self, candidates: list[Candidate]) -> list[Candidate]:
        """Which of the made children to train (they carry cheap objectives)."""
        return self.select(candidates) if candidates else []

    def tell(self, individuals: Sequence[Individual]) -> None:
        """Evaluated individuals (failed ones included, with ``ok`` False)."""
        self.advance(list(individuals))
        self._told += len(individuals)
        self._rng = None

    def restore(self, history: Sequence[Individual]) -> None:
        """Sets the state this strategy would have after being told ``history`` (the
        recorded individuals, in the order they were recorded): by :meth:`rebuild` where the
        strategy can, else by telling them as the loop did, one at a time (asynchronous) or
        in batches by step (generational)."""
        if self.rebuild(history):
            self._told = len(history)
            self._rng = None
            return
        if self.asynchronous:
            for ind in history:
                self.tell([ind])
            return
        for _, group in groupby(history, key=lambda i: i.step):
            self.tell(sorted(group, key=lambda i: i.id))

    # --- what a strategy implements --------------------------------------------------------
    @abstractmethod
    def propose(self, n: int) -> list[Proposal]:
        """Proposals after the initial networks; draw every random choice from ``self.rng``."""

    def select(self, candidates: list[Candidate]) -> list[Candidate]:
        """Which children to train; default: all."""
        return candidates

    @abstractmethod
    def advance(self, individuals: list[Individual]) -> None:
        """Updates the state with evaluated individuals (no random choices here)."""

    def rebuild(self, history: Sequence[Individual]) -> bool:
        """Sets the state from the whole ``history`` at once and says so; False (the
        default): :meth:`restore` replays it instead."""
        return False

    # --- helpers for subclasses ---------------------------------------------------------
    def new_seed(self) -> int:
        return int(self.rng.integers(2**31))

    def restart(self) -> list[Proposal]:
        """Every individual so far failed: start again from a random initial network."""
        g = self.context.initial[int(self.rng.integers(len(self.context.initial)))]
        return [Proposal(None, g, (), self.new_seed())]

    def random_morphisms(
        self, genome: Genome, p_approximate: float, mean: float = 1.0
    ) -> tuple[str, ...]:
        """The morphisms of one child of ``genome``: approximate ones with probability
        ``p_approximate`` (if any applies), else function-preserving ones, so that a
        preserving child stays exactly its parent's function; their number drawn from a
        geometric distribution with mean ``mean`` (>= 1; exactly one when ``mean`` is 1).
        Each is drawn among those that apply to ``genome``; one that no longer applies once
        the earlier ones have changed it is skipped by the child factory. Empty: nothing
        applies."""
        rng = self.rng
        want_approx = rng.random() < p_approximate
        count = 1 if mean <= 1.0 else int(rng.geometric(1.0 / mean))
        morphisms = self.context.morphisms
        kind = sorted(n for n, m in morphisms.items() if m.preserving != want_approx)
        for group in (kind, sorted(morphisms)):  # the other kind only when none of it applies
            names = [n for n in group if morphisms[n].is_applicable(genome)]
            if names:
                return tuple(str(n) for n in rng.choice(names, size=count))
        return ()

    def random_architecture(self, max_morphisms: int, p_approximate: float) -> Proposal:
        """A network drawn from the whole space, to train from scratch: a random initial
        network changed by a random sequence of 1..``max_morphisms`` morphisms, each
        approximate with probability ``p_approximate`` (where any is enabled), else
        function-preserving, then a name of that kind uniformly (random search's draw)."""
        rng = self.rng
        base = self.context.initial[int(rng.integers(len(self.context.initial)))]
        length = int(rng.integers(1, max_morphisms + 1))
        morphisms = self.context.morphisms
        names = []
        for _ in range(length):
            approximate = rng.random() < p_approximate
            kind = sorted(n for n, m in morphisms.items() if m.preserving != approximate)
            names.append(str(rng.choice(kind or sorted(morphisms))))
        return Proposal(None, base, tuple(names), self.new_seed())

    def random_morphism(self, genome: Genome, p_approximate: float) -> str | None:
        """One morphism applicable to ``genome`` (see :meth:`random_morphisms`)."""
        names = self.random_morphisms(genome, p_approximate)
        return names[0] if names else None


RANDOM_WALK_MORPHISMS = 8
"""Longest morphism walk of a random architecture: random search's and ASHA's default
``max_morphisms``, and an immigrant's."""

STRATEGIES: Registry[Strategy] = Registry("strategy", Strategy)
"""Registered strategies (classes). ``@register_strategy("name")`` adds one."""

register_strategy = STRATEGIES.register
get_strategy = STRATEGIES.create


def _step(registry_get: Any, label: str, ref: Any) -> Any:
    try:
        return registry_get(ref)
    except (RegistryError, TypeError, ValueError) as exc:
        raise ValueError(f"{label} {ref!r}: {exc}") from None


class Evolution(Strategy):
    """An evolutionary strategy composed of named steps (:mod:`evonas.strategy.steps`):
    each child's parent is drawn by ``parent`` (``fallback`` where it says nothing) and
    changed by random morphisms; ``candidates`` children are made per child trained and
    ``acceptance`` chooses which are trained; ``survival`` keeps the population. LEMONADE,
    aging evolution and NSGA-II are compositions of these.

    Args:
        parent, fallback: parent choosers (registered names, objects); ``parent_key`` is
            the option's name in messages (NSGA-II calls it ``mating``).
        acceptance: which children made are trained (a name or an object).
        survival: who stays in the population.
        candidates: children made per child trained (>= 1).
        p_approximate: probability that a child is made with approximate morphisms.
        morphisms_per_child: mean number of morphisms a child is made with (geometric, >= 1).
        immigrants: share of the children made that are drawn from the whole space instead
            (:meth:`Strategy.random_architecture`, walks of 1..:data:`RANDOM_WALK_MORPHISMS`)
            and trained from scratch for the trainer's ``scratch_epochs``, beside the
            morphism children ("random immigrants"); 0 (the default): none.
    """

    def __init__(
        self,
        *,
        parent: ParentChooser | str,
        fallback: ParentChooser | str,
        acceptance: Acceptance | str,
        survival: Survival,
        candidates: int = 1,
        p_approximate: float = 0.3,
        morphisms_per_child: float = 1.0,
        immigrants: float = 0.0,
        parent_key: str = "parent",
    ) -> None:
        label = self.name or type(self).__name__
        if isinstance(candidates, bool) or not isinstance(candidates, int) or candidates < 1:
            raise ValueError(f"{label} candidates must be an integer >= 1, got {candidates!r}")
        if not 0 <= p_approximate <= 1:
            raise ValueError(f"{label} p_approximate must lie in [0, 1], got {p_approximate}")
        if morphisms_per_child < 1:
            raise ValueError(
                f"{label} morphisms_per_child must be >= 1 (a mean count), "
                f"got {morphisms_per_child}"
            )
        if not 0 <= immigrants <= 1:
            raise ValueError(f"{label} immigrants must lie in [0, 1], got {immigrants}")
        self.parent = _step(get_parent_chooser, f"{label} {parent_key}", parent)
        self.fallback = _step(get_parent_chooser, f"{label} fallback", fallback)
        self.acceptance = _step(get_acceptance, f"{label} acceptance", acceptance)
        self.survival = survival
        self.candidates = candidates
        self.p_approximate = p_approximate
        self.morphisms_per_child = morphisms_per_child
        self.immigrants = immigrants
        self.population: list[Individual] = []
        self._wanted = 1
        self.fidelity: Rungs | None = None

    def use_fidelity(self, rungs: Rungs | None) -> None:
        """Children fine-tune ``rungs.epochs[0]`` first and move up the rungs by
        successive halving (:class:`~evonas.strategy.rungs.Rungs`); a promotion takes one of
        the slots of children trained per ask. None: every child fine-tunes the trainer's
        ``child_epochs`` (the default)."""
        self.fidelity = rungs

    def setup(self, context: StrategyContext) -> None:
        super().setup(context)
        if self.fidelity is not None:
            self.fidelity.reset()

    def trained_per_ask(self, n: int) -> int:
        """Children trained per ask, given ``n`` free workers (default: one per worker)."""
        return max(1, n)

    def made_per_ask(self, trained: int) -> int:
        """Children made per ask to train ``trained`` of them."""
        return trained * self.candidates

    def propose(self, n: int) -> list[Proposal]:
        if not self.population:  # everything failed so far: start again
            return self.restart()
        wanted = self.trained_per_ask(n)
        out = self._promotions(wanted)
        self._wanted = wanted - len(out)
        if self._wanted == 0:
            return out
        draw = self.parent.prepare(self.population, self.context)
        if draw is None:
            draw = self.fallback.prepare(self.population, self.context)
        rng = self.rng
        rungs = self.fidelity
        epochs, provisional = (None, False) if rungs is None else (rungs.epochs[0], rungs.top > 0)
        for _ in range(self.made_per_ask(self._wanted)):
            # drawn only when asked for, so that a run without immigrants is unchanged
            if self.immigrants > 0 and rng.random() < self.immigrants:
                out.append(self.random_architecture(RANDOM_WALK_MORPHISMS, self.p_approximate))
                continue
            parent = draw(rng)
            names = self.random_morphisms(
                parent.genome, self.p_approximate, self.morphisms_per_child
            )
            if names:
                out.append(
                    Proposal(
                        parent.id,
                        None,
                        names,
                        self.new_seed(),
                        epochs=epochs,
                        rung=None if rungs is None else 0,
                        provisional=provisional,
                    )
                )
        return out

    def _promotions(self, wanted: int) -> list[Proposal]:
        """Up to ``wanted`` children to train further, up one rung (none without rungs)."""
        out: list[Proposal] = []
        rungs = self.fidelity
        while rungs is not None and len(out) < wanted:
            up = rungs.next_promotion(self.context.objectives)
            if up is None:
                break
            out.append(
                Proposal(
                    up.parent_id,
                    None,
                    (),
                    self.new_seed(),
                    epochs=up.extra,
                    continues=True,
                    rung=up.rung,
                    provisional=up.rung < rungs.top,
                )
            )
        return out

    def select(self, candidates: list[Candidate]) -> list[Candidate]:
        """Promotions are all trained; the acceptance step chooses among new children."""
        new = [c for c in candidates if not c.continues]
        chosen = (
            self.acceptance.choose(new, self.population, self._wanted, self.rng, self.context)
            if new and self._wanted > 0
            else []
        )
        if len(new) == len(candidates):
            return chosen
        keep = {id(c) for c in chosen} | {id(c) for c in candidates} - {id(c) for c in new}
        return [c for c in candidates if id(c) in keep]

    def advance(self, individuals: list[Individual]) -> None:
        self.population = self.survival.survive(self.population, individuals, self.context)
        self.acceptance.observe(individuals, self.context)
        if self.fidelity is not None:
            self.fidelity.observe([i for i in individuals if i.parent_id is not None])

    def rebuild(self, history: Sequence[Individual]) -> bool:
        population = self.survival.restore(history, self.context)
        if population is None:
            return False
        self.population = population
        self.acceptance.observe(history, self.context)
        if self.fidelity is not None:
            self.fidelity.reset()
            self.fidelity.observe([i for i in history if i.parent_id is not None])
        return True
