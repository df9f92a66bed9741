"""Classical bundles (runtime ``sklearn``): a scikit-learn Pipeline saved with skops."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from foveal.bundle.format import read_file
from foveal.bundle.trust import dump_estimator, load_estimator
from foveal.errors import BundleError

ESTIMATOR_FILE = "estimator.skops"
RUNTIME = "sklearn"


class ClassicalModel:
    """A fitted Pipeline (features → scaling → classifier) over (n, H, W, C) uint8 images."""

    runtime = RUNTIME

    def __init__(self, pipeline, n_classes: int) -> None:
        self.pipeline = pipeline
        self.n_classes = n_classes

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        from foveal.classical.pipeline import full_proba

        return full_proba(self.pipeline, images, self.n_classes)

    def embed(self, images: np.ndarray) -> np.ndarray:
        """The feature vector the classifier sees (after feature extraction and scaling)."""
        return np.asarray(self.pipeline[:-1].transform(images), dtype=np.float32)

    def differentiable(self, size: tuple[int, int], classes: list[str]):
        raise BundleError("a classical model has no differentiable view",
                          "use a model-agnostic method (occlusion) through predict_proba")

    def files(self) -> dict[str, bytes]:
        return {ESTIMATOR_FILE: dump_estimator(self.pipeline)}

    @classmethod
    def load(cls, path: Path, manifest: dict, device: str = "cpu") -> "ClassicalModel":
        data = read_file(path, ESTIMATOR_FILE, manifest)
        pipeline = load_estimator(data, str(Path(path) / ESTIMATOR_FILE))
        n = len(manifest["task"]["classes"])
        check_outputs(pipeline, n, manifest.get("model", {}).get("n_classes"), Path(path))
        return cls(pipeline, n)


def check_outputs(pipeline, n_classes: int, trained_with: int | None, path: Path) -> None:
    """The task's class list must fit the estimator, or the bundle was edited or damaged."""
    from sklearn.multiclass import OneVsRestClassifier

    clf = pipeline.steps[-1][1]
    seen = len(clf.estimators_) if isinstance(clf, OneVsRestClassifier) else None
    classes = np.asarray(getattr(clf, "classes_", []))
    problems = []
    if trained_with is not None and trained_with != n_classes:
        problems.append(f"it was trained for {trained_with} classes")
    if seen is not None and seen != n_classes:
        problems.append(f"its classifier has {seen} outputs")
    if seen is None and len(classes) and (classes.min() < 0 or classes.max() >= n_classes):
        problems.append(f"its classifier knows class indices up to {int(classes.max())}")
    if problems:
        raise BundleError(f"{path / 'foveal.json'} lists {n_classes} classes but {' and '.join(problems)}",
                          "the bundle was edited or damaged; restore it or retrain")
