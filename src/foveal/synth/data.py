"""The real images a generator learns from: the training split of DATA, decoded once at the GAN's size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from foveal.errors import DataError

SINGLE_LABEL = ("binary", "multiclass")


@dataclass
class RealImages:
    """uint8 images (n, H, W, C), class indices into ``classes``, and where they came from."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    name: str

    def of_class(self, index: int) -> np.ndarray:
        return self.images[self.labels == index]


def check_classes(wanted: list[str], classes: tuple[str, ...]) -> list[int]:
    """Indices of ``wanted`` in ``classes``; an unknown one is a one-line error naming the classes."""
    unknown = [c for c in wanted if c not in classes]
    if unknown:
        raise DataError(f"unknown class {unknown[0]!r}", f"use one of: {', '.join(classes)}")
    return [classes.index(c) for c in dict.fromkeys(wanted)]


def load_real(source, size: int, channels: int | str = "auto", split: str = "train",
              wanted: list[str] = ()) -> RealImages | None:
    """The ``split`` of ``source`` at ``size``×``size``: for ``train``, every image when the data has
    no splits; for another split, None when the data lacks it. ``wanted`` classes are checked
    before anything is decoded."""
    from foveal.data.images import infer_preprocessing, load_images
    from foveal.data.load import load_dataset

    ds = load_dataset(source)
    if ds.task.type not in SINGLE_LABEL:
        raise DataError(f"{ds.name} is a {ds.task.type} dataset", "synthesize needs single-label classes")
    classes = tuple(str(c) for c in ds.task.classes)
    check_classes(list(wanted), classes)
    if split in ds.splits:
        ds = ds.select(split)
    elif split != "train":
        return None
    loaded = load_images(ds, infer_preprocessing(ds, size, channels), description="Decoding real images")
    labels = np.array([classes.index(str(ds.labels[i])) for i in loaded.kept], dtype=np.int64)
    if split == "train" and len(np.unique(labels)) < 2:
        raise DataError(f"{ds.name} has a single class in training", "a conditional GAN needs two or more classes")
    return RealImages(loaded.images, labels, classes, ds.name)
