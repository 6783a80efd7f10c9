"""Training batches made where the data lives: a device-resident batch source.

The whole training split sits on the device as uint8. Each batch is a slice of a seeded
permutation, gathered, normalised and augmented on the device (random crop after zero
padding, horizontal flip), every random number drawn from one generator on that device, so
no DataLoader worker and no host-to-device copy is in the hot path, and nothing in it needs
the host: a batch can be written into the same (static) buffers every step, as a captured
step needs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


class Normalise:
    """uint8 images -> normalised float images in the profile's memory format:
    ``x * scale + shift == (x / 255 - mean) / std``, one fused multiply-add."""

    def __init__(
        self,
        mean: Sequence[float],
        std: Sequence[float],
        device: torch.device,
        memory_format: torch.memory_format,
    ) -> None:
        shape = (1, -1, 1, 1)
        std_t = torch.tensor(std, device=device).view(shape)
        self.scale = (1.0 / (255.0 * std_t)).float()
        self.shift = (-torch.tensor(mean, device=device).view(shape) / std_t).float()
        self.memory_format = memory_format

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float().mul_(self.scale).add_(self.shift)
        return x.contiguous(memory_format=self.memory_format)


class BatchSource:
    """An endless stream of augmented training batches, seeded.

    A new epoch draws a fresh permutation and drops the ragged end. Every random number
    (permutation, flips, crop offsets) comes from one generator on the data's device, in a
    fixed order, so the same seed gives the same batches.

    Args:
        images, labels: the training split on its device (uint8 images, N x C x H x W).
        normalise: uint8 -> normalised float.
        batch_size: images per batch (at most the split's size).
        seed: seeds the generator.
        flip: random horizontal flips (datasets where mirror images are the same class).
        crop_padding: random crops after this much zero padding (0: none).
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        normalise: Normalise,
        *,
        batch_size: int,
        seed: int,
        flip: bool = False,
        crop_padding: int = 0,
    ) -> None:
        self.images = images
        self.labels = labels
        self.normalise = normalise
        self.device = images.device
        self.batch_size = min(batch_size, len(labels))
        self.flip = flip
        self.crop_padding = crop_padding
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self._order = torch.empty(0, dtype=torch.long, device=self.device)
        self._pos = 0

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next (images, labels) batch."""
        bs = self.batch_size
        if self._pos + bs > len(self._order):  # a new epoch
            self._order = torch.randperm(
                len(self.labels), generator=self.generator, device=self.device
            )
            self._pos = 0
        idx = self._order[self._pos : self._pos + bs]
        self._pos += bs
        return self.augment(self.normalise(self.images[idx])), self.labels[idx]

    def next_into(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Writes the next batch into static buffers (a captured step reads them)."""
        bx, by = self.next()
        x.copy_(bx)
        y.copy_(by)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        gen, dev = self.generator, self.device
        if self.flip:
            flip = (torch.rand(n, generator=gen, device=dev) < 0.5).view(n, 1, 1, 1)
            x = torch.where(flip, x.flip(3), x)
        p = self.crop_padding
        if p > 0:
            # zero padding (0 is the mean after normalisation), then one gather for the
            # whole batch: rows and columns are per-image shifted index ranges
            shift = torch.randint(0, 2 * p + 1, (2, n), generator=gen, device=dev)
            padded = F.pad(x, (p, p, p, p))
            rows = (torch.arange(h, device=dev)[None, :] + shift[0][:, None]).view(n, 1, h, 1)
            cols = (torch.arange(w, device=dev)[None, :] + shift[1][:, None]).view(n, 1, 1, w)
            padded = padded.gather(2, rows.expand(n, c, h, w + 2 * p))
            x = padded.gather(3, cols.expand(n, c, h, w))
        return x
