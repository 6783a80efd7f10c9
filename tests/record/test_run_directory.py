"""A run directory: one process at a time, data not code, damaged contents recovered or
refused in words, SIGTERM resumable like Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import evonas
from evonas.record.run import check_comparable, load_run
from evonas.record.run_record import RecordError
from tests.plugins.tiny import rows, tiny_scenario


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    return subprocess.run(
        [sys.executable, "-m", "evonas", *args], cwd=cwd, capture_output=True, text=True, env=env
    )


def start(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "evonas", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        start_new_session=True,
    )


def wait_for_events(run_dir: Path, n: int, timeout: float = 120) -> None:
    journal = run_dir / "events.jsonl"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if journal.exists() and len(journal.read_text().splitlines()) >= n:
            return
        time.sleep(0.02)
    raise AssertionError(f"no {n} events in {timeout} s")


def test_a_second_process_on_a_run_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_scenario(evaluations=500))  # runs until it is stopped below
    run_dir = tmp_path / "run"
    first = start(["run", str(path), "--out", str(run_dir)])
    try:
        wait_for_events(run_dir, 1)
        for args in (["run", str(path), "--out", str(run_dir)], ["resume", str(run_dir)]):
            second = cli(*args)
            assert second.returncode == 2, second.stderr
            assert f"is in use by process {first.pid} since" in second.stderr
            assert "Traceback" not in second.stderr
        assert first.poll() is None, "the first run must still be going"
    finally:
        os.kill(first.pid, signal.SIGTERM)
        assert first.wait(timeout=120) == 143
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    assert ids == list(range(len(ids)))  # one writer: no id twice, none interleaved


def test_sigterm_then_resume_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_scenario(evaluations=10))
    whole = evonas.run(path, out=tmp_path / "whole")
    run_dir = tmp_path / "killed"
    proc = start(["run", str(path), "--out", str(run_dir)])
    wait_for_events(run_dir, 4)
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    resumed = evonas.resume(run_dir)
    assert rows(resumed.history()) == rows(whole.history())


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("finished")
    path = tmp / "tiny.toml"
    path.write_text(tiny_scenario(evaluations=6))
    return evonas.run(path, out=tmp / "run").dir


def copy(run_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(run_dir, target)
    return target


MARKER_MODULE = """
from pathlib import Path
Path({marker!r}).write_text("imported")
def objective(ctx):
    return 1.0
"""


def test_a_run_directory_is_data_not_code(finished: Path, tmp_path: Path) -> None:
    run_dir = copy(finished, tmp_path)
    evil = tmp_path / "evil"
    (evil / "matplotlib").mkdir(parents=True)
    marker = tmp_path / "marker"
    (evil / "matplotlib" / "__init__.py").write_text(MARKER_MODULE.format(marker=str(marker)))
    (evil / "evil_objective.py").write_text(MARKER_MODULE.format(marker=str(marker)))
    config = json.loads((run_dir / "config.json").read_text())
    config["import_paths"] = [str(evil)]
    config["scenario"]["objectives"].append({"name": "evil_objective:objective"})
    (run_dir / "config.json").write_text(json.dumps(config))
    for args in (["show", str(run_dir)], ["plot", str(run_dir)], ["export", str(run_dir), "0"]):
        result = cli(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert not marker.exists(), f"{args[0]} imported code named by the run directory"
    result = cli("resume", str(run_dir), "--budget", "9evals", cwd=tmp_path)
    assert result.returncode == 2 and not marker.exists()
    assert "cannot import module 'evil_objective'" in result.stderr
    assert "--import-path" in result.stderr


def test_weights_that_load_but_do_not_fit_are_evaluated_again(
    finished: Path, tmp_path: Path
) -> None:
    run_dir = copy(finished, tmp_path)
    history = evonas.load_run(run_dir).history()
    small, other = next(
        (a, b)
        for a in history
        for b in history
        if a.ok and b.ok and a.id > 0 and a.objectives["params"] != b.objectives["params"]
    )
    shutil.copy(run_dir / "weights" / f"{other.id}.pt", run_dir / "weights" / f"{small.id}.pt")
    with pytest.warns(UserWarning, match=f"does not fit candidate {small.id}"):
        resumed = evonas.resume(run_dir)
    after = resumed.history()
    assert len(after) == 6 and len({i.id for i in after}) == 6
    assert [i.id for i in after][: small.id] == [i.id for i in history][: small.id]


def test_a_resume_budget_below_what_is_done_changes_nothing(finished: Path, tmp_path: Path) -> None:
    run_dir = copy(finished, tmp_path)
    before = {
        p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file() and p.name != ".lock"
    }
    result = cli("resume", str(run_dir), "--budget", "3evals")
    assert result.returncode == 2
    assert (
        "has already done 6 evaluations" in result.stderr and "nothing was changed" in result.stderr
    )
    after = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file() and p.name != ".lock"}
    assert after == before


def test_leftover_temporary_files_are_removed(finished: Path, tmp_path: Path) -> None:
    run_dir = copy(finished, tmp_path)
    (run_dir / "weights" / ".3.pt.tmp999").write_bytes(b"half")
    (run_dir / ".pareto.csv.tmp999").write_text("half")
    evonas.resume(run_dir)
    assert not list(run_dir.rglob(".*.tmp*"))


def test_runs_normalised_differently_are_not_compared(finished: Path, tmp_path: Path) -> None:
    """Hypervolume figures of runs recorded under other objective bounds (e.g. the linear
    error scale used before 2026-12-02) would mislead side by side: refused, naming both."""
    old = copy(finished, tmp_path)
    config = json.loads((old / "config.json").read_text())
    for objective in config["objectives"]:
        if objective["name"] == "val_error":
            objective.update(bounds=[0.0, 1.0], log_scale=False)
    (old / "config.json").write_text(json.dumps(config))
    check_comparable([load_run(finished), load_run(finished)])
    with pytest.raises(RecordError, match=r"val_error in \[0, 1\].*log10 val_error in \[0.01, 1\]"):
        check_comparable([load_run(finished), load_run(old)])
