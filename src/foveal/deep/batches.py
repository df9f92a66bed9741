"""The in-RAM image cache and batch indexing.

Images are decoded once (``foveal.data.images.load_images``) and kept as one uint8 NCHW
tensor; a batch is an index into it. On few cores this beats per-sample DataLoader
workers (see DESIGN.md), and it makes shuffling, sharding and resuming exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch



@dataclass
class ImageTensor:
    """Decoded images as uint8 (n, C, H, W), with targets as a tensor in the same order."""

    images: torch.Tensor
    targets: torch.Tensor
    weights: torch.Tensor | None = None  # per-sample loss weights (``--reweight``)

    def __len__(self) -> int:
        return len(self.images)

    @classmethod
    def from_numpy(cls, images: np.ndarray, targets: np.ndarray) -> "ImageTensor":
        """``images`` (n, H, W, C) uint8 as produced by ``load_images``; no copy of the pixels is kept twice."""
        tensor = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).contiguous()
        return cls(tensor, torch.as_tensor(np.asarray(targets)))


def channel_stats(images: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of uint8 (n, H, W, C) images, in [0, 1] units.

    Exact, from each channel's histogram of the 256 values: no float copy of the pixels is made.
    ``torch.bincount`` counts uint8 as it is (numpy's widens every pixel to int64 first): 0.02 s
    instead of 0.15 s for 1,600 images at 64 px."""
    levels = np.arange(256, dtype=np.float64) / 255.0
    channels = torch.from_numpy(np.ascontiguousarray(images)).reshape(-1, images.shape[-1])
    means, stds = [], []
    for c in range(channels.shape[1]):
        counts = torch.bincount(channels[:, c].contiguous(), minlength=256).numpy().astype(np.float64)
        mean = counts @ levels / counts.sum()
        var = counts @ (levels - mean) ** 2 / counts.sum()
        means.append(round(float(mean), 6))
        stds.append(round(float(max(np.sqrt(var), 1e-3)), 6))
    return means, stds


def sample_weights(targets: np.ndarray) -> torch.Tensor:
    """Per-sample weights for ``--sampler balanced``: every class (or label) drawn equally often."""
    if targets.ndim == 2:  # multi-label: a sample counts as its rarest label
        freq = np.maximum(targets.sum(axis=0), 1)
        inv = np.where(targets > 0, 1.0 / freq[None, :], 0.0).max(axis=1)
        return torch.as_tensor(np.where(inv > 0, inv, 1.0 / len(targets)))
    counts = np.bincount(targets)
    return torch.as_tensor(1.0 / counts[targets])


def epoch_order(n: int, seed: int, epoch: int, weights: torch.Tensor | None = None,
                rank: int = 0, world: int = 1) -> torch.Tensor:
    """The sample order of one epoch: a permutation (or a balanced draw) that depends only on
    (seed, epoch), so resuming mid-run and every DDP rank agree; then this rank's shard."""
    gen = torch.Generator().manual_seed(seed * 100_003 + epoch)
    if weights is None:
        order = torch.randperm(n, generator=gen)
    else:
        order = torch.multinomial(weights, n, replacement=True, generator=gen)
    if world > 1:  # like DistributedSampler: pad to a multiple of the world size, then stride
        total = -(-n // world) * world
        order = torch.cat([order, order[: total - n]])[rank::world]
    return order


def batch_slices(order: torch.Tensor, batch_size: int, even: bool = False) -> list[torch.Tensor]:
    """Split an order into batches; a last batch of one sample (or odd-sized, when ``even``) is dropped."""
    out = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if out and (len(out[-1]) < 2 or even and len(out[-1]) % 2) and len(out) > 1:
        out.pop()
    return out


def normalize(batch: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Float [0, 1] (n, C, H, W) → standardised model input."""
    return (batch - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)


class FileImages:
    """uint8 (n, C, H, W) images decoded from their files batch by batch (``--cache none``).

    For data sets larger than RAM; slower than the in-RAM tensor (every epoch decodes again).
    """

    def __init__(self, ds, prep, kept: np.ndarray, threads: int = 4) -> None:
        self.ds, self.prep, self.kept, self.threads = ds, prep, np.asarray(kept), threads

    def __len__(self) -> int:
        return len(self.kept)

    def _one(self, i: int) -> np.ndarray:
        from foveal.data.images import read_file_bytes
        from foveal.errors import DataError, DecodeError

        path = self.ds.file(int(self.kept[i]))
        try:
            return self.prep.decode(read_file_bytes(path))
        except DecodeError as err:
            raise DataError(f"{path} could not be decoded during training ({err.what})",
                            "do not change the data while training; restart the run") from None

    def __getitem__(self, index) -> torch.Tensor:
        from concurrent.futures import ThreadPoolExecutor

        rows = range(len(self))[index] if isinstance(index, slice) else [int(i) for i in index]
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            arrays = list(pool.map(self._one, rows))
        h, w = self.prep.size
        if not arrays:
            return torch.zeros((0, self.prep.channels, h, w), dtype=torch.uint8)
        return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
