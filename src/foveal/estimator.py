"""``ImageClassifier``: any foveal model as a scikit-learn estimator.

>>> clf = ImageClassifier(model="cnn-small", epochs=10).fit(paths, labels)   # doctest: +SKIP
>>> cross_val_score(ImageClassifier(model="svm", features="hog"), images, y)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from foveal.config import TrainConfig
from foveal.data.images import Preprocessing
from foveal.data.task import BinaryTask, MulticlassTask
from foveal.errors import ConfigError, DataError, DecodeError


def _is_paths(X) -> bool:
    return isinstance(X, (list, tuple, np.ndarray)) and len(X) > 0 and isinstance(X[0], (str, Path))


def _uint8(image: np.ndarray) -> np.ndarray:
    """Images as uint8: floats are read as [0, 1] (or [0, 255] when larger)."""
    if image.dtype == np.uint8:
        return image
    data = np.asarray(image, dtype=np.float64)
    if data.size and data.max() <= 1.0:
        data = data * 255.0
    return np.clip(np.rint(data), 0, 255).astype(np.uint8)


def _array_images(X) -> np.ndarray:
    images = _uint8(np.asarray(X))
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise DataError(f"expected images shaped (n, H, W) or (n, H, W, C), got {images.shape}",
                        "pass a list of image paths, or stack the images into one array")
    return images[..., :3]


def _decode_files(paths, prep: Preprocessing) -> np.ndarray:
    from foveal.data.images import read_file_bytes

    out = []
    for path in paths:
        try:
            out.append(prep.decode(read_file_bytes(path)))
        except DecodeError as err:
            raise DataError(f"{path}: {err.what}", "remove it from X or fix the file") from None
    return np.stack(out)


class ImageClassifier(ClassifierMixin, BaseEstimator):
    """A classical (``svm``, ``knn``, …) or deep (``cnn-small``, any timm name) image classifier.

    ``fit(X, y)`` takes a list of image paths or an array of images (n, H, W[, C]);
    ``options`` holds any other `foveal train` option (e.g. ``{"augment": "standard"}``).
    """

    def __init__(self, model: str = "cnn-small", features: str = "hog", image_size: int | str = "auto",
                 channels: int | str = "auto", epochs: int = 30, batch_size: int = 64, lr: float = 1e-3,
                 seed: int = 0, options: dict | None = None) -> None:
        self.model = model
        self.features = features
        self.image_size = image_size
        self.channels = channels
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.options = options

    def _config(self) -> TrainConfig:
        known = {f.name for f in fields(TrainConfig)}
        extra = dict(self.options or {})
        unknown = sorted(set(extra) - known)
        if unknown:
            raise ConfigError(f"unknown option(s) {', '.join(unknown)}", f"use names of TrainConfig: {', '.join(sorted(known))}")
        return replace(TrainConfig(), model=self.model, features=self.features, epochs=self.epochs,
                       batch_size=self.batch_size, lr=self.lr, seed=self.seed, report=False, **extra)

    def _preprocessing(self, X) -> Preprocessing:
        from foveal.classical.estimators import ESTIMATORS
        from foveal.data.decode import image_header
        from foveal.data.images import GRAY_MODES, auto_size

        if _is_paths(X):
            heads = [image_header(p) for p in X[:64]]
            shapes, gray = [(h["height"], h["width"]) for h in heads], all(h["mode"] in GRAY_MODES for h in heads)
        else:
            images = _array_images(X)
            shapes, gray = [images.shape[1:3]], images.shape[-1] == 1
        if self.image_size == "auto":
            size = auto_size(shapes)
        else:
            size = (int(self.image_size), int(self.image_size))
        channels = (1 if gray else 3) if self.channels == "auto" else int(self.channels)
        prep = Preprocessing(size=size, channels=channels)
        if self.image_size == "auto" and self.model not in ESTIMATORS:
            from foveal.deep.run import MIN_AUTO_SIDE

            prep = prep.with_min_side(MIN_AUTO_SIDE)  # as `foveal train` does for deep models
        return prep

    def _images(self, X, prep: Preprocessing) -> np.ndarray:
        if _is_paths(X):
            return _decode_files(X, prep)
        return np.stack([prep.prepare(image) for image in _array_images(X)])

    def fit(self, X, y) -> "ImageClassifier":
        from foveal.classical.estimators import ESTIMATORS

        cfg = self._config()
        self.classes_, targets = np.unique(np.asarray(y), return_inverse=True)
        if len(self.classes_) < 2:
            raise DataError("y holds a single class", "a classifier needs at least two classes")
        names = [str(c) for c in self.classes_]
        self.task_ = BinaryTask(names) if len(names) == 2 else MulticlassTask(names)
        self.preprocessing_ = self._preprocessing(X)
        images = self._images(X, self.preprocessing_)
        if self.model in ESTIMATORS:
            self.model_ = self._fit_classical(cfg, images, targets)
        else:
            from foveal.deep.trainer import fit_deep

            with _quiet():
                self.model_, self.history_ = fit_deep(cfg, images, targets, None, None, self.task_)
        return self

    def _fit_classical(self, cfg: TrainConfig, images: np.ndarray, targets: np.ndarray):
        from foveal.bundle.classical import ClassicalModel
        from foveal.classical.pipeline import build_pipeline

        pipeline = build_pipeline(cfg.features, cfg.model, self.task_, cfg.seed, cfg.params,
                                  cfg.feature_params, cfg.scale)
        return ClassicalModel(pipeline.fit(images, targets), len(self.classes_))

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(self._images(X, self.preprocessing_))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _quiet():
    from foveal.progress import quiet

    return quiet()
