"""Unlabelled images for a run: loaded and decoded at the run's preprocessing (same pixel and file
limits), then drawn per training step in an order that depends only on (seed, epoch, step, rank), so
resumed runs and every DDP rank see exactly what an uninterrupted run would."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from foveal.errors import ConfigError, DataError, warn

STREAM_SEED = 7_919  # keeps the unlabelled order apart from the labelled one (same --seed)


@dataclass
class Unlabeled:
    """Decoded unlabelled images (uint8 n, C, H, W) and where they came from."""

    images: torch.Tensor
    source: str
    skipped: int = 0

    def __len__(self) -> int:
        return len(self.images)


def load_unlabeled(source: str, flag: str, prep, max_skip_ratio: float, val_hashes=()) -> Unlabeled:
    """Every image of ``source`` outside its test split (a folder of images, a manifest, a class-folder
    tree or a built-in dataset; labels are ignored), decoded with the run's ``prep``."""
    from foveal.data.images import check_skip_ratio, load_images
    from foveal.data.load import load_dataset
    from foveal.runs.data import check_memory

    if not isinstance(source, str) or not source:
        raise ConfigError(f"{flag} needs a folder of images", f"pass {flag} DIR")
    try:
        ds = load_dataset(source, "auto", labels="optional")
    except DataError as err:
        raise DataError(f"{flag}: {err.what}", err.fix) from None
    keep = [i for i, s in enumerate(ds.split) if s != "test"]
    if not keep:
        raise DataError(f"{flag} {source} holds only a test split", "give images outside the test split")
    ds = ds.subset(keep)
    check_memory(len(ds), prep, f" or use fewer images in {flag}")
    loaded = load_images(ds, prep, 1.0, f"Decoding {flag[2:]}")
    check_skip_ratio(ds.name, len(ds), loaded.skipped, max_skip_ratio)
    if len(loaded.kept) < 2:
        raise DataError(f"{flag} {source} holds fewer than 2 decodable images", "add unlabelled images")
    same = len(set(loaded.hashes) & set(val_hashes))
    if same:
        warn(f"{same} image(s) in {flag} {source} are identical to validation images: validation scores are "
             "optimistic; remove the copies")
    tensor = torch.from_numpy(np.ascontiguousarray(loaded.images)).permute(0, 3, 1, 2).contiguous()
    return Unlabeled(tensor, str(source), len(loaded.skipped))


def stream_indices(n: int, seed: int, epoch: int, step: int, size: int, rank: int = 0, world: int = 1) -> torch.Tensor:
    """Indices of the ``size`` unlabelled images for batch ``step`` of ``epoch`` on ``rank``: consecutive
    windows of a per-(epoch, pass) permutation, so every image is used before any repeats."""
    first = ((step * world) + rank) * size
    positions = torch.arange(first, first + size)
    passes = positions // n
    out = torch.empty(size, dtype=torch.long)
    for p in passes.unique().tolist():
        gen = torch.Generator().manual_seed((seed + STREAM_SEED) * 100_003 + epoch * 1_009 + p)
        order = torch.randperm(n, generator=gen)
        chosen = passes == p
        out[chosen] = order[positions[chosen] % n]
    return out
