"""Few-label set-ups for measuring (``bench/few_labels.py``, tests): keep ``per_class`` labels per
class in the train split, hand the rest of the train split over as unlabelled images."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from foveal.data.dataset import Dataset


def few_labels(ds: Dataset, per_class: int, seed: int = 0) -> tuple[Dataset, Dataset]:
    """(labelled: ``per_class`` train images per class + every val and test image, unlabelled: the
    other train images), drawn class by class with ``seed``."""
    rng = np.random.default_rng(seed)
    train = [i for i, s in enumerate(ds.split) if s == "train"]
    keep: list[int] = []
    for label in sorted(set(ds.labels[i] for i in train)):
        members = [i for i in train if ds.labels[i] == label]
        keep += [int(i) for i in rng.permutation(members)[:per_class]]
    kept = set(keep)
    labelled = sorted(kept | {i for i, s in enumerate(ds.split) if s != "train"})
    return ds.subset(labelled), ds.subset([i for i in train if i not in kept])


def write_images(ds: Dataset, dest: Path) -> Path:
    """The images of an in-memory dataset as PNG files in one plain folder (no labels)."""
    from PIL import Image

    dest.mkdir(parents=True, exist_ok=False)
    for i, image in enumerate(ds.images):
        Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image).save(dest / f"{i:05d}.png")
    return dest
