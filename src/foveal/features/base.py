"""Base class for hand-made image features: input checks, parallel extraction, names."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import ClassVar

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from foveal.errors import ConfigError
from foveal.progress import track

#: Below this many images, worker start-up costs more than it saves.
PARALLEL_MIN_IMAGES = 256
#: Images per chunk when extracting in-process (only sets the progress-bar step).
SEQUENTIAL_CHUNK = 64
#: Chunks handed to each worker, so a slow chunk does not stall the others.
CHUNKS_PER_JOB = 4


class FeatureInputError(ConfigError, ValueError):
    """X is not an image batch this extractor accepts."""


def check_images(X: object, expected: tuple[int, ...] | None = None, allow_empty: bool = False) -> np.ndarray:
    """Return ``X`` as a uint8 (n, H, W, C) array with C in {1, 3}, or raise FeatureInputError."""
    X = np.asarray(X)
    wanted = "(n, H, W, C) uint8 with C in {1, 3}"
    if X.ndim != 4 or X.shape[-1] not in (1, 3):
        raise FeatureInputError(
            f"expected images of shape {wanted}, got an array of shape {X.shape}",
            "stack the images into one (n, H, W, C) array; add a channel axis to gray images with X[..., None]",
        )
    if X.dtype != np.uint8:
        raise FeatureInputError(
            f"expected uint8 images, got dtype {X.dtype}",
            "scale the images to 0..255 and convert them with X.astype(np.uint8)",
        )
    if len(X) == 0 and not allow_empty:
        raise FeatureInputError("got no images to fit on", "pass at least one image")
    if expected is not None and X.shape[1:] != tuple(expected):
        raise FeatureInputError(
            f"expected images of shape (H, W, C) = {tuple(expected)} as seen in fit, got {X.shape[1:]}",
            "resize the images to the size used at fit time, or fit the extractor again",
        )
    return X


def _extract_chunk(extractor: ImageFeatures, chunk: np.ndarray) -> np.ndarray:
    out = np.empty((len(chunk), extractor.n_features_out_), dtype=np.float32)
    for i, image in enumerate(chunk):
        out[i] = extractor._extract_one(image)
    return out


class ImageFeatures(TransformerMixin, BaseEstimator, ABC):
    """Turns a uint8 (n, H, W, C) image batch into a float32 (n, d) feature matrix.

    Subclasses set ``feature_name``, store their parameters in ``__init__`` and
    implement ``_extract_one``; those that learn something override ``_fit``.
    ``n_jobs`` sets the worker processes for ``transform``; None means all cores, and
    batches under ``PARALLEL_MIN_IMAGES`` images are always extracted in-process.
    """

    feature_name: ClassVar[str] = "features"

    def __init__(self, n_jobs: int | None = None) -> None:
        self.n_jobs = n_jobs

    def _check_params(self) -> None:
        """Raise ConfigError for invalid parameters (called by ``fit``)."""

    def _fit(self, X: np.ndarray, y: object = None) -> None:
        """Learn from the training images; stateless extractors learn nothing."""

    @abstractmethod
    def _extract_one(self, image: np.ndarray) -> np.ndarray:
        """The feature vector of one H×W×C uint8 image."""

    def fit(self, X: np.ndarray, y: object = None) -> ImageFeatures:
        X = check_images(X)
        self._check_params()
        self.image_shape_ = tuple(int(s) for s in X.shape[1:])
        self._fit(X, y)
        self.n_features_out_ = int(np.asarray(self._extract_one(X[0])).shape[0])
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "n_features_out_")
        X = check_images(X, expected=self.image_shape_, allow_empty=True)
        out = np.empty((len(X), self.n_features_out_), dtype=np.float32)
        start = 0
        blocks = track(self._extract_chunks(X), f"{self.feature_name} features", total=len(X), unit_weight=len)
        for block in blocks:
            out[start : start + len(block)] = block
            start += len(block)
        return out

    def _n_workers(self, n_images: int) -> int:
        if n_images < PARALLEL_MIN_IMAGES:
            return 1
        return max(1, effective_n_jobs(-1 if self.n_jobs is None else self.n_jobs))

    def _extract_chunks(self, X: np.ndarray) -> Iterator[np.ndarray]:
        n_workers = self._n_workers(len(X))
        if n_workers == 1:
            n_chunks = max(1, math.ceil(len(X) / SEQUENTIAL_CHUNK))
            return (_extract_chunk(self, chunk) for chunk in np.array_split(X, n_chunks))
        chunks = np.array_split(X, n_workers * CHUNKS_PER_JOB)
        run = Parallel(n_jobs=n_workers, return_as="generator")
        return iter(run(delayed(_extract_chunk)(self, chunk) for chunk in chunks))

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "n_features_out_")
        prefix = self.feature_name.replace("-", "_")
        return np.asarray([f"{prefix}_{i}" for i in range(self.n_features_out_)], dtype=object)


def require(ok: bool, name: str, value: object, expected: str) -> None:
    """Raise ConfigError for parameter ``name`` unless ``ok``."""
    if not ok:
        raise ConfigError(f"invalid {name}={value!r}", f"use {expected}")


def is_int(value: object, minimum: int) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= minimum
