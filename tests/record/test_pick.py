"""Choosing and shipping: pick by conditions and a preference, the knee, and constraints
checked before anything is trained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evonas.cli import main
from evonas.core import Individual, ObjectiveInfo
from evonas.record import RunConfig, TaskInfo, load_run
from evonas.record.pick import PickError, pick
from evonas.scenario import Scenario
from evonas.space import simple_genome
from tests.plugins.tiny import tiny_scenario

OBJECTIVES = (
    ObjectiveInfo("val_error"),
    ObjectiveInfo("params", cheap=True, bounds=(1e3, 1e8), log_scale=True),
    ObjectiveInfo("latency", cheap=True, unit="s", bounds=(1e-5, 1.0), log_scale=True),
)
# id: (error, params, latency); all on the front but 5 (dominated by 1)
KNOWN = {
    0: (0.30, 5e3, 0.5e-3),
    1: (0.20, 20e3, 1.0e-3),
    2: (0.12, 90e3, 1.8e-3),
    3: (0.10, 150e3, 1.5e-3),
    4: (0.08, 900e3, 6.0e-3),
    5: (0.25, 30e3, 1.2e-3),
}


@pytest.fixture
def known_run(tmp_path: Path) -> Path:
    run = tmp_path / "known"
    run.mkdir()
    config = RunConfig(Scenario("known"), OBJECTIVES, TaskInfo((1, 8, 8), 3, (0.5,), (0.25,)))
    (run / "config.json").write_text(json.dumps(config.to_dict()))
    lines = []
    for ident, (err, params, latency) in KNOWN.items():
        values = {"val_error": err, "params": params, "latency": latency}
        genome = simple_genome(channels=(4 + ident,))
        lines.append(json.dumps(Individual(ident, genome, None, (), values).to_dict()))
    (run / "events.jsonl").write_text("\n".join(lines) + "\n")
    return run


@pytest.mark.parametrize(
    "where, best, expected",
    [
        (["params<=100k"], "val_error", 2),
        (["params<=100k", "latency<=1.2ms"], "val_error", 1),
        (["latency<2ms"], "val_error", 3),
        ([], "params", 0),
        (["val_error<=0.1"], "latency", 3),
    ],
)
def test_pick_chooses_the_right_network(
    known_run: Path, where: list[str], best: str, expected: int
) -> None:
    assert pick(load_run(known_run), where, best).id == expected


def test_the_knee_is_neither_extreme(known_run: Path) -> None:
    # scaled to the front's ranges, #1 (0.2, 20K, 1 ms) is closest to the ideal point;
    # the extremes #0 (smallest) and #4 (most accurate) and the dominated #5 are not
    assert pick(load_run(known_run)).id == 1


def test_pick_says_when_nothing_qualifies(known_run: Path) -> None:
    with pytest.raises(PickError, match=r"no network on the front .* meets params<=1000"):
        pick(load_run(known_run), ["params<=1k"], "val_error")
    with pytest.raises(PickError, match="has no objective 'flops'"):
        pick(load_run(known_run), ["flops<=1M"])


def test_pick_and_export_from_the_command_line(
    known_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pick", str(known_run), "--where", "params<=100k", "--best", "val_error"]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == "2" and "1.8 ms" in out and "90k" in out
    assert main(["show", str(known_run)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in table[2:]] == ["4", "3", "2", "1", "0"]


def test_a_cheap_constraint_no_initial_network_meets_is_reported_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tiny_scenario().replace('name = "params"', 'name = "params"\nmax = "50"')
    (tmp_path / "s.toml").write_text(text)
    assert main(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert "no initial network meets the hard constraints" in err and "params = " in err
    assert not (tmp_path / "never").exists()


def test_percentages_and_the_python_api_choose_as_the_command_line(known_run: Path) -> None:
    run = load_run(known_run)
    assert run.pick(["val_error<=12%"], "params").id == 2
    assert run.pick(["params<=100k"], "val_error").id == pick(run, ["params<=100k"], "val_error").id
    assert run.pick().id == pick(run).id
    with pytest.raises(PickError, match="it has val_error, params, latency"):
        run.pick(best="accuracy")


def test_every_network_is_a_row(known_run: Path) -> None:
    rows = load_run(known_run).rows()
    assert [r["id"] for r in rows] == list(KNOWN)
    assert [r["on_front"] for r in rows] == [True] * 5 + [False]
    assert rows[2]["params"] == 90e3 and rows[2]["status"] == "ok"
