"""Drive a strategy without the search loop, against a plain child maker and a known
scoring function, so a strategy's contract can be checked in milliseconds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from evonas.core.individual import Candidate, Individual, Proposal, Status, TrainFacts
from evonas.core.pareto import ObjectiveInfo
from evonas.model.builder import count_params
from evonas.morphism.base import MORPHISMS, Morphism, NotApplicable
from evonas.space.genome import Genome
from evonas.space.sampler import initial_genomes
from evonas.strategy.base import Strategy, StrategyContext
from evonas.testing.surrogate import surrogate_error

SHAPE, CLASSES = (1, 28, 28), 10
OBJECTIVES = [
    ObjectiveInfo("val_error"),
    ObjectiveInfo("params", cheap=True, bounds=(1e3, 1e8), log_scale=True),
]


def context(seed: int, morphisms: Sequence[Morphism] | None = None) -> StrategyContext:
    """Two objectives (error, cheap params), every registered morphism, 3 initial networks."""
    ms = list(morphisms) if morphisms is not None else [MORPHISMS.create(n) for n in MORPHISMS]
    initial = initial_genomes(np.random.default_rng(seed), 3)
    return StrategyContext(list(OBJECTIVES), {m.name: m for m in ms}, initial, seed)


def make_child(
    proposal: Proposal, genomes: dict[int, Genome], morphisms: dict[str, Morphism]
) -> Candidate | None:
    """The proposal's child, architecture only (no weights), with its cheap objective."""
    if proposal.parent_id is None:
        assert proposal.genome is not None, "a proposal without a parent needs a genome"
        genome = proposal.genome
    else:
        genome = genomes[proposal.parent_id]
    rng = np.random.default_rng(proposal.seed)
    records = []
    for name in proposal.morphisms:
        try:
            child = morphisms[name].apply(genome, None, rng)
        except NotApplicable:
            continue
        genome = child.genome
        records.append(child.record)
    if proposal.morphisms and not records:
        return None
    cheap = {"params": float(count_params(genome, SHAPE, CLASSES))}
    return Candidate(genome, proposal.parent_id, tuple(records), None, False, cheap)


@dataclass
class Drive:
    """What happened in a driven run: every ask's proposals and every individual told."""

    proposals: list[list[Proposal]] = field(default_factory=list)
    history: list[Individual] = field(default_factory=list)


def drive(
    strategy: Strategy,
    seed: int,
    steps: int,
    *,
    fails: Callable[[int], bool] = lambda ident: ident % 7 == 6,
) -> Drive:
    """Runs ``steps`` ask/accept/tell rounds; individuals whose id ``fails`` are told as
    failed. Scores are the surrogate's error and the parameter count."""
    ctx = context(seed)
    strategy.setup(ctx)
    out = Drive()
    genomes: dict[int, Genome] = {}
    for _ in range(steps):
        proposals = strategy.ask(2)
        out.proposals.append(proposals)
        made = [make_child(p, genomes, ctx.morphisms) for p in proposals]
        accepted = strategy.accept([c for c in made if c is not None])
        told: list[Individual] = []
        for c in accepted:
            ident = len(out.history) + len(told)
            genomes[ident] = c.genome
            told.append(_individual(ident, c, strategy.step, fails(ident)))
        if strategy.asynchronous:
            for ind in told:
                strategy.tell([ind])
        else:
            strategy.tell(told)
        out.history.extend(told)
    return out


def _individual(ident: int, c: Candidate, step: int, failed: bool) -> Individual:
    error = float("nan") if failed else surrogate_error(c.genome)
    return Individual(
        id=ident,
        genome=c.genome,
        parent_id=c.parent_id,
        morphisms=c.morphisms,
        objectives={"val_error": error, "params": c.cheap["params"]},
        status=Status.ERROR if failed else Status.OK,
        error="failed on purpose" if failed else None,
        train=TrainFacts(),
        step=step,
    )
