"""Objectives: analytic FLOPs and parameters, latency, custom objectives by import path."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from evonas.core import RegistryError
from evonas.data import synthetic
from evonas.objectives import EvalContext, Objective, get_objective, list_objectives
from evonas.space import Genome, Node, random_genome, simple_genome
from evonas.testing.contracts import ObjectiveContract
from evonas.trainer import Trainer, TrainSettings


class TestBuiltinObjectives(ObjectiveContract):
    """The contract suite users inherit, over every registered objective this machine can
    measure (``peak_memory`` needs CUDA)."""

    @pytest.fixture(params=list_objectives())
    def objective(self, request: pytest.FixtureRequest) -> Objective:
        objective = get_objective(request.param)
        try:
            objective.check_device(torch.device("cpu"))
        except ValueError as exc:
            if not torch.cuda.is_available():
                pytest.skip(f"{request.param} needs CUDA: {exc}")
        self.deterministic = request.param != "latency"  # a measurement
        return objective


def plain_net(c1: int, c2: int, k: int) -> Genome:
    return Genome((Node("a", "conv", ("input",), c1, k), Node("b", "conv", ("a",), c2, k)), "b")


@pytest.mark.parametrize(("c1", "c2", "k", "side"), [(8, 16, 3, 12), (4, 4, 5, 9), (6, 10, 1, 7)])
def test_flops_of_plain_conv_net_match_the_formula(c1: int, c2: int, k: int, side: int) -> None:
    classes, c_in = 5, 3
    ctx = EvalContext(plain_net(c1, c2, k), (c_in, side, side), classes)
    expected = 2 * side * side * k * k * (c_in * c1 + c1 * c2) + 2 * c2 * classes
    assert get_objective("flops")(ctx) == expected


@pytest.mark.parametrize("seed", range(5))
def test_params_count_every_parameter(seed: int) -> None:
    ctx = EvalContext(random_genome(np.random.default_rng(seed)), (3, 16, 16), 7)
    assert get_objective("params")(ctx) == sum(p.numel() for p in ctx.model().parameters())


def test_latency_is_positive_cached_and_detailed() -> None:
    latency = get_objective("latency", blocks=5, block_seconds=0.002, warmup=2)
    ctx = EvalContext(simple_genome(), (1, 16, 16), 10)
    value = latency(ctx)
    assert value > 0 and math.isfinite(value)
    assert latency(EvalContext(simple_genome(), (1, 16, 16), 10)) == value  # cached per hash
    details = latency.details(ctx)
    assert details["threads"] == 1 and details["batch_size"] == 1 and details["iqr_s"] >= 0


def test_bigger_network_is_slower() -> None:
    latency = get_objective("latency", blocks=5, block_seconds=0.005, warmup=2)
    small = latency(EvalContext(simple_genome(channels=(4,)), (3, 32, 32), 10))
    big = latency(
        EvalContext(simple_genome(channels=(64, 128), convs_per_stage=3), (3, 32, 32), 10)
    )
    assert big > 2 * small


def test_cheap_and_expensive_are_declared() -> None:
    assert {n: get_objective(n).cheap for n in ("val_error", "params", "flops", "latency")} == {
        "val_error": False,
        "params": True,
        "flops": True,
        "latency": True,
    }


def test_custom_objectives_by_import_path() -> None:
    data = synthetic(n_train=64, shape=(1, 8, 8))
    result = Trainer(data, TrainSettings(scratch_epochs=1, batch_size=16), device="cpu").train(
        simple_genome(channels=(4,)), seed=0
    )
    ctx = EvalContext(
        simple_genome(channels=(4,)), (1, 8, 8), data.num_classes, result.state, result
    )
    conv_count = get_objective("tests.plugins.user_objectives:conv_count")
    assert conv_count.cheap and conv_count(ctx) == 2.0
    depth = get_objective("tests.plugins.user_objectives:plain_depth", direction="max")
    assert depth.name == "plain_depth" and depth.direction == "max" and not depth.cheap
    assert depth(ctx) == 6.0
    penalty = get_objective("tests.plugins.user_objectives:LatencyBudgetPenalty", budget_flops=0.0)
    assert penalty(ctx) > result.val_error


def test_bad_objective_references_are_explained() -> None:
    with pytest.raises(RegistryError, match="did you mean 'flops'"):
        get_objective("flop")
    with pytest.raises(RegistryError, match="has no attribute 'nope'"):
        get_objective("tests.plugins.user_objectives:nope")
    with pytest.raises(ValueError, match="direction 'up' must be one of"):
        get_objective("params", direction="up")


def test_peak_memory_needs_cuda() -> None:
    with pytest.raises(ValueError, match="CUDA only"):
        get_objective("peak_memory").check_device(torch.device("cpu"))


class TestEnergyFromTheReadme(ObjectiveContract):
    """The README's custom objective, by import path, through the suite users inherit."""

    @pytest.fixture
    def objective(self) -> Objective:
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scenarios"))
        try:
            return get_objective("energy:inference_energy")
        finally:
            sys.path.pop(0)
