"""Classical bundles: a scikit-learn Pipeline saved with skops."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from foveal.bundle.format import read_file
from foveal.bundle.trust import dump_estimator, load_estimator

ESTIMATOR_FILE = "estimator.skops"


class ClassicalModel:
    """A fitted Pipeline over (n, H, W, C) uint8 images."""

    def __init__(self, pipeline, n_classes: int) -> None:
        self.pipeline = pipeline
        self.n_classes = n_classes

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        from foveal.classical.pipeline import full_proba

        return full_proba(self.pipeline, images, self.n_classes)

    def files(self) -> dict[str, bytes]:
        return {ESTIMATOR_FILE: dump_estimator(self.pipeline)}

    @classmethod
    def load(cls, path: Path, manifest: dict) -> "ClassicalModel":
        data = read_file(path, ESTIMATOR_FILE, manifest)
        pipeline = load_estimator(data, str(Path(path) / ESTIMATOR_FILE))
        return cls(pipeline, len(manifest["task"]["classes"]))
