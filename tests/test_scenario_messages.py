"""A scenario's mistakes are named precisely: the list index and the value of a bad
objective field, the parameter and value of a plug-in given the wrong type; a UTF-8 byte
order mark (as some editors write) is no mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from evonas.scenario import ScenarioError, load_scenario, resolve

BASE = """
[budget]
evaluations = 3

[[objectives]]
name = "val_error"

[[objectives]]
name = "params"
"""


def test_a_byte_order_mark_is_read_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    assert [o.name for o in load_scenario(path).objectives] == ["val_error", "params"]


def test_a_bad_direction_names_the_objective_index_and_the_value(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(BASE.replace('name = "params"', 'name = "params"\ndirection = "up"'))
    with pytest.raises(ScenarioError, match=r"objectives\[1\]\.direction: .*got 'up'"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ('{ n_children = "many" }', "parameter n_children must be an integer, got str 'many'"),
        ("{ n_accept = 1.5 }", "parameter n_accept must be an integer, got float 1.5"),
        ('{ p_approximate = "high" }', "parameter p_approximate must be a number"),
    ],
)
def test_a_plugin_parameter_of_the_wrong_type_is_named(
    tmp_path: Path, params: str, message: str
) -> None:
    path = tmp_path / "s.toml"
    path.write_text(BASE + f'\n[strategy]\nname = "lemonade"\nparams = {params}\n')
    with pytest.raises(ScenarioError, match=message):
        resolve(load_scenario(path), str(path))


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ("{ n_train = -5 }", "data.options.n_train"),
        ("{ num_classes = 1 }", "data.options.num_classes"),
        ("{ shape = [1, 0, 8] }", "data.options.shape"),
    ],
)
def test_a_dataset_option_out_of_range_is_named(tmp_path: Path, options: str, key: str) -> None:
    from evonas.scenario import load_data

    path = tmp_path / "s.toml"
    path.write_text(BASE + f'\n[data]\ndataset = "synthetic"\noptions = {options}\n')
    with pytest.raises(ScenarioError, match=rf"^{key}: must be"):
        load_data(load_scenario(path))


def test_an_unknown_initial_sampler_is_named_with_the_valid_ones(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(BASE + '\n[space]\ninitial_sampler = "grid"\n')
    with pytest.raises(ScenarioError, match=r"space\.initial_sampler: .*'lemonade', 'chain'"):
        load_scenario(path)


def test_the_chain_sampler_starts_from_points_of_the_chain_space(tmp_path: Path) -> None:
    """``initial_sampler = "chain"``: stage widths drawn from ``initial_channels``, plain or
    separable convolutions; the default sampler's widths double per stage."""
    path = tmp_path / "s.toml"
    space = "\n[space]\ninitial = 6\ninitial_channels = [8, 24]\ninitial_sampler = "
    chain = resolve(load_scenario(_written(path, BASE + space + '"chain"\n'))).initial
    simple = resolve(load_scenario(_written(path, BASE + space + '"lemonade"\n'))).initial
    assert len(chain) == len(simple) == 6
    widths = {n.channels for g in chain for n in g.nodes if n.channels is not None}
    assert widths <= {8, 24}
    assert any(n.op == "sep_conv" for g in chain for n in g.nodes)
    assert not any(n.op == "sep_conv" for g in simple for n in g.nodes)
    assert {n.channels for g in simple for n in g.nodes if n.channels is not None} - {8, 24}


def _written(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
