"""Bad input is answered in words: the cases of ``benchmarks/bad_inputs.py`` (malformed
scenarios, failing plug-ins, wrong arguments, damaged run directories), each through the
command line in a fresh directory: exit 2 with a message and no traceback, nothing written
before failing; a damage evonas repairs (weights, cheap values) resumes with exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmark_module import load_benchmark

BAD = load_benchmark("bad_inputs")
CASES = BAD.all_cases()


def test_there_are_enough_cases_of_every_kind() -> None:
    kinds = {c.name.split("/")[0] for c in CASES}
    assert len(CASES) >= 80 and kinds == {"scenario", "plugin", "cli", "rundir"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return BAD.make_runs(tmp_path_factory.mktemp("runs"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: object, runs: dict[str, Path], tmp_path: Path) -> None:
    outcome = BAD.run_case(case, tmp_path, runs)
    assert not outcome.traceback, outcome.stderr
    assert not outcome.silent_exit0, f"exit {outcome.code} without a word: {outcome.stderr}"
    assert not outcome.wrote_before_fail, outcome.stderr
    if case.recover:  # type: ignore[attr-defined]
        assert outcome.code == 0, outcome.stderr
    else:
        last = outcome.stderr.strip().splitlines()[-1]
        assert outcome.code == 2 and last.startswith("evonas") and "error: " in last, last
