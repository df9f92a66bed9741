"""``ImageClassifier``: any foveal model as a scikit-learn estimator.

Its constructor parameters are `foveal train`'s options (``foveal.config``), with the same
defaults, so ``GridSearchCV`` can search ``lr`` or ``augment`` and ``ImageClassifier()`` is the
model ``foveal train DATA`` would fit. Training goes through the same engines as the CLI.

``X`` is a list of image paths, an image array (n, H, W) / (n, H, W, C), or a 2-D array of
flattened images (n, H·W) — square unless ``image_shape`` says otherwise, else one pixel row —
which is how scikit-learn's own ``load_digits().data`` holds its images. Float pixels are mapped
to 0..255 with the range seen in ``fit`` (kept for prediction), as a float image file would be.

>>> clf = ImageClassifier(model="cnn-small", epochs=10).fit(paths, labels)   # doctest: +SKIP
>>> cross_val_score(ImageClassifier(model="svm", features="hog"), images, y)  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import math
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_consistent_length, check_is_fitted, column_or_1d

from foveal.config import TrainConfig, default, option_fields, resolve, spec
from foveal.data.images import Preprocessing
from foveal.errors import DataError, DecodeError


class ImageInputError(DataError, ValueError):
    """X or y is not something ImageClassifier can learn from (a ValueError, as scikit-learn expects)."""


ESTIMATOR_PARAMS = [f.name for f in option_fields() if spec(f.name).estimator]
MAPPINGS = {"params", "feature_params"}  # None stands for {} (scikit-learn wants immutable defaults)


def _param_default(name: str):
    return None if name in MAPPINGS or name == "image_shape" else default(name)


def _is_paths(X) -> bool:
    return isinstance(X, (list, tuple, np.ndarray)) and len(X) > 0 and isinstance(X[0], (str, Path))


def _decode_files(paths, prep: Preprocessing) -> np.ndarray:
    from foveal.data.images import read_file_bytes

    out = []
    for path in paths:
        try:
            out.append(prep.decode(read_file_bytes(path)))
        except DecodeError as err:
            raise ImageInputError(f"{path}: {err.what}", "remove it from X or fix the file") from None
    return np.stack(out)


def _array(X) -> np.ndarray:
    """Validated numeric array (2-D, 3-D or 4-D): no sparse, complex, NaN, inf or empty input."""
    X = check_array(X, accept_sparse=False, ensure_2d=False, allow_nd=True, dtype=None,
                    ensure_min_samples=1, ensure_all_finite=True)
    if X.dtype == object:
        X = check_array(X.astype(np.float64), ensure_2d=False, allow_nd=True)
    if X.ndim == 1:
        raise ImageInputError(f"expected images or rows of pixels, got a 1-D array of shape {X.shape}",
                              "Reshape your data with X.reshape(-1, 1) for a single pixel, or X.reshape(1, -1) "
                              "for a single image")
    if X.ndim == 4 and X.shape[-1] not in (1, 3, 4):
        raise ImageInputError(f"expected images shaped (n, H, W) or (n, H, W, C) with C 1, 3 or 4, got {X.shape}",
                              "stack the images into one array, channels last")
    if X.ndim > 4:
        raise ImageInputError(f"expected at most 4 dimensions, got {X.shape}", "pass (n, H, W, C) images")
    return X


class ImageClassifier(ClassifierMixin, BaseEstimator):
    """A classical (``svm``, ``knn``, …) or deep (``cnn-small``, any timm name) image classifier.

    Parameters are `foveal train`'s options (see ``foveal train --help``), plus ``image_shape``:
    the (height, width) of the images when ``X`` holds them flattened, one row per image.
    """

    def __init__(self, **params) -> None:
        unknown = sorted(set(params) - set(ESTIMATOR_PARAMS) - {"image_shape"})
        if unknown:
            raise TypeError(f"ImageClassifier got unexpected parameter(s) {', '.join(unknown)}")
        for name in [*ESTIMATOR_PARAMS, "image_shape"]:
            setattr(self, name, params.get(name, _param_default(name)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True  # rows of flattened pixels, like load_digits().data
        tags.input_tags.three_d_array = True  # (n, H, W) and (n, H, W, C) images
        tags.input_tags.string = True  # lists of file paths
        return tags

    # --- configuration -----------------------------------------------------------------

    def _config(self) -> TrainConfig:
        """The training options, checked like `foveal train`'s (options set to their default count as unset)."""
        given = {name: getattr(self, name) for name in ESTIMATOR_PARAMS
                 if getattr(self, name) not in (_param_default(name), default(name))}
        from foveal.runs.engines import engine_name
        from foveal.runs.pipeline import stray_options

        cfg = resolve(None, given)
        stray, what, _ = stray_options(cfg, engine_name(cfg))
        if stray:  # a parameter grid may mix models: warn (the CLI refuses)
            warnings.warn(f"{what}; ignored", UserWarning, stacklevel=3)
        return replace(cfg, report=False, given=tuple(n for n in cfg.given if n not in stray))

    # --- input --------------------------------------------------------------------------

    def _grid(self, width: int) -> tuple[int, int]:
        if self.image_shape is not None:
            h, w = (int(v) for v in self.image_shape)
            if h * w != width:
                raise ImageInputError(f"image_shape {self.image_shape} has {h * w} pixels, X rows have {width}",
                                      "give the (height, width) of the flattened images")
            return h, w
        side = math.isqrt(width)
        return (side, side) if side * side == width else (1, width)

    def _images(self, X, fitting: bool) -> np.ndarray:
        """uint8 (n, H, W, C) images from any accepted X; in ``fit`` this also learns the value range."""
        if _is_paths(X):
            return _decode_files(list(X), self.decode_preprocessing_)
        X = _array(X)
        if X.ndim == 2:
            if fitting:
                self.n_features_in_ = X.shape[1]
            elif X.shape[1] != self.n_features_in_:
                raise ImageInputError(f"X has {X.shape[1]} features, but ImageClassifier is expecting "
                                      f"{self.n_features_in_} features as input", "pass rows of the same images")
            X = X.reshape(len(X), *self._grid(X.shape[1]))
        if X.ndim == 3:
            X = X[..., None]
        X = X[..., :3]
        if fitting:
            self.value_range_ = _value_range(X)
        return _to_uint8(X, self.value_range_)

    # --- fit / predict ------------------------------------------------------------------

    def fit(self, X, y) -> "ImageClassifier":
        from foveal.progress import quiet
        from foveal.runs.pipeline import fit_model

        cfg = self._config()
        y = self._targets(y)
        check_consistent_length(X, y)
        with quiet():
            if _is_paths(X):
                self.decode_preprocessing_ = self._path_preprocessing(list(X), cfg)
            ds = self._dataset(self._images(X, fitting=True), y)
            fitted, data = fit_model(cfg, ds, validation=cfg.early_stopping > 0 or cfg.target_accuracy is not None)
        self.model_, self.preprocessing_, self.history_ = fitted.model, data.prep, fitted.history
        return self

    def _targets(self, y) -> np.ndarray:
        if y is None:
            raise ImageInputError("requires y to be passed, but the target y is None", "pass the labels as y")
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            from sklearn.exceptions import DataConversionWarning

            warnings.warn("A column-vector y was passed when a 1d array was expected", DataConversionWarning,
                          stacklevel=3)
        y = column_or_1d(y, warn=False)
        if y.dtype.kind in "fc":
            check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=True, input_name="y")
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ImageInputError(f"y holds one class ({self.classes_[0]!r})", "a classifier needs at least two classes")
        return encoded

    def _dataset(self, images: np.ndarray, y: np.ndarray):
        """The decoded images as an in-memory Dataset, labelled by class name."""
        from foveal.data.dataset import Dataset
        from foveal.data.task import BinaryTask, MulticlassTask

        names = [str(c) for c in self.classes_]
        task = BinaryTask(names) if len(names) == 2 else MulticlassTask(names)
        return Dataset(name="X", source="array", task=task, labels=[names[i] for i in y],
                       split=["train"] * len(y), images=images)

    def _path_preprocessing(self, paths: list, cfg: TrainConfig) -> Preprocessing:
        from foveal.data.dataset import Dataset
        from foveal.data.images import infer_preprocessing
        from foveal.data.task import MulticlassTask

        probe = Dataset(name="X", source="files", task=MulticlassTask(["a", "b"]), labels=["a"] * len(paths),
                        split=[None] * len(paths), paths=[str(Path(p).resolve()).lstrip("/") for p in paths],
                        root=Path("/"))
        size = cfg.image_size if cfg.image_size != "model" else "auto"
        return infer_preprocessing(probe, size, cfg.channels, cfg.max_pixels)

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        images = self._images(X, fitting=False)
        if images.shape[1:] != (*self.preprocessing_.size, self.preprocessing_.channels):
            images = np.stack([self.preprocessing_.prepare(image) for image in images])
        return self.model_.predict_proba(images)

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


def _value_range(X: np.ndarray) -> tuple[float, float]:
    """How pixel values map to 0..255: uint8 as is, [0, 1] floats ×255, [0, 255] as is, else min–max."""
    if X.dtype == np.uint8:
        return (0.0, 255.0)
    low, high = float(X.min()), float(X.max())
    if low >= 0.0 and high <= 1.0:
        return (0.0, 1.0)
    if low >= 0.0 and high <= 255.0:
        return (0.0, 255.0)
    return (low, high if high > low else low + 1.0)


def _to_uint8(X: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    if X.dtype == np.uint8:
        return np.ascontiguousarray(X)
    low, high = value_range
    scaled = (np.asarray(X, dtype=np.float64) - low) * (255.0 / (high - low))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _signature() -> inspect.Signature:
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=_param_default(name))
               for name in ESTIMATOR_PARAMS]
    params.append(inspect.Parameter("image_shape", inspect.Parameter.KEYWORD_ONLY, default=None))
    return inspect.Signature(params)


ImageClassifier.__init__.__signature__ = _signature()  # scikit-learn reads parameter names from it
