"""``benchmarks/peers.py`` keeps what it measured: the test errors of a front retrained on one
schedule stay beside those of another (retraining the same fronts longer adds an entry, it
does not replace the first), a file of the earlier one-schedule form is read, and a damaged
file (untrusted, from a run directory) means retraining, never a crash or a wrong figure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from benchmark_module import load_benchmark

from evonas.core import Individual
from evonas.space import simple_genome

PEERS = load_benchmark("peers")


def front() -> list[Individual]:
    return [
        Individual(i, simple_genome(), None, (), {"val_error": 0.3, "params": 1e3 * (i + 1)})
        for i in (3, 7, 9)
    ]


@pytest.fixture
def trainings(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every retraining asked for (its epochs); a network's test error is 0.1 / epochs + its id
    / 1000, so each schedule's figures are told apart."""
    asked: list[float] = []

    def retrain(chosen: list[Individual], trainer: Any, epochs: float, seed: int) -> list[Any]:
        asked.append(epochs)
        return [
            Individual(
                i.id, i.genome, None, (), {**i.objectives, "val_error": 0.1 / epochs + i.id / 1000}
            )
            for i in chosen
        ]

    monkeypatch.setattr(PEERS, "retrain", retrain)
    return asked


def errors(tested: list[Individual]) -> list[float]:
    return [round(i.objectives["val_error"], 6) for i in tested]


def test_a_second_schedule_is_kept_beside_the_first(tmp_path: Path, trainings: list[float]) -> None:
    path = tmp_path / "lemonade-0.retrained.json"
    first = PEERS.retrain_kept(front(), None, 4.0, 0, path, reuse=True)
    longer = PEERS.retrain_kept(front(), None, 12.0, 0, path, reuse=True)
    assert trainings == [4.0, 12.0]
    # both read back without training again, each its own figures
    assert errors(PEERS.retrain_kept(front(), None, 4.0, 0, path, reuse=True)) == errors(first)
    assert errors(PEERS.retrain_kept(front(), None, 12.0, 0, path, reuse=True)) == errors(longer)
    assert trainings == [4.0, 12.0]
    assert errors(first) == [0.028, 0.032, 0.034]
    kept = json.loads(path.read_text())["schedules"]
    assert [e["retrain_epochs"] for e in kept] == [4.0, 12.0]


def test_without_reuse_a_front_is_retrained_and_the_file_starts_again(
    tmp_path: Path, trainings: list[float]
) -> None:
    path = tmp_path / "aging-1.retrained.json"
    PEERS.retrain_kept(front(), None, 4.0, 1, path, reuse=True)
    PEERS.retrain_kept(front(), None, 4.0, 1, path, reuse=False)
    assert trainings == [4.0, 4.0]
    assert len(json.loads(path.read_text())["schedules"]) == 1


def test_the_earlier_one_schedule_file_is_read(tmp_path: Path, trainings: list[float]) -> None:
    path = tmp_path / "random-2.retrained.json"
    path.write_text(
        json.dumps({"retrain_epochs": 4.0, "ids": [3, 7, 9], "test_error": [0.2, None, 0.25]})
    )
    tested = PEERS.retrain_kept(front(), None, 4.0, 2, path, reuse=True)
    assert trainings == [] and [i.id for i in tested] == [3, 9] and errors(tested) == [0.2, 0.25]
    # another schedule is added to it, the one measured first stays
    PEERS.retrain_kept(front(), None, 12.0, 2, path, reuse=True)
    assert [e["retrain_epochs"] for e in json.loads(path.read_text())["schedules"]] == [4.0, 12.0]


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        '{"schedules": 3}',
        '{"schedules": [5, {"retrain_epochs": 4.0, "ids": [3, 7, 9], "test_error": "x"}]}',
        '{"retrain_epochs": 4.0, "ids": [3, 7], "test_error": [0.1, 0.2]}',  # other networks
        '{"retrain_epochs": 4.0, "ids": [3, 7, 9], "test_error": [0.1, 0.2]}',  # one missing
        '{"retrain_epochs": 4.0, "ids": [3, 7, 9], "test_error": [0.1, "0.2", 0.3]}',
    ],
)
def test_a_damaged_file_means_retraining(tmp_path: Path, trainings: list[float], text: str) -> None:
    path = tmp_path / "nsga2-0.retrained.json"
    path.write_text(text)
    tested = PEERS.retrain_kept(front(), None, 4.0, 0, path, reuse=True)
    assert trainings == [4.0] and errors(tested) == [0.028, 0.032, 0.034]
    assert json.loads(path.read_text())["schedules"][-1]["test_error"] == [0.028, 0.032, 0.034]
