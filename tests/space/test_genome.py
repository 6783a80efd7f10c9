"""The genome as a user meets it: JSON round trip, canonical hash, clear errors, building."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from evonas.model import build_model
from evonas.space import (
    Genome,
    GenomeError,
    Node,
    chain_genomes,
    initial_genomes,
    random_genome,
    simple_genome,
)

SEEDS = range(25)


def relabel(genome: Genome, rng: np.random.Generator) -> Genome:
    """Same network, other node ids, nodes listed in a shuffled order."""
    ids = [n.id for n in genome.nodes]
    new_ids = {old: f"x{v}" for old, v in zip(ids, rng.permutation(len(ids)), strict=True)}
    nodes = [
        Node(new_ids[n.id], n.op, tuple(new_ids.get(i, i) for i in n.inputs), n.channels, n.kernel)
        for n in genome.nodes
    ]
    order = rng.permutation(len(nodes))
    return Genome(tuple(nodes[i] for i in order), new_ids[genome.output])


@pytest.mark.parametrize("seed", SEEDS)
def test_json_round_trip_is_exact(seed: int) -> None:
    g = random_genome(np.random.default_rng(seed))
    back = Genome.from_json(g.to_json())
    assert back == g
    assert back.to_dict() == g.to_dict()
    assert back.hash == g.hash


@pytest.mark.parametrize("seed", SEEDS)
def test_hash_ignores_ids_and_listing_order(seed: int) -> None:
    g = random_genome(np.random.default_rng(seed))
    other = relabel(g, np.random.default_rng(seed + 1000))
    assert other.hash == g.hash
    assert other != g  # different ids: a different description of the same network


def test_hash_is_stable_across_versions() -> None:
    # A seeded reference: if this changes, stored run records no longer deduplicate.
    assert simple_genome().hash[:16] == SIMPLE_HASH


SIMPLE_HASH = "3470788c4a9134d4"  # recorded when the genome format was fixed


def test_hash_sees_every_architectural_change() -> None:
    g = simple_genome()
    variants = [
        Genome(
            tuple(
                Node(n.id, n.op, n.inputs, n.channels, 5 if n.id == "n3" else n.kernel)
                for n in g.nodes
            ),
            g.output,
        ),
        Genome(
            tuple(
                Node(n.id, n.op, n.inputs, 20 if n.id == "n3" else n.channels, n.kernel)
                for n in g.nodes
            ),
            g.output,
        ),
        Genome(
            tuple(
                Node(n.id, "sep_conv" if n.id == "n3" else n.op, n.inputs, n.channels, n.kernel)
                for n in g.nodes
            ),
            g.output,
        ),
    ]
    assert len({g.hash, *(v.hash for v in variants)}) == 4


def test_add_commutes_concat_does_not() -> None:
    def net(merge: str, order: tuple[str, str]) -> Genome:
        return Genome(
            (
                Node("a", "conv", ("input",), 8, 3),
                Node("b", "conv", ("a",), 8, 3),
                Node("m", merge, order),
            ),
            "m",
        )

    assert net("add", ("a", "b")).hash == net("add", ("b", "a")).hash
    assert net("concat", ("a", "b")).hash != net("concat", ("b", "a")).hash


@pytest.mark.parametrize(
    ("nodes", "output", "message"),
    [
        ([Node("a", "conv9", ("input",))], "a", "node 'a': unknown op 'conv9'; valid ops"),
        (
            [Node("a", "conv", ("input",), 8, 3), Node("b", "relu", ("zz",))],
            "b",
            "node 'b': input 'zz' does not exist (dangling edge)",
        ),
        (
            [
                Node("a", "conv", ("input",), 8, 3),
                Node("b", "conv", ("a",), 4, 3),
                Node("c", "add", ("a", "b")),
            ],
            "c",
            "node 'c' (add): inputs have different channels (a=8, b=4)",
        ),
        (
            [
                Node("a", "conv", ("input",), 8, 3),
                Node("b", "relu", ("c",)),
                Node("c", "bn", ("b",)),
                Node("d", "add", ("a", "c")),
            ],
            "d",
            "nodes b -> c -> b form a cycle",
        ),
        (
            [
                Node("a", "conv", ("input",), 8, 3),
                Node("b", "relu", ("a",)),
                Node("c", "bn", ("a",)),
            ],
            "c",
            "node 'b' does not reach the output 'c' (dead node)",
        ),
        ([Node("a", "conv", ("input",), 8, 4)], "a", "node 'a' (conv): kernel 4 is not one of"),
        ([Node("a", "relu", ("input",))], "a", "node 'a' (relu) reads 'input'"),
        (
            [
                Node("a", "conv", ("input",), 8, 3),
                Node("r", "reduce", ("a",)),
                Node("c", "add", ("a", "r")),
            ],
            "c",
            "inputs come from different stages",
        ),
        ([Node("a", "conv", ("input",), 8, 3)], "b", "output 'b' is not a node"),
    ],
)
def test_malformed_genome_error_names_the_node(
    nodes: list[Node], output: str, message: str
) -> None:
    with pytest.raises(GenomeError) as err:
        Genome(tuple(nodes), output)
    assert message in str(err.value)


def test_from_dict_rejects_bad_fields_by_name() -> None:
    good = simple_genome().to_dict()
    bad = json.loads(json.dumps(good))
    bad["nodes"][3]["kernal"] = 3
    with pytest.raises(GenomeError, match=r"genome node 'n3': unknown key\(s\) \['kernal'\]"):
        Genome.from_dict(bad)
    bad = json.loads(json.dumps(good))
    bad["nodes"][0]["channels"] = "16"
    with pytest.raises(GenomeError, match="genome node 'n0': key 'channels' must be an integer"):
        Genome.from_dict(bad)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
@pytest.mark.parametrize("seed", range(6))
def test_same_genome_builds_for_different_inputs(shape: tuple[int, int, int], seed: int) -> None:
    g = random_genome(np.random.default_rng(seed))
    model = build_model(g, shape, num_classes=7)
    out = model(torch.randn(2, *shape))
    assert out.shape == (2, 7)
    assert torch.isfinite(out).all()


def test_too_many_stages_for_the_input_is_reported() -> None:
    g = simple_genome(channels=(4, 4, 4, 4, 4, 4))
    with pytest.raises(ValueError, match="has 6 stages; an input of 8x8 allows at most 4"):
        build_model(g, (1, 8, 8), 10)


def test_summary_shows_stages_and_head() -> None:
    text = simple_genome().summary()
    assert "stage 0 (1/1 resolution)" in text and "stage 1 (1/2 resolution)" in text
    assert "conv 3x3 -> 32" in text and "head: global average pool -> linear  <- n9" in text


def test_samplers_are_seeded() -> None:
    a = [g.hash for g in initial_genomes(np.random.default_rng(3), 5)]
    b = [g.hash for g in initial_genomes(np.random.default_rng(3), 5)]
    c = [g.hash for g in initial_genomes(np.random.default_rng(4), 5)]
    assert a == b and a != c
    assert len(set(a)) == 5  # distinct networks
    assert (
        random_genome(np.random.default_rng(9)).hash == random_genome(np.random.default_rng(9)).hash
    )
    assert (
        random_genome(np.random.default_rng(9)).hash != random_genome(np.random.default_rng(8)).hash
    )


def test_initial_networks_over_max_params_are_redrawn() -> None:
    """The library's default widths reach 128 channels at three stages, over 200k weights
    on some seeds: those networks are redrawn, not reported as an error of the scenario;
    seeds whose draws all fit get the same networks as without the limit."""
    limit = 200_000
    redrawn = 0
    for seed in SEEDS:
        free = initial_genomes(np.random.default_rng(seed), 5, base_channels=(8, 16, 32))
        kept = initial_genomes(
            np.random.default_rng(seed), 5, base_channels=(8, 16, 32), max_params=limit
        )
        assert all(g.layer_params(1) <= limit for g in kept) and len(kept) == 5
        if all(g.layer_params(1) <= limit for g in free):
            assert [g.hash for g in kept] == [g.hash for g in free]
        else:
            redrawn += 1
    assert redrawn > 0  # the limit was met on some seeds, so the test exercised it
    with pytest.raises(ValueError, match="within max_params = 100"):
        initial_genomes(np.random.default_rng(0), 5, max_params=100)


def test_layer_params_add_up_to_the_model_with_its_classifier() -> None:
    for seed in SEEDS:
        genome = random_genome(np.random.default_rng(seed))
        model = build_model(genome, (3, 12, 12), 7)
        head = genome.channels[genome.output] * 7 + 7
        assert genome.layer_params(3) + head == sum(p.numel() for p in model.parameters())


def test_chain_samples_are_seeded_distinct_and_within_the_limits() -> None:
    widths = (8, 16, 48)
    for seed in SEEDS:
        a = chain_genomes(np.random.default_rng(seed), 5, stages=(2, 3), widths=widths)
        b = chain_genomes(np.random.default_rng(seed), 5, stages=(2, 3), widths=widths)
        assert [g.hash for g in a] == [g.hash for g in b] and len({g.hash for g in a}) == 5
        assert all(2 <= g.num_stages <= 3 for g in a)
        assert all(n.channels in widths for g in a for n in g.nodes if n.channels is not None)
        small = chain_genomes(np.random.default_rng(seed), 5, widths=widths, max_params=20_000)
        assert all(g.layer_params(1) <= 20_000 for g in small)
