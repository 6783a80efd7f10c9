"""Data loading as a user meets it: real files, helpful errors, seeded splits, fidelity."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from evonas.data import (
    DataNotFoundError,
    find_fashion_mnist,
    from_tensors,
    from_torch_dataset,
    load_dataset,
    load_fashion_mnist,
    read_idx,
    synthetic,
)
from evonas.data.datasets import FASHION_FILES


def write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_fashion(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    write_idx(tmp_path / FASHION_FILES["train_images"], rng.integers(0, 256, (200, 28, 28)))
    write_idx(tmp_path / FASHION_FILES["train_labels"], rng.integers(0, 10, 200))
    write_idx(tmp_path / FASHION_FILES["test_images"], rng.integers(0, 256, (50, 28, 28)))
    write_idx(tmp_path / FASHION_FILES["test_labels"], rng.integers(0, 10, 50))
    return tmp_path


def test_idx_round_trip(tmp_path: Path) -> None:
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "x.gz", a)
    assert read_idx(tmp_path / "x.gz").tolist() == a.tolist()


def test_fashion_from_a_given_directory(fake_fashion: Path) -> None:
    task = load_fashion_mnist(fake_fashion, val_fraction=0.1, seed=1)
    assert task.input_shape == (1, 28, 28) and task.num_classes == 10
    assert (len(task.train_y), len(task.val_y), len(task.test_y)) == (180, 20, 50)
    assert task.train_x.dtype == torch.uint8


def test_fashion_from_env(fake_fashion: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVONAS_DATA", str(fake_fashion))
    assert find_fashion_mnist() == fake_fashion


def test_missing_data_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVONAS_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setattr("evonas.data.datasets.DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    with pytest.raises(DataNotFoundError) as err:
        load_fashion_mnist()
    text = str(err.value)
    for hint in ("dataset-fashion-mnist", "EVONAS_DATA", "data.download", "data.root"):
        assert hint in text


def test_a_data_root_that_is_wrong_is_not_replaced_by_another_copy(
    tmp_path: Path, fake_fashion: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVONAS_DATA", str(fake_fashion))  # a copy exists elsewhere
    with pytest.raises(DataNotFoundError, match=r"data.root = '.*empty': no Fashion-MNIST"):
        load_fashion_mnist(tmp_path / "empty")


def test_split_is_seeded_and_disjoint() -> None:
    x = torch.arange(100, dtype=torch.uint8).view(100, 1, 1, 1).expand(100, 1, 4, 4).contiguous()
    y = torch.arange(100) % 3
    a = from_tensors("t", (x, y), (x, y), val_fraction=0.2, seed=5)
    b = from_tensors("t", (x, y), (x, y), val_fraction=0.2, seed=5)
    c = from_tensors("t", (x, y), (x, y), val_fraction=0.2, seed=6)
    ids = lambda t: set(t[:, 0, 0, 0].tolist())  # noqa: E731
    assert ids(a.val_x) == ids(b.val_x) != ids(c.val_x)
    assert not ids(a.val_x) & ids(a.train_x)
    assert len(ids(a.val_x) | ids(a.train_x)) == 100


def test_lower_fidelity_options() -> None:
    task = synthetic(n_train=400, shape=(3, 16, 16), train_fraction=0.5, resolution=8)
    assert task.input_shape == (3, 8, 8)
    assert len(task.train_y) == 180  # 400 - 10% validation, then half


def test_user_tensors_and_dataset() -> None:
    x = torch.rand(40, 3, 8, 8)
    y = torch.randint(0, 2, (40,))
    task = from_tensors("mine", (x, y))
    assert task.input_shape == (3, 8, 8) and task.train_x.dtype == torch.uint8
    ds = torch.utils.data.TensorDataset(x, y)
    assert from_torch_dataset("mine", ds).input_shape == (3, 8, 8)


def test_registry_and_debian_dataset_when_installed() -> None:
    assert load_dataset("synthetic", n_train=64).name == "synthetic"
    if find_fashion_mnist() is None:
        pytest.skip("dataset-fashion-mnist not installed")
    task = load_fashion_mnist(train_fraction=0.01)
    assert len(task.test_y) == 10_000 and len(task.val_y) == 6000
