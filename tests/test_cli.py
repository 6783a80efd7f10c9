"""The command line end to end, on synthetic data the tests write themselves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import evonas
from evonas.cli import main, parse_budget
from evonas.core import Budget
from evonas.export import load_exported
from evonas.record import load_run
from tests.plugins.tiny import tiny_scenario


def scenario(
    tmp_path: Path,
    evaluations: int = 8,
    strategy: str = "nsga2",
    params: str = "{ population_size = 4 }",
) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_scenario(evaluations=evaluations, strategy=strategy, params=params))
    return path


def events(run_dir: Path) -> list[dict]:
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def signature(run_dir: Path) -> list[tuple]:
    return [
        (e["id"], e["parent_id"], e["hash"], e["objectives"]["val_error"]) for e in events(run_dir)
    ]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evonas", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )


def test_run_show_plot_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "run"
    done = cli("run", str(scenario(tmp_path)), "--out", str(run_dir))
    assert done.returncode == 0, done.stderr
    assert "eval 8 |" in done.stdout  # plain progress lines when not on a terminal
    assert [e["id"] for e in events(run_dir)] == list(range(8))
    assert (run_dir / "pareto.csv").read_text().startswith("id,val_error,params,flops")

    assert main(["show", str(run_dir)]) == 0
    shown = capsys.readouterr().out
    assert "Pareto front of" in shown and "lineage" in shown
    front_ids = [i.id for i in load_run(run_dir).pareto_front()]
    assert all(f"\n{i} " in shown for i in front_ids)

    assert main(["plot", str(run_dir)]) == 0
    for name in ("front_pairs", "front_3d", "hypervolume", "front_evolution", "lineage"):
        for ext in ("png", "svg"):
            assert (run_dir / "plots" / f"{name}.{ext}").stat().st_size > 1000
    assert main(["compare", str(run_dir), str(run_dir), "--out", str(tmp_path / "cmp")]) == 0
    assert (tmp_path / "cmp" / "compare.png").stat().st_size > 1000

    run = load_run(run_dir)
    best = run.pareto_front()[0].id
    x = torch.rand(5, 1, 8, 8)
    mean, std = torch.tensor(run.mean).view(1, -1, 1, 1), torch.tensor(run.std).view(1, -1, 1, 1)
    expected = run.model(best)((x - mean) / std)
    assert main(["export", str(run_dir), str(best), "--out", str(tmp_path / "m.pt")]) == 0
    assert torch.allclose(load_exported(tmp_path / "m.pt")(x), expected, atol=1e-5)
    assert (
        main(
            [
                "export",
                str(run_dir),
                str(best),
                "--format",
                "torchscript",
                "--out",
                str(tmp_path / "m.ts"),
            ]
        )
        == 0
    )
    assert torch.allclose(torch.jit.load(str(tmp_path / "m.ts"))(x), expected, atol=1e-5)
    capsys.readouterr()
    pt2 = tmp_path / "m.pt2"
    assert (
        main(["export", str(run_dir), str(best), "--format", "exported_program", "--out", str(pt2)])
        == 0
    )
    assert torch.allclose(torch.export.load(str(pt2)).module()(x), expected, atol=1e-5)
    assert main(["export", str(run_dir), "--best", "val_error", "--retrain-epochs", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "from its searched weights for 0.5 epochs on the full training split" in out
    assert "test accuracy: " in out
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    path = tmp_path / "m.onnx"
    assert main(["export", str(run_dir), str(best), "--format", "onnx", "--out", str(path)]) == 0
    onnx.checker.check_model(onnx.load(str(path)))
    out = capsys.readouterr().out
    if "onnxruntime" in out:
        diff = float(out.split("max abs difference of the logits: ")[1].split()[0])
        assert diff < 1e-4


def test_sigkill_then_resume_continues_as_the_original(tmp_path: Path) -> None:
    path = scenario(
        tmp_path, evaluations=14, strategy="lemonade", params="{ n_children = 4, n_accept = 2 }"
    )
    reference = tmp_path / "reference"
    evonas.run(path, out=reference)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "evonas", "run", str(path), "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        if (killed / "events.jsonl").exists() and len(events(killed)) >= 5:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert 5 <= len(events(killed)) < 14
    done = cli("resume", str(killed))
    assert done.returncode == 0, done.stderr
    assert [e["id"] for e in events(killed)] == list(range(14))  # nothing lost or duplicated
    assert signature(killed) == signature(reference)  # and the same search as uninterrupted


def test_damaged_checkpoint_resumes_from_the_last_good_state(tmp_path: Path) -> None:
    path = scenario(tmp_path, evaluations=8)
    reference = tmp_path / "reference"
    evonas.run(path, out=reference)
    damaged = tmp_path / "damaged"
    evonas.run(path, out=damaged)
    weights = damaged / "weights" / "5.pt"
    weights.write_bytes(weights.read_bytes()[:100])  # truncated
    with (damaged / "events.jsonl").open("a") as f:
        f.write('{"id": 8, "torn')  # a line cut by a crash
    with pytest.warns(UserWarning, match=r"weights file .*5\.pt is corrupted or truncated"):
        evonas.resume(damaged)
    assert signature(damaged) == signature(reference)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "batch_size = 32",
            "batch_sise = 32",
            "unknown key 'trainer.batch_sise' (did you mean 'batch_size'?)",
        ),
        (
            "batch_size = 32",
            'batch_size = "big"',
            "trainer.batch_size: expected an integer, got str 'big'",
        ),
        (
            'dataset = "synthetic"',
            'dataset = "synthetic"\nval_fraction = 1.5',
            "data.val_fraction: must lie in (0, 1)",
        ),
        (
            'name = "nsga2"',
            'name = "nsga"',
            "strategy: unknown strategy 'nsga' (did you mean 'nsga2'?)",
        ),
        (
            'name = "params"',
            'name = "paramz"',
            "objectives[1] ('paramz'): unknown objective 'paramz'",
        ),
        (
            'name = "params"',
            'name = "mypkg.nothere:energy"',
            "cannot import module 'mypkg.nothere'",
        ),
        ("evaluations = 8", "evaluations = 0", "budget.evaluations: must be a finite number > 0"),
        ("[budget]", "[budget", "not valid TOML"),
        ('name = "nsga2"', 'name = "nsga2"\nparams_ = 1', "unknown key 'strategy.params_'"),
        (
            "population_size = 4",
            "population_size = 1",
            "strategy: nsga2 population_size must be >= 2",
        ),
    ],
)
def test_bad_scenario_fails_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, message: str
) -> None:
    path = scenario(tmp_path)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    out = tmp_path / "never"
    assert main(["run", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert message in err
    assert not (out / "events.jsonl").exists()


def test_python_api_mirrors_the_cli(tmp_path: Path) -> None:
    run = evonas.run(scenario(tmp_path, evaluations=5), out=tmp_path / "api")
    assert len(run.history()) == 5 and run.pareto_front()
    again = evonas.load_run(tmp_path / "api")
    assert [i.id for i in again.pareto_front()] == [i.id for i in run.pareto_front()]
    assert again.model(run.pareto_front()[0].id)(torch.rand(2, 1, 8, 8)).shape == (2, 3)
    finished = evonas.resume(tmp_path / "api", budget=Budget(evaluations=7))
    assert [i.id for i in finished.history()] == list(range(7))


def test_list_says_which_morphisms_only_run_where_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["list", "morphisms"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("morphisms: add_reduce, add_skip, deepen")
    assert "remove_reduce (only where named)" in line
    assert "widen (" not in line


def test_budget_parsing() -> None:
    assert parse_budget("10m") == ("minutes", 10.0)
    assert parse_budget("90s") == ("minutes", 1.5)
    assert parse_budget("2h") == ("minutes", 120.0)
    assert parse_budget("100evals") == ("evaluations", 100)
    assert parse_budget("20epochs") == ("epochs", 20.0)


def test_the_command_line_starts_without_torch() -> None:
    """--help and --version answer at once: nothing heavy is imported for them."""
    code = (
        "import sys, evonas.cli; "
        "print(sorted(m for m in ('torch', 'numpy', 'pymoo') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    version = subprocess.run(
        [sys.executable, "-m", "evonas", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == f"evonas {evonas.__version__}"


def test_show_heads_its_table_and_a_network_as_everything_else_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(tiny_scenario(evaluations=3))
    assert main(["run", str(scenario), "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    assert main(["show", str(tmp_path / "run"), "--all", "--id", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"Every network of {tmp_path / 'run'}, the front first: 3 networks")
    assert "lower is better for val_error" in out[0]
    assert any(line.startswith("#1: ") for line in out)
    assert not any("k FLOPs" not in line and "K FLOPs" in line for line in out)
