"""What export leaves on disk: one ONNX file (a copy of it alone works), no warnings for
TorchScript."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import evonas
from evonas.export import export_model
from tests.plugins.tiny import tiny_scenario


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("export")
    (tmp / "tiny.toml").write_text(tiny_scenario(evaluations=2))
    return evonas.run(tmp / "tiny.toml", out=tmp / "run").dir


def test_onnx_export_is_one_self_contained_file(run_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxscript")
    result = export_model(evonas.load_run(run_dir), 0, fmt="onnx", out=tmp_path / "net.onnx")
    assert [p.name for p in tmp_path.iterdir()] == ["net.onnx"]
    assert result.onnx_max_abs_diff is None or result.onnx_max_abs_diff < 1e-4


def test_torchscript_export_warns_of_nothing(run_dir: Path, tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export_model(evonas.load_run(run_dir), 0, fmt="torchscript", out=tmp_path / "n.pt")
    assert not caught, [str(w.message) for w in caught]
