"""Ray not installed: a scenario naming the ``ray`` executor is refused when it is read,
in one line naming the key, and nothing is written that would block the corrected run."""

from __future__ import annotations

from pathlib import Path

import pytest

import evonas
from evonas.executor import ray_executor
from evonas.scenario import ScenarioError
from tests.plugins.tiny import tiny_scenario


def test_ray_missing_is_said_before_the_run_directory_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing() -> None:
        raise ray_executor.RayMissing("the 'ray' executor needs Ray: pip install 'evonas[ray]'")

    monkeypatch.setattr(ray_executor, "import_ray", missing)
    path = tmp_path / "ray.toml"
    path.write_text(tiny_scenario(evaluations=2, extra='[executor]\nkind = "ray"\n'))
    out = tmp_path / "run"
    with pytest.raises(
        ScenarioError, match=r"executor.kind = 'ray': .*pip install 'evonas\[ray\]'"
    ):
        evonas.run(path, out=out)
    assert not out.exists()
    path.write_text(tiny_scenario(evaluations=2))  # the corrected run goes where it was asked
    assert len(evonas.run(path, out=out).history()) == 2
