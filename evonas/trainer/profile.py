"""What the training device is like, decided once: the one place the trainer's code asks
which device it runs on. The loop, the batch source and the step read this profile instead of
branching on CUDA themselves, so a new device kind (or a graphed step) changes one object.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from evonas.trainer.settings import TrainSettings


def resolve_device(name: str = "auto") -> torch.device:
    """``"auto"``: CUDA if available, then MPS, then CPU; otherwise the named device."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ValueError(
            f"device {name!r} is not a device; use auto, cpu, cuda, cuda:N or mps"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {name!r} was asked for but CUDA is not available; use 'cpu' or 'auto'"
        )
    return device


def native_bf16(device: torch.device) -> bool:
    """Whether bf16 autocast runs natively on ``device``: CUDA, or a CPU whose oneDNN has
    bf16 kernels (AVX512-BF16 or AMX). Elsewhere bf16 is emulated, slower than fp32."""
    if device.type == "cuda":
        return True
    if device.type != "cpu":
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@dataclass(frozen=True)
class DeviceProfile:
    """How training runs on one device (see :meth:`for_device`)."""

    device: torch.device
    bf16: bool  # steps and evaluation under bf16 autocast
    memory_format: torch.memory_format  # of every image batch and of the model
    eval_batch_size: int  # images per forward pass when evaluating
    # steps between divergence checks: each check reads a value back to the host, which
    # on an asynchronous device (CUDA) stalls the queue, so it checks every so many steps
    check_every: int
    tracks_peak_memory: bool  # the device reports its peak allocated memory

    @classmethod
    def for_device(cls, device: torch.device, settings: TrainSettings) -> DeviceProfile:
        """The profile of ``device`` under ``settings`` (bf16 only where it is native;
        channels_last, which helps cuDNN and, measured, oneDNN on CPU by ~20%, on both)."""
        asynchronous = device.type == "cuda"
        channels_last = settings.channels_last and device.type in ("cuda", "cpu")
        if settings.eval_batch_size is not None:
            eval_batch = settings.eval_batch_size
        else:  # a CPU's cache holds a training batch's activations, not 1000 images'
            eval_batch = 1000 if asynchronous else settings.batch_size
        return cls(
            device=device,
            bf16=settings.bf16 and native_bf16(device),
            memory_format=torch.channels_last if channels_last else torch.contiguous_format,
            eval_batch_size=eval_batch,
            check_every=settings.nan_check_every if asynchronous else 1,
            tracks_peak_memory=asynchronous,
        )

    def autocast(self) -> torch.autocast:
        """The autocast context of steps and evaluation (disabled without native bf16)."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16)

    def reset_peak_memory(self) -> None:
        if self.tracks_peak_memory:
            torch.cuda.reset_peak_memory_stats(self.device)

    def peak_memory(self) -> int | None:
        """Bytes allocated at most since the last reset; None where the device cannot say."""
        return torch.cuda.max_memory_allocated(self.device) if self.tracks_peak_memory else None

    def release_memory(self) -> None:
        """Gives cached blocks back after a failure (out of memory) so the next child fits."""
        if self.tracks_peak_memory:
            torch.cuda.empty_cache()
