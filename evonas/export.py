"""Exporting a searched network for use outside evonas: a state dict, TorchScript or ONNX,
each taking images scaled to [0, 1] and normalising them itself."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from evonas.data.datasets import TaskData
from evonas.model.builder import build_model
from evonas.record.run import Run
from evonas.record.run_record import RecordError, safe_folder
from evonas.scenario.build import load_data
from evonas.space.genome import Genome
from evonas.trainer.trainer import Trainer

FORMATS = ("state_dict", "exported_program", "onnx", "torchscript")


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


@dataclass(frozen=True)
class Exported:
    """What :func:`export_model` wrote."""

    path: Path
    weights: str  # where the exported weights come from, in words
    test_accuracy: float | None = None  # after retraining, on the test split
    onnx_max_abs_diff: float | None = None  # onnxruntime vs torch, on a batch of images


def export_model(
    run: Run,
    ident: int,
    *,
    fmt: str = "state_dict",
    out: Path | None = None,
    retrain_epochs: float = 0.0,
    from_scratch: bool = False,
) -> Exported:
    """Writes candidate ``ident`` for use outside evonas.

    The exported network takes images scaled to [0, 1] (N x C x H x W, any N) and
    normalises them itself. Formats: ``state_dict`` (a ``.pt`` with the genome, shapes and
    weights; rebuild with :func:`load_exported`), ``exported_program`` (``torch.export``,
    a ``.pt2`` for ``torch.export.load``), ``onnx`` (the ``torch.export``-based exporter;
    checked against the torch model with onnxruntime when it is installed), ``torchscript``
    (``torch.jit.load``, kept while torch supports it).

    With ``retrain_epochs``, the network is first trained on the full training split (the
    search may have used a fraction of it), continuing from its searched weights, or from
    scratch with ``from_scratch`` (LEMONADE's protocol), and its test accuracy is measured.
    """
    if fmt not in FORMATS:
        raise RecordError(f"export format {fmt!r}: use one of {', '.join(FORMATS)}")
    ind = run.individual(ident)
    net = run.model(ident)
    weights = f"the search's weights of candidate {ident}"
    test_acc = None
    data: TaskData | None = None
    if retrain_epochs > 0:
        s = run.scenario
        data = load_data(
            dataclasses.replace(s, data=dataclasses.replace(s.data, train_fraction=1.0))
        )
        trainer = Trainer(data, s.trainer, s.device)
        state = None if from_scratch else run.record.load_weights(ident)
        result = trainer.train(ind.genome, state, seed=s.seed, epochs=retrain_epochs)
        if not result.ok or result.state is None:
            raise RecordError(f"retraining candidate {ident} failed: {result.error}")
        net = build_model(ind.genome, run.input_shape, run.num_classes, result.state).eval()
        test_acc = 1.0 - trainer.evaluate(trainer.build(ind.genome, result.state, 0), "test")
        start = "from scratch" if from_scratch else "from its searched weights"
        weights = (
            f"retrained {start} for {retrain_epochs:g} epochs on the full training split "
            f"({len(data.train_y)} images; the validation split held out)"
        )
    model = Normalised(net, run.mean, run.std).eval()
    path = out or run.dir / "export" / f"{ident}{SUFFIX[fmt]}"
    safe_folder(path.parent)
    if path.is_symlink():
        raise RecordError(f"{path} is a symbolic link; remove it, or export with --out")
    example = torch.rand((2, *run.input_shape))  # 2: a batch size torch.export keeps dynamic
    batch = {"x": {0: torch.export.Dim("batch", min=1, max=65536)}}
    diff = None
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
    elif fmt == "exported_program":
        torch.export.save(torch.export.export(model, (example,), dynamic_shapes=batch), path)
    elif fmt == "torchscript":
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TorchScript's deprecation notice, every call
            torch.jit.trace(model, example).save(str(path))
    else:
        if importlib.util.find_spec("onnxscript") is None:
            raise RecordError(
                "ONNX export needs the 'onnx' and 'onnxscript' packages: pip install 'evonas[onnx]'"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (example,),
                str(path),
                dynamo=True,
                input_names=["image"],
                output_names=["logits"],
                dynamic_shapes=batch,
                verbose=False,
                # one self-contained file (searched networks are far below 2 GB): a
                # separate .onnx.data would break a copy of the .onnx alone
                external_data=False,
            )
        diff = check_onnx(path, model, _images(run, data))
    return Exported(path, weights, test_acc, diff)


SUFFIX = {
    "state_dict": ".pt",
    "exported_program": ".pt2",
    "onnx": ".onnx",
    "torchscript": ".torchscript.pt",
}


def check_onnx(path: Path, model: nn.Module, images: torch.Tensor) -> float | None:
    """Max absolute difference of the ONNX model's logits (onnxruntime) from the torch
    model's on ``images``; None when onnxruntime is not installed."""
    if importlib.util.find_spec("onnxruntime") is None:
        return None
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"image": images.numpy()})[0]
    with torch.no_grad():
        expected = model(images).numpy()
    return float(abs(got - expected).max())


def _images(run: Run, data: TaskData | None, n: int = 32) -> torch.Tensor:
    """A batch of the run's own test images in [0, 1] (random ones if the data is gone)."""
    try:
        data = data or load_data(run.scenario)
        return data.test_x[:n].float() / 255.0
    except Exception:  # the data is not on this machine any more: still check the graph
        return torch.rand((n, *run.input_shape), generator=torch.Generator().manual_seed(0))


def load_exported(path: str | os.PathLike[str]) -> nn.Module:
    """Rebuilds a network exported with ``format="state_dict"`` (takes images in [0, 1])."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    genome = Genome.from_dict(saved["genome"])
    c, h, w = (int(v) for v in saved["input_shape"])
    net = build_model(genome, (c, h, w), int(saved["num_classes"]), saved["state_dict"])
    return Normalised(net, saved["mean"], saved["std"]).eval()
