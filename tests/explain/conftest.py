"""A cnn-small trained for a few seconds on digits-in-clutter (32 px), shared by the explanation tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from foveal.data.builtin import load_builtin
from foveal.data.load import load_dataset

PER_CLASS = 30  # training images per class
EPOCHS = 6


def clutter_subset(seed: int = 0):
    """A class-balanced training subset of digits-in-clutter (with a few validation images)."""
    ds = load_dataset("digits-in-clutter")
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for label in ds.task.classes:
        for split, count in (("train", PER_CLASS), ("val", 3)):
            members = [i for i, (y, s) in enumerate(zip(ds.labels, ds.split)) if y == label and s == split]
            chosen += list(rng.permutation(members)[:count])
    return ds.subset(sorted(chosen))


@pytest.fixture(scope="session")
def clutter_bundle(tmp_path_factory) -> Path:
    import foveal
    from foveal.progress import quiet

    out = tmp_path_factory.mktemp("clutter") / "run"
    with quiet():
        result = foveal.train(clutter_subset(), model="cnn-small", epochs=EPOCHS, batch_size=32, lr=3e-3,
                              image_size=32, report=False, out=str(out), seed=0, workers=1)
    return result.bundle


@pytest.fixture(scope="session")
def clutter_test():
    """(images, boxes, labels) of 60 test images of digits-in-clutter."""
    data = load_builtin("digits-in-clutter")
    test = [i for i, s in enumerate(data.split) if s == "test"][:60]
    return data.images[test], data.boxes[test], [data.labels[i] for i in test]
