"""Fine-tune rungs (``[fidelity]``): children start at the lowest rung, the non-dominated
top of a rung trains on from its own weights, low rungs are marked
provisional, and a killed run with rungs and the predictor resumes as if never stopped."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

import evonas
from evonas.record.plots import plot_run
from evonas.record.report import write_report
from evonas.scenario import ScenarioError, load_scenario, resolve
from tests.plugins.tiny import rows, tiny_scenario
from tests.record.test_run_directory import start, wait_for_events

RUNGS = "[fidelity]\nmin_epochs = 0.125\neta = 2\n"  # 0.125, 0.25, 0.5 (= child_epochs)
LEMONADE = '{ n_children = 4, n_accept = 2, acceptance = "predicted" }'


def scenario(tmp_path: Path, evaluations: int, extra: str = RUNGS) -> Path:
    path = tmp_path / "rungs.toml"
    path.write_text(
        tiny_scenario(
            strategy="lemonade",
            params=LEMONADE,
            evaluations=evaluations,
            n_train=384,
            objectives=("val_error", "params"),
            extra=extra,
        )
    )
    return path


def facts(history: list[evonas.Individual]) -> list[tuple[object, ...]]:
    return [
        (i.id, i.train.rung, i.train.provisional, i.train.continued, sorted(i.predicted.items()))
        for i in sorted(history, key=lambda i: i.id)
    ]


def killed_and_resumed(path: Path, run_dir: Path, after: int) -> list[evonas.Individual]:
    """The scenario run by the command line, killed once ``after`` individuals are
    recorded, then resumed: its history."""
    proc = start(["run", str(path), "--out", str(run_dir)])
    wait_for_events(run_dir, after)
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    return evonas.resume(run_dir).history()


@pytest.fixture(scope="module")
def climbed(tmp_path_factory: pytest.TempPathFactory) -> evonas.Run:
    tmp = tmp_path_factory.mktemp("rungs")
    return evonas.run(scenario(tmp, 30), out=tmp / "run")


def test_children_climb_the_rungs_from_their_own_weights(climbed: evonas.Run) -> None:
    run = climbed
    history = {i.id: i for i in run.history()}
    children = [i for i in history.values() if i.parent_id is not None]
    promoted = [i for i in children if i.train.continued]
    assert promoted, "no child was promoted"
    steps_per_epoch = 384 * 0.9 / 32  # the validation share is held out
    for ind in promoted:
        parent = history[ind.parent_id]  # type: ignore[index]
        assert ind.genome.hash == parent.genome.hash and ind.train.inherited
        assert ind.train.rung == parent.train.rung + 1  # type: ignore[operator]
        extra = 0.125 * 2 ** (ind.train.rung - 1)  # type: ignore[operator]
        assert ind.train.epochs == pytest.approx(extra, abs=1 / steps_per_epoch)
    for ind in children:
        assert ind.train.provisional == (ind.train.rung < 2)  # type: ignore[operator]
        if not ind.train.continued:
            assert ind.train.rung == 0
    initial = [i for i in history.values() if i.parent_id is None]
    assert all(i.train.rung is None and not i.train.provisional for i in initial)


def test_rungs_work_with_worker_processes(tmp_path: Path) -> None:
    """Aging evolution asks per free worker; promotions and new children share them."""
    path = tmp_path / "pool.toml"
    path.write_text(
        tiny_scenario(
            strategy="aging",
            params="{ population_size = 4, sample_size = 2 }",
            evaluations=18,
            n_train=384,
            objectives=("val_error", "params"),
            extra=RUNGS + '\n[executor]\nkind = "pool"\nworkers = 2\n',
        )
    )
    history = evonas.run(path, out=tmp_path / "run").history()
    assert len(history) == 18 and all(i.ok for i in history)
    assert any(i.train.continued for i in history)
    promoted = [i.parent_id for i in history if i.train.continued]
    assert len(promoted) == len(set(promoted))  # no network promoted twice from one rung


def test_the_report_and_plots_say_which_results_are_provisional(
    climbed: evonas.Run, tmp_path: Path
) -> None:
    page = write_report([climbed], tmp_path / "report.html").read_text()
    assert "provisional: a low-fidelity result" in page
    assert "predicted val_error" in page
    assert any(p.name.startswith("front_pairs") for p in plot_run(climbed, tmp_path / "plots"))


def test_the_table_of_a_run_has_rungs_and_predictions(climbed: evonas.Run) -> None:
    rows = climbed.rows()
    assert {r["rung"] for r in rows} == {None, 0, 1, 2}
    predicted = [r for r in rows if r["predicted_val_error"] is not None]
    assert predicted and all(0 <= r["predicted_val_error"] <= 1 for r in predicted)
    assert all(r["provisional"] == (r["rung"] in (0, 1)) for r in rows)


def test_without_rungs_nothing_is_recorded_of_them(tmp_path: Path) -> None:
    run = evonas.run(scenario(tmp_path, 6, extra=""), out=tmp_path / "run")
    lines = (run.dir / "events.jsonl").read_text().splitlines()
    assert not any("rung" in json.loads(line)["train"] for line in lines)
    for ind in run.history():  # children fine-tune child_epochs, initial ones scratch_epochs
        expected = 0.5 if ind.parent_id is not None else 1.0
        assert ind.train.epochs == pytest.approx(expected, abs=32 / (384 * 0.9))


def test_a_killed_run_with_rungs_and_the_predictor_resumes_as_the_whole_one(
    tmp_path: Path,
) -> None:
    path = scenario(tmp_path, 28)
    whole = evonas.run(path, out=tmp_path / "whole").history()
    assert any(i.predicted for i in whole) and any(i.train.continued for i in whole)
    resumed = killed_and_resumed(path, tmp_path / "killed", after=14)
    assert rows(resumed) == rows(whole)
    assert facts(resumed) == facts(whole)


def test_a_killed_asha_run_under_an_epoch_budget_resumes_as_the_whole_one(
    tmp_path: Path,
) -> None:
    """Promotions that would end past the epoch budget are not started; a resume asks the
    same things again, so it refuses the same ones and ends where the whole run ended."""
    path = tmp_path / "asha.toml"
    path.write_text(
        tiny_scenario(
            strategy="asha",
            params="{ min_epochs = 0.25, eta = 2, max_epochs = 2.0 }",
            evaluations=200,
            n_train=384,
            objectives=("val_error", "params"),
            extra="epochs = 5.0\n",  # [budget] is the last table: the epoch budget binds
        )
    )
    whole = evonas.run(path, out=tmp_path / "whole")
    spent = sum(i.train.epochs for i in whole.history())
    assert 5.0 - 0.25 <= spent <= 5.0 + 32 / (384 * 0.9)
    assert any(i.train.continued for i in whole.history())
    resumed = killed_and_resumed(path, tmp_path / "killed", after=len(whole.history()) - 3)
    assert rows(resumed) == rows(whole.history())
    assert facts(resumed) == facts(whole.history())


def generation_under_epochs(tmp_path: Path, seed: int) -> Path:
    """LEMONADE with rungs up to 2 epochs (promotions of up to 1) under an 8-epoch budget."""
    path = tmp_path / f"epochs{seed}.toml"
    path.write_text(
        tiny_scenario(
            strategy="lemonade",
            params="{ n_children = 6, n_accept = 4 }",
            seed=seed,
            n_train=288,
            evaluations=1,
            objectives=("val_error", "params"),
            extra=RUNGS + "max_epochs = 2.0\n",
        ).replace("evaluations = 1\n", "epochs = 8.0\n")
    )
    return path


def test_a_generation_with_rungs_never_runs_past_an_epoch_budget(tmp_path: Path) -> None:
    """LEMONADE submits its children together; with rungs their lengths are known, and a
    promotion among them counts what it will train (not the mean of an evaluation, which
    let a generation end up to 3.5% past the budget on these seeds)."""
    for seed in range(4):
        history = evonas.run(
            generation_under_epochs(tmp_path, seed), out=tmp_path / f"run{seed}"
        ).history()
        total = sum(i.train.epochs for i in history)
        assert any(i.train.continued and i.train.epochs > 0.4 for i in history)
        assert total <= 8.0 * 1.01, seed  # whole-step rounding: 1% of the budget
        assert total >= 8.0 - 0.25, seed  # and the budget is used up


def test_a_killed_generation_under_an_epoch_budget_resumes_as_the_whole_one(
    tmp_path: Path,
) -> None:
    """A resumed run counts the candidates it asks again as the whole run counted them in
    flight (each its candidate's epochs), so it stops where the whole run stopped."""
    path = generation_under_epochs(tmp_path, 3)
    whole = evonas.run(path, out=tmp_path / "whole").history()
    resumed = killed_and_resumed(path, tmp_path / "killed", after=len(whole) - 3)
    assert rows(resumed) == rows(whole)
    assert facts(resumed) == facts(whole)


@pytest.mark.parametrize(
    ("strategy", "extra", "message"),
    [
        ("asha", RUNGS, "asha has rungs of its own"),
        ("random", RUNGS, "not to 'random'"),
        ("lemonade", "[fidelity]\nmin_epochs = 0.125\neta = 1\n", "fidelity.eta"),
        ("lemonade", "[fidelity]\nmin_epochs = 1.0\n", "fidelity.max_epochs"),
        ("lemonade", "[fidelity]\nmin_epochs = 0\n", "fidelity.min_epochs"),
        ("lemonade", "[fidelity]\nmin_epoch = 0.1\n", "did you mean 'min_epochs'"),
    ],
)
def test_bad_fidelity_settings_are_named(
    tmp_path: Path, strategy: str, extra: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    params = "{}" if strategy != "lemonade" else LEMONADE
    path.write_text(tiny_scenario(strategy=strategy, params=params, extra=extra))
    with pytest.raises(ScenarioError, match=message) as caught:
        resolve(load_scenario(path), str(path))
    assert str(path) in str(caught.value)
