"""Every registered morphism meets the shared contract (the suite users inherit) on random
genomes; every site of the function-preserving ones keeps the function.

The contract (evonas.testing.check_morphism): valid child, strict state load, finite forward,
a gradient for every parameter, same seed -> same child, function preserved (preserving ones)
or a finite reported deviation (approximate ones).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from evonas.core import RegistryError
from evonas.model import build_model, calibrate_batchnorm
from evonas.morphism import (
    MORPHISMS,
    Child,
    Morphism,
    MorphismRecord,
    NotApplicable,
    get_morphism,
    list_morphisms,
    register_morphism,
)
from evonas.morphism.preserving import normalised_tensors
from evonas.space import Genome, Node, random_genome, simple_genome
from evonas.testing import (
    check_morphism,
    logits,
    relative_change,
    train_logits,
    trained_looking_state,
)
from evonas.testing.contracts import MorphismContract


def n_params(genome: Genome) -> int:
    return sum(p.numel() for p in build_model(genome, (1, 16, 16), 5).parameters())


class TestBuiltinMorphisms(MorphismContract):
    """The contract suite users inherit, over every registered morphism."""

    @pytest.fixture(params=list_morphisms())
    def morphism(self, request: pytest.FixtureRequest) -> Morphism:
        return get_morphism(request.param)


@pytest.mark.parametrize("name", list_morphisms(preserving=True))
def test_preserving_at_every_site(name: str) -> None:
    """Not one lucky site: every site of a few genomes keeps the function."""
    morphism = get_morphism(name)
    for seed in range(4):
        rng = np.random.default_rng(100 + seed)
        genome = random_genome(rng)
        state = trained_looking_state(genome, (3, 12, 12), 4, rng)
        x = torch.randn(3, 3, 12, 12, generator=torch.Generator().manual_seed(seed))
        ref = logits(genome, state, x)
        for site in morphism.sites(genome):
            child = morphism.apply_at(genome, state, site, rng)
            assert (logits(child.genome, child.state, x) - ref).abs().max() <= 1e-5, site


@pytest.mark.parametrize("name", list_morphisms(preserving=True))
def test_preserving_in_train_mode_at_every_site(name: str) -> None:
    """Fine-tuning runs in train mode (batch statistics): after the trainer's calibration
    on the first batch, every site keeps the train-mode logits too."""
    morphism = get_morphism(name)
    for seed in range(3):
        rng = np.random.default_rng(200 + seed)
        genome = random_genome(rng)
        state = trained_looking_state(genome, (3, 12, 12), 4, rng)
        x = torch.randn(8, 3, 12, 12, generator=torch.Generator().manual_seed(seed))
        ref = train_logits(genome, state, x)
        for site in morphism.sites(genome):
            child = morphism.apply_at(genome, state, site, rng)
            out = train_logits(
                child.genome, child.state, x, child.record.details.get("calibrate", ())
            )
            assert relative_change(ref, out) <= 1e-4, site


def test_uncalibrated_deepen_moves_train_mode_logits() -> None:
    """The calibration is what makes deepen the identity in train mode (the reference
    the test above relies on is not vacuous)."""
    rng = np.random.default_rng(5)
    genome = simple_genome()
    state = trained_looking_state(genome, (1, 8, 8), 3, rng)
    x = torch.randn(16, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    child = get_morphism("deepen").apply_at(genome, state, ("n2",), rng)
    ref = train_logits(genome, state, x)
    assert relative_change(ref, train_logits(child.genome, child.state, x)) > 1e-2
    calibrated = train_logits(child.genome, child.state, x, child.record.details["calibrate"])
    assert relative_change(ref, calibrated) <= 1e-5
    # the eval-mode identity holds after calibration as well
    model = build_model(child.genome, (1, 8, 8), 3, child.state)
    calibrate_batchnorm(model, x, child.record.details["calibrate"])
    with torch.no_grad():
        assert (model.eval()(x) - logits(genome, state, x)).abs().max() <= 1e-5


def n_flops(genome: Genome) -> int:
    with FlopCounterMode(display=False) as counter:
        build_model(genome, (1, 16, 16), 5).eval()(torch.zeros(1, 1, 16, 16))
    return int(counter.get_total_flops())


@pytest.mark.parametrize("name", [n for n in list_morphisms() if MORPHISMS.get(n).shrinks])
def test_shrinking_morphisms_always_shrink(name: str) -> None:
    """An approximate morphism changes the function; a shrinking one must buy a smaller
    network: fewer parameters, or as many and fewer FLOPs."""
    morphism = get_morphism(name)
    checked = 0
    for seed in range(12):
        rng = np.random.default_rng(300 + seed)
        genome = random_genome(rng)
        for site in morphism.sites(genome):
            child = morphism.apply_at(genome, None, site, rng)
            before, after = n_params(genome), n_params(child.genome)
            assert after < before or (
                after == before and n_flops(child.genome) < n_flops(genome)
            ), (site, genome.summary())
            checked += 1
    assert checked > 0


def test_only_remove_reduce_is_approximate_and_not_shrinking() -> None:
    """Every built-in approximate morphism but ``remove_reduce`` shrinks; that one trades
    FLOPs for accuracy: same parameters, more FLOPs."""
    builtin = [
        n
        for n in list_morphisms(preserving=False)
        if MORPHISMS.get(n).__module__.startswith("evonas.")
    ]
    assert [n for n in builtin if not MORPHISMS.get(n).shrinks] == ["remove_reduce"]
    genome = simple_genome(channels=(4, 8, 8))
    for site in get_morphism("remove_reduce").sites(genome):
        child = get_morphism("remove_reduce").apply_at(genome, None, site, np.random.default_rng(0))
        assert n_params(child.genome) == n_params(genome)
        assert n_flops(child.genome) > n_flops(genome)
        assert child.genome.num_stages == genome.num_stages - 1


def test_skips_read_only_normalised_tensors() -> None:
    """A skip from a raw convolution output diverged at the default learning rate; every
    add_skip source is a BN output or made only from BN outputs."""
    for seed in range(10):
        genome = random_genome(np.random.default_rng(400 + seed))
        normalised = normalised_tensors(genome)
        for _, u, _ in get_morphism("add_skip").sites(genome):
            assert u in normalised
            assert genome[u].op not in ("conv", "sep_conv")
    chain = simple_genome(convs_per_stage=2)
    sources = {u for _, u, _ in get_morphism("add_skip").sites(chain)}
    assert sources and all(chain[u].op in ("bn", "relu", "reduce") for u in sources)


@pytest.mark.parametrize("name", list_morphisms())
def test_different_seeds_give_different_children(name: str) -> None:
    morphism = get_morphism(name)
    genome = max(
        (random_genome(np.random.default_rng(s)) for s in range(40)),
        key=lambda g: len(morphism.sites(g)),
    )
    assert len(morphism.sites(genome)) >= 2
    state = trained_looking_state(genome, (1, 16, 16), 5, np.random.default_rng(0))
    outcomes = set()
    for seed in range(8):
        child = morphism.apply(genome, state, np.random.default_rng(seed))
        outcomes.add((child.genome.hash, float(sum(v.float().sum() for v in child.state.values()))))
    assert len(outcomes) > 1


def test_parent_state_is_not_modified() -> None:
    genome = random_genome(np.random.default_rng(1))
    state = trained_looking_state(genome, (1, 16, 16), 5, np.random.default_rng(1))
    before = {k: v.clone() for k, v in state.items()}
    for name in list_morphisms():
        morphism = get_morphism(name)
        if morphism.is_applicable(genome):
            morphism.apply(genome, state, np.random.default_rng(0))
    assert state.keys() == before.keys()
    assert all(torch.equal(state[k], before[k]) for k in state)


def test_widen_is_net2wider() -> None:
    """Widening n3 of a plain chain copies filters and splits the readers' weights."""
    genome = simple_genome(channels=(6, 8))
    state = trained_looking_state(genome, (1, 8, 8), 3, np.random.default_rng(0))
    site = next(s for s in get_morphism("widen").sites(genome) if s == ("n3",))
    child = get_morphism("widen", noise=0.0).apply_at(genome, state, site, np.random.default_rng(0))
    w = child.state["nodes.n3.weight"]
    assert child.genome["n3"].channels == w.shape[0] > 6
    assert torch.equal(w[:6], state["nodes.n3.weight"])
    reader = child.state["nodes.n7.weight"]  # conv after the reduce reads n3's group
    assert reader.shape[1] == w.shape[0]
    assert torch.allclose(reader.sum(dim=1), state["nodes.n7.weight"].sum(dim=1), atol=1e-6)


def test_deepen_inserts_identity_conv_bn_relu() -> None:
    genome = simple_genome()
    state = trained_looking_state(genome, (1, 8, 8), 3, np.random.default_rng(0))
    child = get_morphism("deepen").apply_at(genome, state, ("n2",), np.random.default_rng(0))
    new = child.record.details["new_nodes"]
    assert [child.genome[i].op for i in new] == ["conv", "bn", "relu"]
    assert child.genome["n3"].inputs == (new[2],)
    assert len(child.genome) == len(genome) + 3


def test_deepen_separable_adds_depth_at_separable_cost() -> None:
    """An identity separable layer: c k^2 + c^2 weights (and BN's 2c), not conv's c^2 k^2."""
    genome = simple_genome(channels=(16,))
    state = trained_looking_state(genome, (1, 8, 8), 3, np.random.default_rng(0))
    morphism = get_morphism("deepen_separable", kernels=(5,))
    child = morphism.apply_at(genome, state, ("n2",), np.random.default_rng(0))
    new = child.record.details["new_nodes"]
    assert [child.genome[i].op for i in new] == ["sep_conv", "bn", "relu"]
    assert child.genome[new[0]].kernel == 5
    assert n_params(child.genome) - n_params(genome) == 16 * 25 + 16 * 16 + 2 * 16
    x = torch.randn(2, 1, 8, 8)
    assert (logits(child.genome, child.state, x) - logits(genome, state, x)).abs().max() < 1e-5


def test_separable_is_exact_for_rank_one_kernels() -> None:
    genome = simple_genome(channels=(4,))
    state = trained_looking_state(genome, (1, 8, 8), 3, np.random.default_rng(0))
    w = state["nodes.n3.weight"]
    p, d = torch.randn(w.shape[0], w.shape[1]), torch.randn(w.shape[1], 9)
    state["nodes.n3.weight"] = (p[:, :, None] * d[None]).reshape(w.shape)
    child = get_morphism("separable").apply_at(genome, state, ("n3",), np.random.default_rng(0))
    x = torch.randn(2, 1, 8, 8)
    assert (logits(child.genome, child.state, x) - logits(genome, state, x)).abs().max() < 1e-4


def test_prune_keeps_the_largest_filters() -> None:
    genome = simple_genome(channels=(8,))
    state = trained_looking_state(genome, (1, 8, 8), 3, np.random.default_rng(0))
    scale = torch.arange(1, 9, dtype=torch.float32).view(8, 1, 1, 1)
    state["nodes.n3.weight"] = state["nodes.n3.weight"].sign() * scale
    child = get_morphism("prune_filters", fractions=(0.5,)).apply_at(
        genome, state, ("n3",), np.random.default_rng(0)
    )
    kept = child.state["nodes.n3.weight"].abs().flatten(1).amax(dim=1)
    assert kept.tolist() == [5.0, 6.0, 7.0, 8.0]
    assert child.state["head.weight"].shape[1] == 4


def test_not_applicable_is_explicit() -> None:
    genome = Genome((simple_genome().nodes[0],), "n0")  # a single conv: nothing to remove
    with pytest.raises(NotApplicable, match="remove_skip"):
        get_morphism("remove_skip").apply(genome, {}, np.random.default_rng(0))


def test_user_morphism_registers_and_resolves() -> None:
    class Identity(Morphism):
        preserving = True

        def sites(self, genome: Genome) -> list[tuple[str, ...]]:
            return [(genome.output,)]

        def apply_at(self, genome, state, site, rng):  # type: ignore[no-untyped-def]
            return Child(
                genome, None if state is None else dict(state), MorphismRecord(self.name, site)
            )

    register_morphism("identity_for_test")(Identity)
    try:
        assert "identity_for_test" in list_morphisms()
        check_morphism(get_morphism("identity_for_test"), simple_genome(), 0)
        path = get_morphism("evonas.morphism.preserving:Deepen")
        assert path.name == "deepen"
    finally:
        MORPHISMS.unregister("identity_for_test")


def test_unknown_morphism_suggests_a_name() -> None:
    with pytest.raises(
        RegistryError, match="unknown morphism 'widn' \\(did you mean 'widen'\\?\\)"
    ):
        get_morphism("widn")


def test_remove_skip_never_leaves_a_raw_projection_as_the_only_path() -> None:
    """Seen in a search: ``add(bn, conv1x1(bn))`` (an add_skip), then dropping the main
    input left the raw 1x1 projection alone before the ReLU; its children fine-tuned to
    chance level or NaN. Dropping the projection stays possible."""
    nodes = (
        Node("n0", "conv", ("input",), 8, 3),
        Node("n1", "bn", ("n0",)),
        Node("n2", "relu", ("n1",)),
        Node("n6", "conv", ("n2",), 8, 1),
        Node("n7", "bn", ("n6",)),
        Node("n8", "relu", ("n7",)),
        Node("n3", "conv", ("n8",), 8, 5),
        Node("n4", "bn", ("n3",)),
        Node("n9", "conv", ("n1",), 8, 1),
        Node("n10", "add", ("n4", "n9")),
        Node("n5", "relu", ("n10",)),
    )
    sites = get_morphism("remove_skip").sites(Genome(nodes, "n5"))
    assert ("n10", "1") in sites and ("n10", "0") not in sites
    for seed in range(10):
        genome = random_genome(np.random.default_rng(500 + seed))
        normalised = normalised_tensors(genome)
        for merge, k in get_morphism("remove_skip").sites(genome):
            rest = [i for j, i in enumerate(genome[merge].inputs) if j != int(k)]
            assert len(rest) > 1 or rest[0] in normalised


def test_add_skip_branch_is_normalised_and_removable() -> None:
    """Replayed from a search record: ``relu(bn(conv)) + conv1x1(bn)`` straight before the
    head diverged at lr 0.2 in 7 of 8 seeds (the raw projection's effective step grows with
    the head's weights). The branch is ``BN(conv1x1(u))`` with BN scale 0: it is
    normalised, adds exactly 0 in train mode, and remove_skip undoes it."""
    morph = get_morphism("add_skip", modes=("add",))
    for seed, genome in enumerate([simple_genome(convs_per_stage=2), simple_genome((8, 16, 32))]):
        state = trained_looking_state(genome, (1, 16, 16), 5, np.random.default_rng(seed))
        assert len(morph.sites(genome)) > 3
        for site in morph.sites(genome):
            child = morph.apply_at(genome, state, site, np.random.default_rng(seed))
            proj, bn, add = child.record.details["new_nodes"]
            assert child.genome[bn].op == "bn" and child.genome[bn].inputs == (proj,)
            assert child.genome[add].inputs[1] == bn
            assert child.state is not None
            assert torch.count_nonzero(child.state[f"nodes.{bn}.weight"]) == 0
            assert torch.count_nonzero(child.state[f"nodes.{proj}.weight"]) > 0
            undo = [s for s in get_morphism("remove_skip").sites(child.genome) if s[0] == add]
            assert (add, "1") in undo
            back = get_morphism("remove_skip").apply_at(
                child.genome, child.state, (add, "1"), np.random.default_rng(0)
            )
            assert n_params(back.genome) == n_params(genome)
