"""Fixtures for the synth tests: a tiny RGB class folder and one tiny trained generator run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import small

TINY = ("--image-size", "16", "--epochs", "1", "--batch-size", "32", "--seed", "3")


@pytest.fixture(scope="session")
def rgb_folder(tmp_path_factory) -> Path:
    """Three digit classes drawn in three colours, 12 train images each, as RGB PNGs (8×8 px)."""
    ds = small("digits", 12)
    tints = {"0": (1.0, 0.2, 0.2), "1": (0.2, 1.0, 0.2), "2": (0.2, 0.2, 1.0)}
    dest = tmp_path_factory.mktemp("rgb") / "rgb"
    for i, (label, split) in enumerate(zip(ds.labels, ds.split)):
        if label in tints and split == "train":
            image = (ds.images[i].astype(float) * np.array(tints[label])).astype(np.uint8)
            path = dest / label / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image, "RGB").save(path)
    return dest


@pytest.fixture(scope="module")
def trained(tmp_path_factory, digits_folder) -> dict:
    """One tiny generator run on the digits folder (16 px, 1 epoch), its run folder and samples."""
    from foveal.cli import main

    root = tmp_path_factory.mktemp("synth")
    code = main(["--quiet", "synthesize", str(digits_folder), "--class", "3", "--class", "8", "--n", "6",
                 "--out", str(root / "out"), "--run-dir", str(root / "run"), *TINY])
    assert code == 0
    return {"root": root, "out": root / "out", "run": root / "run", "data": digits_folder}

