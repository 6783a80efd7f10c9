"""Data: tasks as uint8 image tensors with a seeded validation split."""

from evonas.data.datasets import (
    DATASETS,
    DataNotFoundError,
    TaskData,
    find_fashion_mnist,
    from_tensors,
    from_torch_dataset,
    load_cifar10,
    load_dataset,
    load_fashion_mnist,
    make_task,
    read_idx,
    synthetic,
)

list_datasets = DATASETS.names

__all__ = [
    "DATASETS",
    "DataNotFoundError",
    "TaskData",
    "find_fashion_mnist",
    "from_tensors",
    "from_torch_dataset",
    "list_datasets",
    "load_cifar10",
    "load_dataset",
    "load_fashion_mnist",
    "make_task",
    "read_idx",
    "synthetic",
]
