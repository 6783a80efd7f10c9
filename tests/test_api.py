"""The Python API end to end: a run resumes under changed plug-in code (as after an
upgrade), from its recorded history, without replaying the search."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import evonas

SCENARIO = """
name = "upgrade"
seed = 1
device = "cpu"

[data]
dataset = "synthetic"
options = { n_train = 128, n_test = 32, shape = [1, 8, 8], num_classes = 3 }

[space]
initial = 2
initial_stages = [1, 1]
initial_channels = [4]

[strategy]
name = "lemonade"
params = { n_children = 4, n_accept = 2 }

[morphisms]
enabled = ["grow:Grow"]

[[objectives]]
name = "val_error"

[[objectives]]
name = "params"

[trainer]
child_epochs = 0.25
scratch_epochs = 0.5
batch_size = 32

[budget]
evaluations = 5
"""

V1 = """
from evonas.morphism.preserving import Deepen

class Grow(Deepen):
    pass
"""

V2 = """
from evonas.morphism.preserving import Deepen

class Grow(Deepen):
    def sites(self, genome):  # changed: only the last site
        return super().sites(genome)[-1:]
"""


def evonas_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evonas", *args], cwd=cwd, capture_output=True, text=True
    )


def test_a_run_resumes_after_its_plugin_code_changed(tmp_path: Path) -> None:
    (tmp_path / "grow.py").write_text(V1)
    (tmp_path / "upgrade.toml").write_text(SCENARIO)
    first = evonas_cli("run", "upgrade.toml", "--out", "run", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = evonas.load_run(tmp_path / "run").history()
    assert len(before) == 5 and any(m.name == "Grow" for i in before for m in i.morphisms)

    (tmp_path / "grow.py").write_text(V2)  # an "upgrade" between start and resume
    second = evonas_cli("resume", "run", "--budget", "11evals", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "stopped: budget reached: 11 evaluations" in second.stdout
    after = evonas.load_run(tmp_path / "run")
    history = after.history()
    assert [i.id for i in history[:5]] == [i.id for i in before]
    assert [i.genome.hash for i in history[:5]] == [i.genome.hash for i in before]
    ids = [i.id for i in history]
    assert len(history) == 11 and len(set(ids)) == 11
    assert after.stop_reason() == "budget reached: 11 evaluations"
