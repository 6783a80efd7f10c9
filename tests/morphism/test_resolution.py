"""Resolution morphisms: a run can change where its network downsamples, keeping every
weight; the child factory refuses a schedule that leaves no pixel."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from evonas.core import SpaceLimits
from evonas.core.individual import Proposal
from evonas.engine.children import ChildFactory
from evonas.model import build_model
from evonas.morphism import MORPHISMS, default_morphisms, get_morphism
from evonas.scenario.build import resolve
from evonas.scenario.schema import MorphismConfig, Scenario
from evonas.space import Genome, Node, random_genome, simple_genome
from evonas.testing import trained_looking_state


def test_add_reduce_sites_cut_their_stage() -> None:
    """In a chain every tensor cuts the network; inside a residual block nothing does (the
    shortcut reads past it)."""
    chain = simple_genome(channels=(8, 16), convs_per_stage=2)
    sites = {s for (s,) in get_morphism("add_reduce").sites(chain)}
    # n0..n2 stem, n3..n8 two blocks, n9 reduce, n10..n15 two blocks: a reduce can follow
    # any node with a conv after it (the later reduce then ends the next stage), except the
    # one right before a reduce (n8: no empty stage) and the reduce itself
    assert sites == {f"n{i}" for i in (*range(8), 10, 11, 12)}
    residual = Genome(
        (
            *simple_genome(channels=(8,)).nodes,  # n0..n5
            Node("n6", "add", ("n2", "n5")),
            Node("n7", "conv", ("n6",), 8, 3),
        ),
        "n7",
    )
    sites = {s for (s,) in get_morphism("add_reduce").sites(residual)}
    assert sites == {"n0", "n1", "n2", "n6"}  # not n3..n5: n6 also reads n2


def test_add_reduce_keeps_every_weight_and_quarters_later_activations() -> None:
    genome = simple_genome(channels=(8,), convs_per_stage=2)
    state = trained_looking_state(genome, (1, 16, 16), 5, np.random.default_rng(0))
    child = get_morphism("add_reduce").apply_at(genome, state, ("n5",), np.random.default_rng(0))
    assert child.state is not None and child.state.keys() == state.keys()
    assert all(torch.equal(child.state[k], state[k]) for k in state)
    assert child.genome.num_stages == 2
    model = build_model(child.genome, (1, 16, 16), 5, child.state)  # strict load
    seen: dict[str, tuple[int, ...]] = {}
    for name in ("n5", "n6"):
        model.nodes[name].register_forward_hook(
            lambda _m, _i, out, name=name: seen.__setitem__(name, tuple(out.shape))
        )
    model.eval()(torch.zeros(1, 1, 16, 16))
    assert seen == {"n5": (1, 8, 16, 16), "n6": (1, 8, 8, 8)}


@pytest.mark.parametrize("seed", range(8))
def test_remove_reduce_undoes_add_reduce(seed: int) -> None:
    rng = np.random.default_rng(seed)
    genome = random_genome(rng)
    add, remove = get_morphism("add_reduce"), get_morphism("remove_reduce")
    for site in add.sites(genome):
        child = add.apply_at(genome, None, site, rng)
        new = next(n.id for n in child.genome.nodes if n.id not in genome)
        back = remove.apply_at(child.genome, None, (new,), rng)
        assert back.genome.hash == genome.hash


def test_add_reduce_respects_max_stages() -> None:
    genome = simple_genome(channels=(4, 4, 4))
    assert get_morphism("add_reduce", max_stages=3).sites(genome) == []
    assert get_morphism("add_reduce", max_stages=4).sites(genome)
    with pytest.raises(ValueError, match="max_stages"):
        get_morphism("add_reduce", max_stages=1)


def test_child_factory_refuses_a_schedule_with_no_pixel_left() -> None:
    """Three halvings of 8x8 leave 1x1; a fourth leaves nothing: that child is not made."""
    genome = simple_genome(channels=(4, 4, 4, 4))
    factory = ChildFactory(
        morphisms=[get_morphism("add_reduce")],
        initial=[genome],
        limits=SpaceLimits(),
        input_shape=(1, 8, 8),
        num_classes=3,
    )
    assert factory.problem(genome) is None
    deeper = get_morphism("add_reduce").apply(genome, None, np.random.default_rng(0)).genome
    assert factory.problem(deeper) == "4 downsampling reduce nodes leave no pixel of a 8x8 input"
    factory.remember(0, genome, None)
    assert factory.make(Proposal(0, None, ("add_reduce",), 0)) is None


def test_opt_in_morphisms_are_used_only_where_a_scenario_names_them() -> None:
    opt_in = {"remove_reduce", "deepen_separable"}
    assert set(default_morphisms()) == set(MORPHISMS.names()) - opt_in
    base = Scenario(name="t")
    assert [m.name for m in resolve(base).morphisms] == default_morphisms()
    named = replace(base, morphisms=MorphismConfig(enabled=("remove_reduce", "widen")))
    assert [m.name for m in resolve(named).morphisms] == ["remove_reduce", "widen"]
