"""The child factory: the one place where proposals become children.

It applies a proposal's morphisms to the parent's genome and weights (Lamarckian
inheritance), checks the space limits and skips architectures already evaluated or in
training. When a proposal gives nothing new (a duplicate, a child over a limit, no
applicable morphism), it tries what a user would: more morphisms on top of that child,
drawn from the proposal's own random stream, up to ``extra`` more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from evonas.core.config import SpaceLimits
from evonas.core.individual import Candidate, Individual, MorphismRecord, Proposal, StateDict
from evonas.engine.weights import WeightStore
from evonas.model.builder import count_params
from evonas.morphism.base import Morphism, NotApplicable
from evonas.space.genome import Genome


class ChildFactory:
    """Makes candidates from proposals over one search space.

    Args:
        morphisms: the enabled morphisms.
        initial: the initial networks (the strategies' starting points).
        limits: children beyond these are not made.
        input_shape, num_classes: of the task (parameter counts depend on them).
        inheritance: children start from their parent's weights (Lamarckian); False makes
            every child train from scratch, to measure what inheritance buys.
        weights: where parents' weights are kept (default: in memory).
        check: a further test of a child before training, saying what is wrong with it
            (e.g. a hard constraint on a cheap objective); such a child is not trained.
    """

    def __init__(
        self,
        *,
        morphisms: Sequence[Morphism],
        initial: Sequence[Genome],
        limits: SpaceLimits,
        input_shape: tuple[int, int, int],
        num_classes: int,
        inheritance: bool = True,
        weights: WeightStore | None = None,
        check: Callable[[Genome], str | None] | None = None,
    ) -> None:
        if not initial:
            raise ValueError("a search needs at least one initial network")
        self.morphisms = {m.name: m for m in morphisms}
        self.initial = list(initial)
        self.limits = limits
        self.input_shape = input_shape
        self.num_classes = num_classes
        self.inheritance = inheritance
        self.weights = weights or WeightStore()
        self.check = check
        self.genomes: dict[int, Genome] = {}  # every evaluated individual's genome, by id
        self.seen: set[str] = set()  # hashes evaluated or in training: never made again
        self._ids: set[int] = set()  # ids given out (or recorded): never given again
        self._trained_on: set[int] = set()  # ids trained further already (or in training)
        self._next_id = 0

    def mark_seen(self, genome: Genome) -> None:
        """``genome`` is evaluated or in training: no child is made of it again."""
        self.seen.add(genome.hash)

    def reserve(self, candidate: Candidate | None = None) -> int:
        """A new id for a child about to be trained (or failed); its architecture counts
        as seen from now on."""
        if candidate is not None:
            self.mark_seen(candidate.genome)
            if candidate.parent_id is not None and not candidate.morphisms:
                self._trained_on.add(candidate.parent_id)
        while self._next_id in self._ids:
            self._next_id += 1
        self._ids.add(self._next_id)
        return self._next_id

    def teacher(self, candidate: Candidate) -> tuple[Genome, StateDict] | None:
        """The parent's (genome, weights) a child that inherited weights may distil from."""
        if candidate.parent_id is None or candidate.state is None:
            return None
        state = self.weights.get(candidate.parent_id)
        return None if state is None else (self.genomes[candidate.parent_id], state)

    def restore(self, history: Sequence[Individual], asked_again: int | None = None) -> None:
        """A stopped run's individuals become parents again (their weights are in the run
        directory); with ``asked_again`` (the step the loop asks again), only the genomes of
        earlier steps count as seen, and ids go on from that step's first."""
        for ind in history:
            self.remember(ind.id, ind.genome, None)
            if ind.ok:
                self.weights.mark(ind.id)
        self._ids = {i.id for i in history}
        self._next_id = max(self._ids, default=-1) + 1
        done = list(history)
        if asked_again is not None:
            done = [i for i in history if i.step is not None and i.step < asked_again]
            self.seen = {i.genome.hash for i in done}
            self._next_id = asked_again
        self._trained_on = {
            i.parent_id for i in done if i.parent_id is not None and not i.morphisms
        }

    def remember(self, ident: int, genome: Genome, state: StateDict | None) -> None:
        """An evaluated individual; with ``state``, it can be a parent with its weights."""
        self.genomes[ident] = genome
        self.seen.add(genome.hash)
        if state is not None:
            self.weights.put(ident, state)

    def make_all(self, proposals: Iterable[Proposal], extra: int = 0) -> list[Candidate]:
        """New children of ``proposals``, none a duplicate of another or of one seen."""
        out: list[Candidate] = []
        hashes = set(self.seen)
        for p in proposals:
            child = self.make(p, extra, exclude=hashes)
            if child is not None:
                hashes.add(child.genome.hash)
                out.append(child)
        return out

    def make(
        self, proposal: Proposal, extra: int = 0, exclude: set[str] | None = None
    ) -> Candidate | None:
        """The child of one proposal, or None when nothing new within the limits came of it
        even with up to ``extra`` more morphisms."""
        exclude = self.seen if exclude is None else exclude
        if proposal.continues:
            return self._continued(proposal)
        if proposal.parent_id is None:
            if proposal.genome is None:
                raise ValueError("a proposal needs a parent_id or a genome")
            genome, state = proposal.genome, None
        else:
            genome = self.genomes[proposal.parent_id]
            state = self.weights.get(proposal.parent_id) if self.inheritance else None
        rng = np.random.default_rng(proposal.seed)
        records: list[MorphismRecord] = []
        approximate = False
        names = list(proposal.morphisms)
        tries = 0
        while True:
            for name in names:
                try:  # raises before drawing from rng when there is no site
                    child = self.morphisms[name].apply(genome, state, rng)
                except NotApplicable:
                    continue
                genome, state = child.genome, child.state
                records.append(child.record)
                approximate |= not self.morphisms[name].preserving
            fresh = (records or not proposal.morphisms) and genome.hash not in exclude
            problem = self.problem(genome) if fresh else None
            if fresh and problem is None:
                return Candidate(
                    genome,
                    proposal.parent_id,
                    tuple(records),
                    state,
                    approximate,
                    epochs=proposal.epochs,
                    rung=proposal.rung,
                    provisional=proposal.provisional,
                )
            if tries >= extra:
                return None
            tries += 1
            applicable = sorted(n for n, m in self.morphisms.items() if m.is_applicable(genome))
            shrinking = [n for n in applicable if self.morphisms[n].shrinks]
            if problem is not None and shrinking:  # too big: repair by shrinking
                applicable = shrinking
            if not applicable:
                return None
            names = [str(rng.choice(applicable))]

    def _continued(self, proposal: Proposal) -> Candidate | None:
        """The parent itself, to train further from its own weights (None: no weights, or
        it is trained further already)."""
        if proposal.parent_id is None:
            raise ValueError("a proposal that continues a network needs its parent_id")
        if proposal.parent_id in self._trained_on:
            return None
        state = self.weights.get(proposal.parent_id)
        if state is None:
            return None
        genome = self.genomes[proposal.parent_id]
        return Candidate(
            genome,
            proposal.parent_id,
            (),
            state,
            False,
            epochs=proposal.epochs,
            rung=proposal.rung,
            provisional=proposal.provisional,
            continues=True,
        )

    def problem(self, genome: Genome) -> str | None:
        """Which space limit ``genome`` exceeds, in words; None when it fits."""
        params = (
            count_params(genome, self.input_shape, self.num_classes)
            if self.limits.max_params is not None
            else None
        )
        problem = self.limits.problem(len(genome), max(genome.channels.values()), params)
        halvings = genome.num_stages - 1
        height, width = self.input_shape[1:]
        if problem is None and min(height, width) >> halvings < 1:
            problem = (
                f"{halvings} downsampling reduce nodes leave no pixel of a {height}x{width} input"
            )
        if problem is None and self.check is not None:
            problem = self.check(genome)
        return problem
