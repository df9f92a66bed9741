"""The classical engine: hand-made features + a scikit-learn classifier in one ``Pipeline``."""

from __future__ import annotations

import numpy as np

from foveal.config import CLASSICAL, TrainConfig
from foveal.errors import ConfigError
from foveal.runs.engines import Fitted


def check_estimator_params(cfg: TrainConfig) -> None:
    """``--param`` names and values as scikit-learn's own parameter validation sees them."""
    from sklearn.utils._param_validation import InvalidParameterError

    from foveal.classical.estimators import create_estimator

    estimator = create_estimator(cfg.model, seed=cfg.seed, **cfg.params)
    try:
        estimator._validate_params()
    except InvalidParameterError as err:
        raise ConfigError(f"--param for {cfg.model}: {err}", "see `foveal train --help` and scikit-learn's "
                          f"documentation of {type(estimator).__name__}") from None


def check_sample_weight(cfg: TrainConfig) -> None:
    """``--reweight`` needs a classifier whose ``fit`` takes ``sample_weight``."""
    from sklearn.utils.validation import has_fit_parameter

    from foveal.classical.estimators import ESTIMATORS, create_estimator

    if not has_fit_parameter(create_estimator(cfg.model, seed=cfg.seed, **cfg.params), "sample_weight"):
        able = [n for n in ESTIMATORS if has_fit_parameter(create_estimator(n), "sample_weight")]
        raise ConfigError(f"--reweight needs sample weights, which {cfg.model} cannot take",
                          f"use one of {', '.join(able)}")


AUTO_PIXELS_BELOW = 16  # px: under this shorter side raw pixels beat HOG (digits 8×8: 0.993 vs 0.952)


def resolve_features(features: str, size: tuple[int, int]) -> str:
    """``auto`` → ``pixels`` for images whose shorter side is under 16 px, else ``hog``."""
    if features.strip() != "auto":
        return features
    return "pixels" if min(size) < AUTO_PIXELS_BELOW else "hog"


def check_feature_params(cfg: TrainConfig) -> None:
    """Feature names and parameters, checked by building the extractors."""
    from sklearn.pipeline import FeatureUnion

    from foveal.features import create_features

    names = "hog,pixels" if cfg.features.strip() == "auto" else cfg.features
    extractor = create_features(names, **cfg.feature_params)
    parts = [e for _, e in extractor.transformer_list] if isinstance(extractor, FeatureUnion) else [extractor]
    for part in parts:
        part._check_params()


class ClassicalEngine:
    name = CLASSICAL

    def check(self, cfg: TrainConfig) -> None:
        if cfg.image_size == "model":
            raise ConfigError("--image-size model is for deep models (their own input size)",
                              "give a side in pixels, or auto")
        check_feature_params(cfg)
        check_estimator_params(cfg)
        if cfg.reweight:
            check_sample_weight(cfg)

    def check_task(self, cfg: TrainConfig, task) -> None:
        """Every task works: multi-label one-vs-rest, hierarchical as a distribution over leaves."""
        if cfg.reweight and task.type == "multilabel":
            raise ConfigError("--reweight is not available for multi-label classical models",
                              "train a deep model (e.g. --model cnn-small) with --reweight")

    def load(self, cfg: TrainConfig, ds, validation: bool = True):
        from foveal.data.images import infer_preprocessing
        from foveal.runs.data import load_run_data, training_pool

        prep = infer_preprocessing(training_pool(ds), cfg.image_size, cfg.channels, cfg.max_pixels)
        return load_run_data(cfg, ds, prep, "ram", validation)

    def fit(self, cfg: TrainConfig, data, folder) -> Fitted:
        from foveal.bundle.classical import ClassicalModel
        from foveal.classical.pipeline import build_pipeline
        from foveal.progress import status

        task = data.task
        features = resolve_features(cfg.features, data.prep.size)
        pipeline = build_pipeline(features, cfg.model, task, cfg.seed, cfg.params, cfg.feature_params, cfg.scale)
        y = data.train.targets()
        if task.type != "multilabel" and len(np.unique(y)) < 2:
            raise ConfigError("the training split holds a single class", "add images of the other classes")
        weights = data.train.reweighting(cfg.reweight)
        fit_params = {} if weights is None else {"clf__sample_weight": weights}
        with status(f"Fitting {cfg.model} on {len(y)} images"):
            pipeline.fit(data.train.loaded.images, y, **fit_params)
        spec = {"family": CLASSICAL, "features": features, "feature_params": cfg.feature_params,
                "estimator": cfg.model, "estimator_params": cfg.params, "scale": cfg.scale,
                "pipeline": [name for name, _ in pipeline.steps], "n_classes": task.n_classes}
        return Fitted(ClassicalModel(pipeline, task.n_classes), spec)
