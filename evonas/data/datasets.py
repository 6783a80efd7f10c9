"""Datasets as uint8 image tensors, with a seeded validation split and fidelity options.

Every dataset ends up as a :class:`TaskData`: ``uint8`` images ``(N, C, H, W)`` and ``int64``
labels for train, validation and test, plus normalisation statistics. Keeping images as
uint8 tensors lets the trainer put a whole dataset on the GPU and augment it there.

Sources: Fashion-MNIST from IDX ``.gz`` files (see :func:`find_fashion_mnist` for where
they are looked for), CIFAR-10 through torchvision, a user's own tensors or torch Dataset,
and a small synthetic task for tests.
"""

from __future__ import annotations

import gzip
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from evonas.core.errors import UserError
from evonas.core.registry import Registry

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FASHION_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


class DataOptionError(UserError, ValueError):
    """A loader's option out of range; ``key`` names it (``n_train``), so the message can
    point at ``data.options.n_train``."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


class DataNotFoundError(UserError, FileNotFoundError):
    """A dataset's files were not found; the message says where to put or get them."""


@dataclass(frozen=True)
class TaskData:
    """Images (uint8, N x C x H x W) and labels (int64) of one classification task."""

    name: str  # e.g. "fashion_mnist"
    train_x: torch.Tensor  # training part (validation carved out of the original train set)
    train_y: torch.Tensor
    val_x: torch.Tensor  # validation split: what candidates are scored on
    val_y: torch.Tensor
    test_x: torch.Tensor  # touched only for a final report of chosen models
    test_y: torch.Tensor
    num_classes: int
    mean: tuple[float, ...]  # per-channel mean of the training images, in [0, 1] units
    std: tuple[float, ...]  # per-channel std of the training images, in [0, 1] units
    flip: bool  # horizontal flips are label-preserving for this data
    crop_padding: int  # pixels of padding for random-crop augmentation (0: none)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        c, h, w = self.train_x.shape[1:]
        return int(c), int(h), int(w)

    def describe(self) -> str:
        c, h, w = self.input_shape
        return (
            f"{self.name}: {len(self.train_y)} train / {len(self.val_y)} val / "
            f"{len(self.test_y)} test images of {c}x{h}x{w}, {self.num_classes} classes"
        )


def make_task(
    name: str,
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    *,
    num_classes: int | None = None,
    val_fraction: float = 0.1,
    train_fraction: float = 1.0,
    resolution: int | None = None,
    seed: int = 0,
    flip: bool = False,
    crop_padding: int = 0,
) -> TaskData:
    """Builds a task from uint8 train/test tensors: a seeded validation split carved from
    the training set, then the lower-fidelity options.

    Args:
        val_fraction: share of the original training set held out for validation.
        train_fraction: share of the remaining training images kept (lower fidelity).
        resolution: resize images to ``resolution x resolution`` (lower fidelity).
        seed: seeds the split and the subsampling.
    """
    x, y = _check_images(name, *train)
    tx, ty = _check_images(name, *test)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction}")
    if not 0.0 < train_fraction <= 1.0:
        raise ValueError(f"train_fraction must lie in (0, 1], got {train_fraction}")
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(y), generator=gen)
    n_val = max(1, round(len(y) * val_fraction))
    val_idx, train_idx = order[:n_val], order[n_val:]
    train_idx = train_idx[: max(1, round(len(train_idx) * train_fraction))]
    if resolution is not None:
        x, tx = _resize(x, resolution), _resize(tx, resolution)
    train_x = x[train_idx]
    scaled = train_x.float().div_(255)
    classes = num_classes if num_classes is not None else int(max(y.max(), ty.max())) + 1
    return TaskData(
        name=name,
        train_x=train_x.contiguous(),
        train_y=y[train_idx].contiguous(),
        val_x=x[val_idx].contiguous(),
        val_y=y[val_idx].contiguous(),
        test_x=tx.contiguous(),
        test_y=ty.contiguous(),
        num_classes=classes,
        mean=tuple(float(v) for v in scaled.mean(dim=(0, 2, 3))),
        std=tuple(float(v) for v in scaled.std(dim=(0, 2, 3)).clamp_min(1e-3)),
        flip=flip,
        crop_padding=crop_padding,
    )


def _check_images(name: str, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if x.dim() == 3:
        x = x.unsqueeze(1)
    if x.dim() != 4:
        raise ValueError(
            f"{name}: images must be N x C x H x W (or N x H x W), got {tuple(x.shape)}"
        )
    if x.dtype != torch.uint8:
        if x.is_floating_point() and float(x.max()) <= 1.0:
            x = (x * 255).round()
        x = x.clamp(0, 255).to(torch.uint8)
    y = y.long().flatten()
    if len(x) != len(y):
        raise ValueError(f"{name}: {len(x)} images but {len(y)} labels")
    if len(y) < 2:
        raise ValueError(f"{name}: at least 2 images are needed")
    return x, y


def _resize(x: torch.Tensor, side: int) -> torch.Tensor:
    if x.shape[-1] == side and x.shape[-2] == side:
        return x
    out = F.interpolate(
        x.float(), size=(side, side), mode="bilinear", antialias=True, align_corners=False
    )
    return out.round().clamp(0, 255).to(torch.uint8)


# --- Fashion-MNIST ------------------------------------------------------------------------


def read_idx(path: Path) -> torch.Tensor:
    """Reads an IDX file (optionally gzip-compressed) of unsigned bytes."""
    opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes (header {data[:4]!r})")
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise ValueError(
            f"{path}: truncated IDX file ({array.size} of {int(np.prod(shape))} bytes)"
        )
    return torch.from_numpy(array.copy()).reshape(shape)


def find_fashion_mnist(root: str | os.PathLike[str] | None = None) -> Path | None:
    """The folder holding the four Fashion-MNIST IDX ``.gz`` files: under ``root`` only,
    when given (a typo must not silently train on other data); else ``$EVONAS_DATA``, then
    the Debian package's ``/usr/share/datasets/fashion-mnist``. Each may hold the files
    directly or under ``fashion-mnist/`` or ``FashionMNIST/raw/``."""
    if root:
        roots = [Path(root)]
    else:
        roots = [Path(p) for p in (os.environ.get("EVONAS_DATA"),) if p]
        roots.append(DEBIAN_FASHION_MNIST)
    for root in roots:
        for folder in (root, root / "fashion-mnist", root / "FashionMNIST" / "raw"):
            if all((folder / f).is_file() for f in FASHION_FILES.values()):
                return folder
    return None


def load_fashion_mnist(
    root: str | os.PathLike[str] | None = None, *, download: bool = False, **split: Any
) -> TaskData:
    """Fashion-MNIST (60k train, 10k test, 28x28x1, 10 classes).

    Looks for the files as :func:`find_fashion_mnist` says; with ``download=True`` and no
    files found, torchvision downloads them into ``root`` (or ``$EVONAS_DATA``).
    ``split`` goes to :func:`make_task` (val_fraction, train_fraction, resolution, seed).
    """
    folder = find_fashion_mnist(root)
    if folder is None and download:
        folder = _download_fashion_mnist(root)
    if folder is None:
        if root:
            raise DataNotFoundError(
                f"data.root = {str(root)!r}: no Fashion-MNIST files there (expected "
                f"{', '.join(FASHION_FILES.values())} in it, or in its fashion-mnist/ or "
                "FashionMNIST/raw/ folder); fix the path, or remove data.root to use "
                "$EVONAS_DATA or the Debian package's copy"
            )
        tried = [str(p) for p in (os.environ.get("EVONAS_DATA"),) if p]
        raise DataNotFoundError(
            f"Fashion-MNIST not found (looked in {', '.join([*tried, str(DEBIAN_FASHION_MNIST)])})"
            ". Do one of: install the Debian package 'dataset-fashion-mnist' "
            "(sudo apt-get install dataset-fashion-mnist); set data.root in the scenario to a "
            f"directory holding {', '.join(FASHION_FILES.values())}; set EVONAS_DATA to such a "
            "directory; or, on a machine that is online, allow the torchvision download "
            "(data.download = true)."
        )
    files = {k: read_idx(folder / f) for k, f in FASHION_FILES.items()}
    split.setdefault("flip", True)
    split.setdefault("crop_padding", 2)
    return make_task(
        "fashion_mnist",
        (files["train_images"], files["train_labels"]),
        (files["test_images"], files["test_labels"]),
        num_classes=10,
        **split,
    )


def _download_fashion_mnist(root: str | os.PathLike[str] | None) -> Path | None:
    from torchvision.datasets import FashionMNIST

    root = Path(root or os.environ.get("EVONAS_DATA") or Path.home() / ".cache" / "evonas")
    FashionMNIST(str(root), train=True, download=True)
    FashionMNIST(str(root), train=False, download=True)
    return find_fashion_mnist(root)


# --- CIFAR-10 -----------------------------------------------------------------------------


def load_cifar10(
    root: str | os.PathLike[str] | None = None, *, download: bool = False, **split: Any
) -> TaskData:
    """CIFAR-10 through torchvision from a local root (``root``, else ``$EVONAS_DATA``);
    ``download=True`` fetches it when the machine is online."""
    from torchvision.datasets import CIFAR10

    root = Path(root or os.environ.get("EVONAS_DATA") or Path.home() / ".cache" / "evonas")
    try:
        train = CIFAR10(str(root), train=True, download=download)
        test = CIFAR10(str(root), train=False, download=download)
    except RuntimeError as exc:
        raise DataNotFoundError(
            f"CIFAR-10 not found under {root} ({exc}). Put torchvision's "
            "'cifar-10-batches-py' folder there (data.root in the scenario, or EVONAS_DATA), "
            "or allow the download on a machine that is online (data.download = true)."
        ) from None

    def tensors(ds: Any) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.from_numpy(np.asarray(ds.data)).permute(0, 3, 1, 2).contiguous()
        return x, torch.as_tensor(ds.targets, dtype=torch.long)

    split.setdefault("flip", True)
    split.setdefault("crop_padding", 4)
    return make_task("cifar10", tensors(train), tensors(test), num_classes=10, **split)


# --- user data and synthetic data ---------------------------------------------------------


def from_tensors(
    name: str,
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor] | None = None,
    **split: Any,
) -> TaskData:
    """A user's own images (uint8, or float in [0, 1]) and labels. Without a test set, the
    validation split doubles as the test set."""
    task = make_task(name, train, test if test is not None else train, **split)
    if test is None:
        task = replace(task, test_x=task.val_x, test_y=task.val_y)
    return task


def from_torch_dataset(
    name: str,
    train: torch.utils.data.Dataset[Any],
    test: torch.utils.data.Dataset[Any] | None = None,
    **split: Any,
) -> TaskData:
    """A user's torch Dataset of ``(image, label)`` pairs (image a tensor, C x H x W)."""

    def stack(ds: torch.utils.data.Dataset[Any]) -> tuple[torch.Tensor, torch.Tensor]:
        pairs = [ds[i] for i in range(len(ds))]  # type: ignore[arg-type]
        x = torch.stack([torch.as_tensor(p[0]) for p in pairs])
        y = torch.as_tensor([int(p[1]) for p in pairs])
        return x, y

    return from_tensors(name, stack(train), stack(test) if test is not None else None, **split)


def synthetic(
    *,
    n_train: int = 512,
    n_test: int = 128,
    shape: tuple[int, int, int] = (1, 12, 12),
    num_classes: int = 4,
    seed: int = 0,
    **split: Any,
) -> TaskData:
    """A small, learnable image task for tests: each class is a random smooth template;
    images are a template, randomly shifted by up to 1 pixel, plus noise."""
    for key, value, least in (("n_train", n_train, 2), ("n_test", n_test, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise DataOptionError(key, f"must be an integer >= {least}, got {value!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise DataOptionError("num_classes", f"must be an integer >= 2, got {num_classes!r}")
    dims = list(shape) if isinstance(shape, (list, tuple)) else []
    if len(dims) != 3 or not all(isinstance(d, int) and d >= 1 for d in dims) or dims[0] > 4:
        raise DataOptionError(
            "shape", f"must be [channels (1-4), height, width], positive integers, got {shape!r}"
        )
    gen = torch.Generator().manual_seed(seed)
    templates = F.avg_pool2d(torch.rand((num_classes, *shape), generator=gen), 3, 1, 1)

    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.randint(num_classes, (n,), generator=gen)
        x = templates[y]
        shift = torch.randint(-1, 2, (2,), generator=gen)
        x = torch.roll(x, shifts=(int(shift[0]), int(shift[1])), dims=(2, 3))
        x = x + 0.15 * torch.randn(x.shape, generator=gen)
        return (x.clamp(0, 1) * 255).round().to(torch.uint8), y

    split.setdefault("seed", seed)
    return make_task("synthetic", draw(n_train), draw(n_test), num_classes=num_classes, **split)


DATASETS: Registry[TaskData] = Registry("dataset", TaskData)
"""Registered datasets: loader functions returning :class:`TaskData`. A loader declares the
scenario keys it accepts by its signature: ``root`` and ``download`` (``[data]``) are passed
only to loaders that name them; every loader takes the split keys (``val_fraction``,
``train_fraction``, ``resolution``, ``seed``) and its own ``data.options``."""

DATASETS.register("fashion_mnist", load_fashion_mnist)
DATASETS.register("cifar10", load_cifar10)
DATASETS.register("synthetic", synthetic)


def load_dataset(ref: str | Callable[..., TaskData], **kwargs: Any) -> TaskData:
    """A registered dataset (``fashion_mnist``, ``cifar10``, ``synthetic``), a
    ``"module:function"`` path or a loader function, loaded with ``kwargs``."""
    return DATASETS.create(ref, **kwargs)
