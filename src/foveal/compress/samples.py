"""Real images for the checks compression makes: parity at export, calibration of int8 ranges,
accuracy before and after. Each comes from a named split of real data, decoded with the bundle's
own preprocessing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foveal.errors import ConfigError


@dataclass
class Sample:
    """Decoded images (n, H, W, C) uint8 with their labels and where they came from."""

    images: np.ndarray
    labels: list
    data: str
    split: str

    def describe(self) -> str:
        return f"{len(self.images)} images of {self.data} ({self.split})"


def training_data(predictor, data=None) -> str | Path:
    """``data`` when given, else the training data recorded in the bundle's lineage when it still exists."""
    if data is not None:
        return data
    recorded = predictor.manifest.get("lineage", {}).get("config", {}).get("data")
    if recorded and _reachable(recorded):
        return recorded
    raise ConfigError(f"{predictor.path} was trained on {recorded or 'unrecorded data'}, which is not here",
                      "pass --data DATA (a folder, manifest or built-in dataset with the bundle's classes)")


def _reachable(name: str) -> bool:
    from foveal.data.builtin import BUILTINS

    return Path(name).expanduser().exists() or name in BUILTINS or name.removeprefix("builtin:") in BUILTINS


def _decoded(predictor, part, n: int | None, seed: int, data_name: str, split: str) -> Sample:
    from foveal.data.images import load_images
    from foveal.progress import quiet

    if n is not None and len(part) > n:
        part = part.subset(np.sort(np.random.default_rng(seed).permutation(len(part))[:n]))
    with quiet():
        loaded = load_images(part, predictor.preprocessing, max_skip_ratio=1.0)
    if len(loaded.kept) == 0:
        raise ConfigError(f"no image of {data_name} ({split}) could be decoded", "run `foveal data check` on it")
    return Sample(loaded.images, [part.labels[i] for i in loaded.kept], data_name, split)


def validation_sample(predictor, data=None, n: int | None = 256, seed: int = 0) -> Sample:
    """Up to ``n`` images of the bundle's validation data (its val split, or the hold-out training made)."""
    from foveal.data.load import load_dataset
    from foveal.transforms.calibrate import validation_part

    source = training_data(predictor, data)
    ds = load_dataset(source, predictor.task)
    part, split = validation_part(ds, predictor.manifest, None)
    if not len(part):
        part, split = ds, "all"
    return _decoded(predictor, part, n, seed, ds.name, split)


def calibration_sample(predictor, data, n: int = 200, seed: int = 0) -> Sample:
    """``n`` images from DATA's training and validation splits — never its test split."""
    from foveal.data.load import load_dataset
    from foveal.runs.data import training_pool

    ds = load_dataset(data, predictor.task)
    return _decoded(predictor, training_pool(ds), n, seed, ds.name, "train+val")


def test_sample(predictor, data, split: str | None = None) -> Sample:
    """Every image of DATA's test split (or ``split``) for accuracy before / after."""
    from foveal.data.load import load_dataset

    ds = load_dataset(data, predictor.task)
    split = split or "test"
    if split not in ds.splits and split != "all":
        raise ConfigError(f"{ds.name} has no {split} split (it has {', '.join(ds.splits) or 'none'})",
                          "give DATA with a test split, or choose one with --split")
    part = ds if split == "all" else ds.select(split)
    return _decoded(predictor, part, None, 0, ds.name, split)
