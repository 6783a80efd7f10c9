"""Every ``evonas`` command and Python block of the README runs as written, on a tiny
scenario in place of the quick one, so the README cannot drift from the code.

The substitutions keep each line's shape: the quick scenario becomes a tiny synthetic one
named ``quick``, ``results/other`` a second tiny run, a network id one that exists, minutes
and epochs a few evaluations and a fraction of an epoch. Install and test commands are not
run (CI runs them).
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

from evonas.cli import main
from tests.plugins.tiny import tiny_scenario

README = Path(__file__).resolve().parent.parent / "README.md"
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def commands(substitute: bool = False) -> list[list[str]]:
    """The README's ``evonas`` command lines as argument lists (comments dropped), with the
    tiny-scenario substitutions when asked."""
    out = []
    for block in blocks("bash"):
        for line in block.splitlines():
            if substitute:
                for old, new in SUBSTITUTIONS:
                    line = line.replace(old, new)
            words = shlex.split(line, comments=True)
            if words[:1] == ["evonas"]:
                out.append(words[1:])
    return out


SUBSTITUTIONS = [
    ("scenarios/quick.toml", "tiny.toml"),
    ("--budget 20m", "--budget 8evals"),
    ("--retrain-epochs 10", "--retrain-epochs 0.2"),
    (" 60 ", " 3 "),
    ('"val_error<=20%"', '"val_error<=100%"'),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out as the README assumes: tiny.toml, and results/other run already."""
    work = tmp_path_factory.mktemp("readme")
    (work / "tiny.toml").write_text(tiny_scenario(name="quick", evaluations=6))
    (work / "other.toml").write_text(tiny_scenario(name="other", seed=1, evaluations=4))
    return work


def test_the_readme_has_the_commands_it_teaches() -> None:
    names = {words[0] for words in commands()}
    assert {"run", "show", "list", "plot", "pick", "report", "export", "resume", "compare"} <= names


def test_every_command_of_the_readme_runs_as_written(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(workdir)
    assert main(["run", "other.toml", "--out", "results/other"]) == 0
    for words in commands(substitute=True):
        code = main(words)
        _, err = capsys.readouterr()
        assert code == 0, f"evonas {shlex.join(words)}: exit {code}: {err}"


def test_every_python_block_of_the_readme_runs_as_written(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir)
    monkeypatch.syspath_prepend(str(SCENARIOS))  # the energy objective beside its scenario
    api, objective, contract = blocks("python")
    code = api.replace("scenarios/quick.toml", "tiny.toml")
    code = code.replace("Budget(minutes=20)", "Budget(evaluations=8)")
    code = code.replace('"params<=50k"', '"params<=1M"')
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md (Python API)", "exec"), namespace)
    assert namespace["best"] is not None and namespace["rows"]
    exec(compile(objective, "README.md (custom objective)", "exec"), {})
    namespace = {}
    exec(compile(contract, "README.md (contract suite)", "exec"), namespace)
    assert "TestEnergy" in namespace
    sys.modules.pop("energy", None)
