"""Trainer throughput: evonas' trainer against a plain PyTorch loop, same network, same images.

The plain loop is what a user would write first: a torch DataLoader over a TensorDataset of
float32 images (default settings, shuffle), fp32, SGD. The evonas trainer runs with its
defaults for the device (on-device uint8 data and augmentation; bf16 and channels_last on
CUDA). The two alternate ``--rounds`` times in one process; the figure is the ratio of the
median images/second.

Last line: ``throughput_ratio=<evonas/plain> device=<cpu|cuda>``
(target: >= 1.0 on CPU, >= 2.0 on CUDA).

    python benchmarks/trainer_throughput.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from evonas.data import TaskData, load_fashion_mnist, synthetic
from evonas.data.datasets import DataNotFoundError
from evonas.model import build_model, init_weights
from evonas.space import simple_genome
from evonas.trainer import Trainer, TrainSettings, resolve_device


def plain_loop(
    data: TaskData,
    genome_channels: tuple[int, ...],
    images: int,
    device: torch.device,
    batch_size: int,
) -> float:
    """Images per second of a textbook training loop."""
    genome = simple_genome(channels=genome_channels, convs_per_stage=2)
    model = build_model(genome, data.input_shape, data.num_classes)
    init_weights(model, torch.Generator().manual_seed(0))
    model = model.to(device).train()
    mean = torch.tensor(data.mean).view(1, -1, 1, 1)
    std = torch.tensor(data.std).view(1, -1, 1, 1)
    x = (data.train_x.float() / 255 - mean) / std
    loader = DataLoader(TensorDataset(x, data.train_y), batch_size=batch_size, shuffle=True)
    opt = torch.optim.SGD(
        model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    seen = 0
    start = time.perf_counter()
    while seen < images:
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += len(yb)
            if seen >= images:
                break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - start)


def evonas_loop(trainer: Trainer, genome_channels: tuple[int, ...], images: int) -> float:
    genome = simple_genome(channels=genome_channels, convs_per_stage=2)
    steps = images // trainer.config.batch_size
    result = trainer.train(genome, seed=0, steps=steps)
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    assert result.ok, result.error
    return result.images_per_second


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--images", type=int, default=None, help="images per measurement")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    images = args.images or (20_000 if device.type == "cuda" else 6_000)
    try:
        data = load_fashion_mnist()
    except DataNotFoundError:
        print("Fashion-MNIST not found: using synthetic 28x28 data")
        data = synthetic(n_train=20_000, shape=(1, 28, 28), num_classes=10)
    channels = (16, 32, 64)
    trainer = Trainer(data, TrainSettings(batch_size=args.batch_size), device=str(device))
    # warm-up both paths (cuDNN autotuning, allocator, thread pools)
    evonas_loop(trainer, channels, args.batch_size * 5)
    plain_loop(data, channels, args.batch_size * 5, device, args.batch_size)
    ours, theirs = [], []
    for r in range(args.rounds):
        ours.append(evonas_loop(trainer, channels, images))
        theirs.append(plain_loop(data, channels, images, device, args.batch_size))
        print(f"round {r}: evonas {ours[-1]:.0f} img/s, plain {theirs[-1]:.0f} img/s")
    print(
        f"network: simple_genome{channels} x2 convs/stage, batch {args.batch_size}, "
        f"{images} images per measurement, {args.rounds} rounds, threads={torch.get_num_threads()}"
    )
    ratio = statistics.median(ours) / statistics.median(theirs)
    print(f"throughput_ratio={ratio:.3f} device={device.type}")


if __name__ == "__main__":
    main()
