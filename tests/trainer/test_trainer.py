"""The trainer: learns, is reproducible, inherits, distils, and survives divergence."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from evonas.core import Candidate
from evonas.data import synthetic
from evonas.morphism import get_morphism
from evonas.space import simple_genome
from evonas.trainer import Trainer, TrainSettings
from evonas.trainer.trainer import _schedule, native_bf16

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


def test_the_eval_batch_changes_speed_not_the_error() -> None:
    result = trainer(epochs=1.0).train(GENOME, seed=0)
    assert result.state is not None
    errors = set()
    for eval_batch in (None, 1, 7, 1000):
        t = trainer(eval_batch_size=eval_batch)
        model = t.build(GENOME, result.state, seed=0)
        errors.add(t.evaluate(model))
    assert errors == {result.val_error}
    assert trainer().eval_batch_size == 32  # CPU: the training batch
    assert trainer(eval_batch_size=9).eval_batch_size == 9


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"trainer\.scratch_epochs: must be a finite number > 0"):
        TrainSettings(scratch_epochs=0)
    with pytest.raises(ValueError, match=r"trainer\.child_epochs: must be a finite number > 0"):
        TrainSettings(child_epochs=float("inf"))
    with pytest.raises(ValueError, match=r"trainer\.eval_batch_size: must be >= 1"):
        TrainSettings(eval_batch_size=0)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            Trainer(DATA, TrainSettings(), device="cuda")


def test_deepen_child_keeps_the_parent_function_on_its_first_train_step() -> None:
    """The evaluator passes the deepen record's calibration to the trainer: with a learning
    rate too small to move anything, the child's first train-mode batch reproduces the
    parent's, and its trained copy still matches the parent in eval mode."""
    t = trainer(bf16=False)  # exact in fp32: bf16 rounding may flip a borderline prediction
    parent = t.train(GENOME, seed=0)
    assert parent.state is not None
    child = get_morphism("deepen").apply(GENOME, parent.state, np.random.default_rng(1))
    candidate = Candidate(child.genome, 0, (child.record,), child.state, approximate=False)
    assert candidate.calibrate == tuple(child.record.details["calibrate"])
    still = trainer(lr=1e-12, momentum=0.0, weight_decay=0.0, augment=False, bf16=False)
    tuned = still.train(child.genome, child.state, seed=0, steps=1, calibrate=candidate.calibrate)
    assert tuned.ok and tuned.state is not None
    assert tuned.val_error == pytest.approx(parent.val_error)
    bn = child.record.details["calibrate"][0]
    assert not torch.equal(tuned.state[f"nodes.{bn}.weight"], child.state[f"nodes.{bn}.weight"])


def test_calibration_only_names_batch_norms_still_in_the_genome() -> None:
    state = trainer(epochs=0.1).train(GENOME, seed=0).state
    rng = np.random.default_rng(0)
    deeper = get_morphism("deepen").apply(GENOME, state, rng)
    bn = deeper.record.details["calibrate"][0]
    gone = Candidate(GENOME, 0, (deeper.record,), state, approximate=False)
    assert gone.calibrate == ()  # the genome no longer holds that node
    kept = Candidate(deeper.genome, 0, (deeper.record,), deeper.state, approximate=False)
    assert kept.calibrate == (bn,)
    scratch = Candidate(deeper.genome, None, (deeper.record,), None, approximate=False)
    assert scratch.calibrate == ()  # fresh weights: nothing inherited to keep


def test_children_have_their_own_schedule() -> None:
    s = TrainSettings(lr=0.2, warmup=0.05, child_lr=0.05, child_warmup=0.0)
    assert s.schedule_for(inherited=False) == (0.2, 0.05)
    assert s.schedule_for(inherited=True) == (0.05, 0.0)
    assert TrainSettings(lr=0.3).schedule_for(inherited=True) == (0.3, 0.02)
    with pytest.raises(ValueError, match=r"trainer\.child_lr: must be > 0"):
        TrainSettings(child_lr=0)
    with pytest.raises(ValueError, match=r"trainer.child_warmup: must lie in \[0, 1\)"):
        TrainSettings(child_warmup=1.0)


@pytest.mark.parametrize("enabled", [False, True])
def test_the_evaluator_calibrates_only_when_the_settings_say_so(enabled: bool) -> None:
    """Calibration is measured to fine-tune worse (benchmarks/calibration.py): off unless
    ``[trainer] calibrate = true``; then the evaluator hands deepen's BN to the trainer."""
    from evonas.trainer.evaluator import TrainingEvaluator

    t = trainer(epochs=0.1, calibrate=enabled)
    parent = t.train(GENOME, seed=0)
    child = get_morphism("deepen").apply(GENOME, parent.state, np.random.default_rng(1))
    seen: list[tuple[str, ...]] = []
    real = t.train

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(tuple(kwargs.get("calibrate", ())))  # type: ignore[arg-type]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    t.train = spy  # type: ignore[method-assign]
    candidate = Candidate(child.genome, 0, (child.record,), child.state, approximate=False)
    assert TrainingEvaluator(t).evaluate(candidate, seed=0, teacher=None).ok
    assert seen == [candidate.calibrate if enabled else ()]
    assert TrainSettings().calibrate is False


@pytest.mark.parametrize("enabled", [False, True])
def test_distillation_only_when_enabled(enabled: bool) -> None:
    """Measured (benchmarks/finetune_schedule.py), distilled approximate children ended worse
    in 17 of 17, so distillation is off by default; with ``[trainer] distill = true`` an
    approximate child gets its parent as teacher, a preserving one never does."""
    from evonas.trainer.evaluator import TrainingEvaluator

    t = trainer(epochs=0.1, distill=enabled)
    parent = t.train(GENOME, seed=0)
    assert parent.state is not None
    teacher = (GENOME, parent.state)
    seen: list[object] = []
    real = t.train

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(kwargs.get("teacher"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    t.train = spy  # type: ignore[method-assign]
    for name, approximate in (("prune_filters", True), ("widen", False)):
        child = get_morphism(name).apply(GENOME, parent.state, np.random.default_rng(1))
        candidate = Candidate(child.genome, 0, (child.record,), child.state, approximate)
        assert TrainingEvaluator(t).evaluate(candidate, seed=0, teacher=teacher).ok
    assert seen == [teacher if enabled else None, None]
    assert TrainSettings().distill is False


@pytest.mark.parametrize("enabled", [True, False])
def test_bf16_autocast_only_where_it_is_native(enabled: bool) -> None:
    """``bf16 = true`` runs convolutions in bf16 on CUDA and on CPUs with native bf16
    kernels (measured on an AVX512-BF16 CPU: 1.13x the images per second over 24 searched
    networks, the same mean error); never where bf16 would be emulated, never when off."""
    t = trainer(bf16=enabled)
    model = t.build(GENOME, None, seed=0)
    x = torch.zeros((2, *DATA.input_shape)).contiguous(memory_format=torch.channels_last)
    with t.profile.autocast():
        out = model(x)
    native = native_bf16(torch.device("cpu"))
    assert out.dtype == (torch.bfloat16 if enabled and native else torch.float32)
    assert not native_bf16(torch.device("meta"))


def _bn_inputs(model: torch.nn.Module, batches: list[torch.Tensor]) -> list[torch.Tensor]:
    """Per-batch channel means of the first batch norm's input, in train mode."""
    bn = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    seen: list[torch.Tensor] = []
    handle = bn.register_forward_pre_hook(lambda _m, a: seen.append(a[0].mean(dim=(0, 2, 3))))
    model.train()
    with torch.no_grad():
        for x in batches:
            model(x)
    handle.remove()
    return seen


def test_precise_bn_averages_the_batches_statistics_and_keeps_the_weights() -> None:
    """PreciseBN: every running mean becomes the plain average of the batches' means, with
    the weights as they are; the model comes back in eval mode."""
    from evonas.model.builder import precise_batchnorm

    t = trainer(epochs=1.0, precise_bn_batches=0)
    state = t.train(GENOME, seed=0).state
    model = t.build(GENOME, state, seed=0)
    batches = [t.normalise(DATA.train_x[i : i + 32]) for i in (0, 32, 64)]
    expected = torch.stack(_bn_inputs(t.build(GENOME, state, seed=0), batches)).mean(dim=0)
    weights = {k: v.clone() for k, v in model.state_dict().items() if "running" not in k}
    assert precise_batchnorm(model, iter(batches)) == 3
    bn = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert bn.running_mean is not None
    torch.testing.assert_close(bn.running_mean, expected, rtol=1e-4, atol=1e-5)
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in weights.items() if "num_batches" not in k)
    assert not model.training and bn.momentum == 0.1


def test_precise_bn_with_no_batches_keeps_the_running_statistics() -> None:
    from evonas.model.builder import precise_batchnorm

    t = trainer(epochs=0.5, precise_bn_batches=0)
    state = t.train(GENOME, seed=0).state
    assert state is not None
    model = t.build(GENOME, state, seed=0)
    assert precise_batchnorm(model, iter([])) == 0
    assert all(torch.equal(model.state_dict()[k].cpu(), v) for k, v in state.items())


def test_precise_bn_gives_back_what_a_fine_tune_left_behind() -> None:
    """A network whose running statistics say nothing (reset to mean 0 / variance 1, as a
    new batch norm starts) is re-estimated to about the error its own training left."""
    from evonas.model.builder import precise_batchnorm

    t = trainer(epochs=4.0, precise_bn_batches=0)
    result = t.train(GENOME, seed=0)
    model = t.build(GENOME, result.state, seed=0)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
    blind = t.evaluate(model)
    batches = [t.normalise(DATA.train_x[i : i + 32]) for i in range(0, 320, 32)]
    precise_batchnorm(model, iter(batches))
    assert t.evaluate(model) <= result.val_error + 0.05 < blind


def test_the_trainer_re_estimates_batch_norms_before_evaluating() -> None:
    """With ``precise_bn_batches`` (10 by default) the returned state carries re-estimated
    running statistics and the error is the re-estimated network's; 0 keeps training's."""
    assert TrainSettings().precise_bn_batches == 10
    plain = trainer(epochs=1.0, precise_bn_batches=0).train(GENOME, seed=2)
    precise = trainer(epochs=1.0, precise_bn_batches=3).train(GENOME, seed=2)
    assert plain.state is not None and precise.state is not None
    running = [k for k in plain.state if "running_mean" in k]
    assert running and all(not torch.equal(plain.state[k], precise.state[k]) for k in running)
    conv = [k for k in plain.state if k.endswith("weight") and plain.state[k].dim() == 4]
    assert all(torch.equal(plain.state[k], precise.state[k]) for k in conv)  # weights alike
    again = trainer(epochs=1.0, precise_bn_batches=3)
    assert again.evaluate(again.build(GENOME, precise.state, seed=0)) == precise.val_error
    assert int(precise.state[running[0].replace("running_mean", "num_batches_tracked")]) == 3
    with pytest.raises(ValueError, match=r"trainer\.precise_bn_batches: must be >= 0"):
        TrainSettings(precise_bn_batches=-1)


def test_a_short_fine_tune_peaks_lower_where_child_lr_epochs_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Shorter than ``child_lr_epochs`` (1 by default), an inherited fine-tune peaks at the
    learning rate times its share of that; scratch training never does."""
    assert TrainSettings().child_lr_epochs == 1.0
    seen: list[tuple[bool, float | None]] = []
    real = TrainSettings.schedule_for

    def spy(self: TrainSettings, inherited: bool, epochs: float | None = None) -> object:
        seen.append((inherited, epochs))
        return real(self, inherited, epochs)

    monkeypatch.setattr(TrainSettings, "schedule_for", spy)
    t = trainer(epochs=1.0)
    parent = t.train(GENOME, seed=0)
    t.train(GENOME, parent.state, seed=0, epochs=0.5)
    assert seen[0] == (False, pytest.approx(1.0, abs=0.1))
    assert seen[1] == (True, pytest.approx(0.5, abs=0.1))
    monkeypatch.undo()
    s = TrainSettings(lr=0.2, warmup=0.05, child_lr_epochs=1.0)
    assert s.schedule_for(inherited=True, epochs=0.25) == (pytest.approx(0.05), 0.05)
    assert s.schedule_for(inherited=True, epochs=2.0) == (0.2, 0.05)
    assert s.schedule_for(inherited=False, epochs=0.25) == (0.2, 0.05)  # scratch: never
    assert TrainSettings(child_lr_epochs=0).schedule_for(True, 0.1) == (0.2, 0.02)
    with pytest.raises(ValueError, match=r"trainer\.child_lr_epochs: must be a finite number"):
        TrainSettings(child_lr_epochs=-1)


def test_workers_get_a_small_picklable_trainer_factory() -> None:
    """A worker builds its evaluator from the dataset's name and arguments, the trainer
    settings and the device, not from the whole scenario."""
    import pickle

    from evonas.scenario import Scenario, trainer_factory
    from evonas.scenario.schema import DataConfig
    from evonas.trainer import TrainerFactory, TrainingEvaluator

    scenario = Scenario(
        name="tiny",
        data=DataConfig(dataset="synthetic", options={"n_train": 96, "n_test": 16}),
        trainer=TrainSettings(batch_size=16, child_epochs=0.5),
        device="cpu",
    )
    factory = trainer_factory(scenario)
    assert isinstance(factory, TrainerFactory) and factory.dataset == "synthetic"
    assert factory.data_args["n_train"] == 96 and factory.data_args["seed"] == scenario.seed
    evaluator = pickle.loads(pickle.dumps(factory))()
    assert isinstance(evaluator, TrainingEvaluator)
    assert evaluator.trainer.config == scenario.trainer
    assert evaluator.trainer.device.type == "cpu"
    result = evaluator.evaluate(Candidate(GENOME, None, (), None, False), seed=0, teacher=None)
    assert result.ok


def test_a_batch_larger_than_the_split_is_the_whole_split() -> None:
    """``batch_size = 1e12`` trains on the whole split a step, and records epochs as
    passes over it (not 1e12 images a step)."""
    t = trainer(epochs=2.0, batch_size=10**12)
    result = t.train(GENOME, seed=0)
    assert result.ok and result.steps == 2
    assert result.epochs == pytest.approx(2.0)
