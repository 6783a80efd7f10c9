"""Exporting a searched network for use outside evonas: a state dict, TorchScript or ONNX,
each taking images scaled to [0, 1] and normalising them itself."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from evonas.model.builder import build_model
from evonas.record.run import Run
from evonas.record.run_record import RecordError
from evonas.scenario.build import load_data
from evonas.space.genome import Genome
from evonas.trainer.trainer import Trainer

FORMATS = ("state_dict", "torchscript", "onnx")


class Normalised(nn.Module):
    """An exported network that takes images scaled to [0, 1] and normalises them itself."""

    def __init__(self, net: nn.Module, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.net = net
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(list(mean)).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(list(std)).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)


def export_model(
    run: Run,
    ident: int,
    *,
    fmt: str = "state_dict",
    out: Path | None = None,
    retrain_epochs: float = 0.0,
) -> tuple[Path, float | None]:
    """Writes candidate ``ident`` for use outside evonas; returns the file and, when
    retrained first, the test accuracy.

    The exported network takes images scaled to [0, 1] (N x C x H x W) and normalises them
    itself. Formats: ``state_dict`` (a ``.pt`` with the genome, shapes and weights; rebuild
    with :func:`load_exported`), ``torchscript`` (``torch.jit.load``), ``onnx``.
    """
    ind = run.individual(ident)
    net = run.model(ident)
    test_acc = None
    if retrain_epochs > 0:
        s = run.scenario
        trainer = Trainer(load_data(s), s.trainer, s.device)
        state = run.record.load_weights(ident)
        result = trainer.train(ind.genome, state, seed=run.scenario.seed, epochs=retrain_epochs)
        if not result.ok or result.state is None:
            raise RecordError(f"retraining candidate {ident} failed: {result.error}")
        net = build_model(ind.genome, run.input_shape, run.num_classes, result.state).eval()
        test_acc = 1.0 - trainer.evaluate(trainer.build(ind.genome, result.state, 0), "test")
    model = Normalised(net, run.mean, run.std).eval()
    suffix = {"state_dict": ".pt", "torchscript": ".torchscript.pt", "onnx": ".onnx"}[fmt]
    path = out or run.dir / "export" / f"{ident}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.rand((1, *run.input_shape))
    if fmt == "state_dict":
        saved = {
            "genome": ind.genome.to_dict(),
            "input_shape": list(run.input_shape),
            "num_classes": run.num_classes,
            "mean": list(run.mean),
            "std": list(run.std),
            "state_dict": net.state_dict(),
        }
        torch.save(saved, path)
    elif fmt == "torchscript":
        with torch.no_grad():
            torch.jit.trace(model, example).save(str(path))
    else:
        if importlib.util.find_spec("onnx") is None:
            raise RecordError("ONNX export needs the 'onnx' package: pip install 'evonas[onnx]'")
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}},
            dynamo=False,
        )
    return path, test_acc


def load_exported(path: str | os.PathLike[str]) -> nn.Module:
    """Rebuilds a network exported with ``format="state_dict"`` (takes images in [0, 1])."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    genome = Genome.from_dict(saved["genome"])
    c, h, w = (int(v) for v in saved["input_shape"])
    net = build_model(genome, (c, h, w), int(saved["num_classes"]), saved["state_dict"])
    return Normalised(net, saved["mean"], saved["std"]).eval()
