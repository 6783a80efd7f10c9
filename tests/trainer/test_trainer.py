"""The trainer: learns, is reproducible, inherits, distils, and survives divergence."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from evonas.data import synthetic
from evonas.morphism import get_morphism
from evonas.space import simple_genome
from evonas.trainer import Trainer, TrainSettings
from evonas.trainer.trainer import _schedule

DATA = synthetic(n_train=384, n_test=64, shape=(1, 10, 10), num_classes=4, seed=0)
GENOME = simple_genome(channels=(8, 12))


def trainer(epochs: float = 4.0, **kw: object) -> Trainer:
    cfg = {"scratch_epochs": epochs, "child_epochs": epochs, "batch_size": 32, **kw}
    return Trainer(DATA, TrainSettings(**cfg), device="cpu")  # type: ignore[arg-type]


def test_learns_the_synthetic_task() -> None:
    result = trainer().train(GENOME, seed=0)
    assert result.ok and result.state is not None
    assert result.val_error < 0.5  # chance is 0.75
    assert result.steps == round(4 * len(DATA.train_y) / 32)


def test_same_seed_same_weights_on_cpu() -> None:
    a = trainer(epochs=1.0).train(GENOME, seed=3)
    b = trainer(epochs=1.0).train(GENOME, seed=3)
    c = trainer(epochs=1.0).train(GENOME, seed=4)
    assert a.state is not None and b.state is not None and c.state is not None
    assert all(torch.equal(a.state[k], b.state[k]) for k in a.state)
    assert not all(torch.equal(a.state[k], c.state[k]) for k in a.state)
    assert a.val_error == b.val_error


def test_inherited_child_starts_where_the_parent_is() -> None:
    t = trainer()
    parent = t.train(GENOME, seed=0)
    assert parent.state is not None
    child = get_morphism("deepen").apply(GENOME, parent.state, np.random.default_rng(0))
    model = t.build(child.genome, child.state, seed=0)
    assert t.evaluate(model) == pytest.approx(parent.val_error)
    tuned = t.train(child.genome, child.state, seed=0, epochs=0.5)
    assert tuned.ok and tuned.val_error <= parent.val_error + 0.1


def test_distillation_from_the_parent_runs() -> None:
    t = trainer()
    parent = t.train(GENOME, seed=0)
    assert parent.state is not None
    child = get_morphism("prune_filters").apply(GENOME, parent.state, np.random.default_rng(0))
    result = t.train(child.genome, child.state, seed=0, epochs=1, teacher=(GENOME, parent.state))
    assert result.ok and math.isfinite(result.train_loss)


def test_divergence_is_a_recorded_failure() -> None:
    result = trainer(lr=1e12, epochs=1.0).train(GENOME, seed=0)
    assert result.status == "diverged" and result.state is None
    assert "NaN" in (result.error or "")


def test_schedule_warms_up_then_decays_to_zero() -> None:
    lrs = [_schedule(t, 100, 10) for t in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert lrs[-1] < 0.01 and all(a >= b for a, b in itertools.pairwise(lrs[10:]))


def test_the_budget_follows_inheritance() -> None:
    t = Trainer(DATA, TrainSettings(child_epochs=0.5, scratch_epochs=2.0, batch_size=32))
    scratch = t.train(GENOME, seed=0)
    assert scratch.epochs == pytest.approx(2.0, abs=0.1)
    child = t.train(GENOME, scratch.state, seed=0)
    assert child.epochs == pytest.approx(0.5, abs=0.1)


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="trainer.scratch_epochs: must be a finite number > 0"):
        TrainSettings(scratch_epochs=0)
    with pytest.raises(ValueError, match="trainer.child_epochs: must be a finite number > 0"):
        TrainSettings(child_epochs=float("inf"))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            Trainer(DATA, TrainSettings(), device="cuda")
