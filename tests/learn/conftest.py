"""Fixtures for the learn tests: tiny real image folders (digits, and digits tinted by class in colour)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from foveal.data.export import export_dataset
from helpers import small

TINTS = np.array([[1.0, 0.3, 0.3], [0.3, 1.0, 0.3], [0.3, 0.3, 1.0], [1.0, 1.0, 0.3], [1.0, 0.3, 1.0],
                  [0.3, 1.0, 1.0], [1.0, 0.6, 0.2], [0.6, 0.2, 1.0], [0.2, 0.6, 0.6], [0.8, 0.8, 0.8]])


@pytest.fixture(scope="session")
def tiny_digits(tmp_path_factory) -> Path:
    """digits as PNG folders: 8 train, 2 val and 2 test images per class (8×8 px)."""
    dest = tmp_path_factory.mktemp("tiny") / "digits"
    export_dataset(small("digits", 8), dest, "folder")
    return dest


@pytest.fixture(scope="session")
def colour_digits(tmp_path_factory) -> Path:
    """The same digits in colour, each class tinted its own colour (something colorization can learn)."""
    dest = tmp_path_factory.mktemp("colour") / "digits"
    ds = small("digits", 6)
    for i, (label, split) in enumerate(zip(ds.labels, ds.split)):
        grey = ds.images[i].astype(np.float64)
        rgb = np.clip(grey * TINTS[int(label)], 0, 255).astype(np.uint8)
        folder = dest / split / label
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgb).save(folder / f"{i:04d}.png")
    return dest


@pytest.fixture()
def broken_digits(tmp_path, tiny_digits) -> Path:
    """A copy of a few tiny digits plus one file that is not an image."""
    root = tmp_path / "broken"
    for cls in ("1", "7"):
        (root / cls).mkdir(parents=True)
        for png in sorted((tiny_digits / "train" / cls).glob("*.png"))[:4]:
            (root / cls / png.name).write_bytes(png.read_bytes())
    (root / "7" / "not-an-image.png").write_bytes(b"this is text, not a PNG")
    return root
