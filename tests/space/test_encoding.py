"""The chain encoding: every point decodes to a valid genome with the widths, kernels,
blocks and skips it names; unused stages are ignored; bad values name the parameter."""

from __future__ import annotations

import numpy as np
import pytest

from evonas.model import count_params
from evonas.space.encoding import ChainEncoding

ENC = ChainEncoding()


def random_point(seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    return ENC.sample(lambda name, options: options[int(rng.integers(len(options)))])


@pytest.mark.parametrize("seed", range(40))
def test_every_point_decodes_to_the_network_it_names(seed: int) -> None:
    point = random_point(seed)
    genome = ENC.decode(point)
    stages = int(point["stages"])  # type: ignore[call-overload]
    assert genome.num_stages == stages
    convs = [n for n in genome.nodes if n.op in ("conv", "sep_conv")]
    assert len(convs) == 1 + sum(int(point[f"convs_{s}"]) for s in range(stages))  # type: ignore[call-overload]
    assert count_params(genome, (1, 28, 28), 10) > 0
    for s in range(stages):
        kind = "sep_conv" if point[f"separable_{s}"] else "conv"
        assert any(n.op == kind and n.channels == point[f"width_{s}"] for n in convs)
    # a residual on every block of a skip stage whose input already has the stage's width
    expected = 0
    for s in range(stages):
        if point[f"skip_{s}"]:
            same = s == 0 or point[f"width_{s - 1}"] == point[f"width_{s}"]
            expected += int(point[f"convs_{s}"]) - (0 if same else 1)  # type: ignore[call-overload]
    assert sum(n.op == "add" for n in genome.nodes) == expected


def test_parameters_of_unused_stages_change_nothing() -> None:
    point = {**random_point(0), "stages": 1}
    other = {**point, "width_2": 64 if point["width_2"] != 64 else 8, "convs_1": 3}
    assert ENC.decode(point).hash == ENC.decode(other).hash


def test_a_value_outside_its_choices_names_the_parameter() -> None:
    with pytest.raises(ValueError, match="width_0 = 7"):
        ENC.decode({**random_point(1), "width_0": 7})
    with pytest.raises(ValueError, match="missing parameter 'stages'"):
        ENC.decode({k: v for k, v in random_point(1).items() if k != "stages"})


def test_the_space_is_fixed_length() -> None:
    assert len(ENC.parameters()) == 1 + 5 * ENC.max_stages
    assert list(random_point(3)) == list(ENC.parameters())
