"""Classical models as real scikit-learn Pipelines: features → scaling → classifier."""

from __future__ import annotations

import numpy as np
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from foveal.classical.estimators import create_estimator
from foveal.data.task import Task
from foveal.errors import ConfigError
from foveal.features import create_features


SCALES = ("auto", "standard", "none")
UNSCALED_FEATURES = {"pixels"}  # already on one common [0, 1] scale; standardising hurts them


def feature_names(features: str | list[str]) -> list[str]:
    names = features.split(",") if isinstance(features, str) else list(features)
    return [n.strip() for n in names if n.strip()]


def _scaler(scale: str, features: str | list[str]):
    if scale not in SCALES:
        raise ConfigError(f"unknown --scale {scale!r}", f"use one of {', '.join(SCALES)}")
    if scale == "auto":
        scale = "none" if set(feature_names(features)) <= UNSCALED_FEATURES else "standard"
    return StandardScaler() if scale == "standard" else "passthrough"


def build_pipeline(features: str | list[str], model: str, task: Task, seed: int = 0,
                   params: dict | None = None, feature_params: dict | None = None,
                   scale: str = "auto") -> Pipeline:
    """An unfitted Pipeline that takes (n, H, W, C) uint8 images.

    ``scale=auto`` standardises features except raw pixels. Multi-label tasks
    wrap the classifier one-vs-rest; hierarchical tasks learn a distribution
    over leaves that the task decodes into consistent paths.
    """
    clf = create_estimator(model, seed=seed, **(params or {}))
    if task.type == "multilabel":
        clf = OneVsRestClassifier(clf)
    return Pipeline([
        ("features", create_features(features, **(feature_params or {}))),
        ("scale", _scaler(scale, features)),
        ("clf", clf),
    ])


def full_proba(pipeline: Pipeline, images: np.ndarray, n_classes: int) -> np.ndarray:
    """Class probabilities with one column per task class, even for classes absent in training."""
    proba = np.asarray(pipeline.predict_proba(images), dtype=float)
    clf = pipeline.steps[-1][1]
    if isinstance(clf, OneVsRestClassifier):
        return proba
    out = np.zeros((len(images), n_classes))
    out[:, np.asarray(clf.classes_, dtype=int)] = proba
    return out
