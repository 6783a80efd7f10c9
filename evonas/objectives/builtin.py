"""Built-in objectives: validation error, parameters, FLOPs, latency, peak training memory."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from evonas.model.builder import build_model, count_params
from evonas.objectives.base import EvalContext, Objective, register_objective
from evonas.trainer.trainer import resolve_device


@register_objective("val_error")
class ValError(Objective):
    """Validation error (1 - accuracy) after training; needs training.

    For hypervolume it is normalised on a log scale between 1% and 100% error (fixed, so runs
    compare): halving the error is worth the same at 20% as at 4%. On a linear [0, 1] scale,
    halving every front member's error moved the hypervolume by a few percent only, and the
    difference between searches hid under the part of the scale no network reaches.
    """

    direction = "min"
    cheap = False
    bounds = (0.01, 1.0)
    published_bounds = True
    in_process = True  # evonas's own, of known cost
    log_scale = True

    def __call__(self, ctx: EvalContext) -> float:
        if ctx.train is None:
            raise ValueError("val_error needs a trained candidate (it is not a cheap objective)")
        return float(ctx.train.val_error)


@register_objective("params")
class Params(Objective):
    """Number of trainable parameters, head included."""

    direction = "min"
    cheap = True
    bounds = (1e3, 1e8)
    published_bounds = True
    in_process = True  # evonas's own, of known cost
    log_scale = True

    def __call__(self, ctx: EvalContext) -> float:
        return float(count_params(ctx.genome, ctx.input_shape, ctx.num_classes))


@register_objective("flops")
class Flops(Objective):
    """FLOPs of one forward pass on one image, counted by ``torch.utils.flop_counter``.

    Convention: one multiply-add is 2 FLOPs (a ``k x k`` conv from ``c_in`` to ``c_out`` on an
    ``h x w`` output costs ``2 * c_out * c_in * k^2 * h * w``); only convolutions and matrix
    products are counted, as by ``FlopCounterMode``.
    """

    direction = "min"
    cheap = True
    unit = "FLOPs"
    bounds = (1e5, 1e11)
    published_bounds = True
    in_process = True  # evonas's own, of known cost
    log_scale = True

    @torch.no_grad()
    def __call__(self, ctx: EvalContext) -> float:
        x = torch.zeros((1, *ctx.input_shape))
        with FlopCounterMode(display=False) as counter:
            ctx.model()(x)
        return float(counter.get_total_flops())


@register_objective("latency")
class Latency(Objective):
    """Median inference latency in seconds, measured with ``torch.utils.benchmark``.

    After ``warmup`` runs, ``blocks`` timed blocks of equal size (each about
    ``block_seconds``) are run; the value is the median time per forward pass over blocks
    and :meth:`details` records the IQR, threads, batch and device. Results are cached per
    genome hash (and input shape), so a network is measured once per run.

    Args:
        device: where to measure ("cpu" by default: deployment latency, stable on a shared
            GPU machine); "auto" or "cuda" measure on the GPU.
        batch_size: images per forward pass (1: online inference).
        threads: torch intra-op threads while timing (fixed, so numbers compare).
    """

    direction = "min"
    cheap = True
    unit = "s"
    bounds = (1e-5, 1.0)
    published_bounds = True
    in_process = True  # evonas's own, of known cost
    log_scale = True

    def __init__(
        self,
        *,
        device: str = "cpu",
        batch_size: int = 1,
        threads: int = 1,
        warmup: int = 10,
        blocks: int = 21,
        block_seconds: float = 0.02,
    ) -> None:
        if batch_size < 1 or threads < 1 or blocks < 3:
            raise ValueError("latency needs batch_size >= 1, threads >= 1 and blocks >= 3")
        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.threads = threads
        self.warmup = warmup
        self.blocks = blocks
        self.block_seconds = block_seconds
        self._cache: dict[tuple[str, tuple[int, int, int]], dict[str, Any]] = {}

    def measure(self, ctx: EvalContext) -> dict[str, Any]:
        """Times the network (or returns the cached measurement)."""
        key = (ctx.genome.hash, ctx.input_shape)
        if key in self._cache:
            return self._cache[key]
        model = build_model(ctx.genome, ctx.input_shape, ctx.num_classes).eval().to(self.device)
        x = torch.randn((self.batch_size, *ctx.input_shape), device=self.device)
        timer = _benchmark().Timer(
            stmt="model(x)", globals={"model": model, "x": x}, num_threads=self.threads
        )
        # Thread count and grad mode are set once around the whole measurement: switching
        # the intra-op pool's size for every block added noise of its own.
        threads = torch.get_num_threads()
        try:
            torch.set_num_threads(self.threads)
            with torch.inference_mode():
                timer.timeit(self.warmup)
                per_run = timer.timeit(3).median
                number = max(1, int(self.block_seconds / max(per_run, 1e-7)))
                times = np.array([timer.timeit(number).median for _ in range(self.blocks)])
        finally:
            torch.set_num_threads(threads)
        q1, med, q3 = np.percentile(times, [25, 50, 75])
        result = {
            "median_s": float(med),
            "iqr_s": float(q3 - q1),
            "threads": self.threads,
            "batch_size": self.batch_size,
            "device": self.device.type,
            "blocks": self.blocks,
            "runs_per_block": number,
        }
        self._cache[key] = result
        return result

    def __call__(self, ctx: EvalContext) -> float:
        return float(self.measure(ctx)["median_s"])

    def details(self, ctx: EvalContext) -> dict[str, Any]:
        return dict(self.measure(ctx))


@register_objective("peak_memory")
class PeakMemory(Objective):
    """Peak GPU memory allocated while training, in bytes (CUDA only)."""

    direction = "min"
    cheap = False
    unit = "B"
    bounds = (1e6, 1e11)
    published_bounds = True
    in_process = True  # evonas's own, of known cost
    log_scale = True

    def check_device(self, device: torch.device) -> None:
        if device.type != "cuda":
            raise ValueError(
                f"objective 'peak_memory' is measured on CUDA only; training runs on "
                f"{device.type!r}. Remove it, or train on a GPU (device = 'cuda')."
            )

    def __call__(self, ctx: EvalContext) -> float:
        if ctx.train is None or ctx.train.peak_memory_bytes is None:
            raise ValueError("peak_memory needs a candidate trained on CUDA")
        return float(ctx.train.peak_memory_bytes)


def _benchmark() -> Any:
    """``torch.utils.benchmark``, imported on first use without its CUDA_HOME log line."""
    log = logging.getLogger("torch.utils.cpp_extension")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        from torch.utils import benchmark
    finally:
        log.setLevel(level)
    return benchmark
