"""Classical models with ``--semi pseudo-label``: scikit-learn's ``SelfTrainingClassifier`` around the
run's classifier, on the run's features. The bundle keeps the final fitted classifier (trained on the
labelled images plus the accepted pseudo-labels), so it loads like any classical bundle."""

from __future__ import annotations

import numpy as np

from foveal.config import TrainConfig
from foveal.errors import ConfigError
from foveal.runs.engines import Fitted

SELF_TRAINING_ROUNDS = 10


def check_self_training(cfg: TrainConfig) -> None:
    from foveal.classical.estimators import create_estimator

    if cfg.semi != "pseudo-label":
        raise ConfigError(f"--semi {cfg.semi} needs a deep model (it trains on augmented views)",
                          "use --semi pseudo-label (self-training) with classical models, or --model cnn-small")
    if cfg.reweight:
        raise ConfigError("--reweight is not available with classical self-training", "drop --reweight")
    if not hasattr(create_estimator(cfg.model, seed=cfg.seed, **cfg.params), "predict_proba"):
        raise ConfigError(f"self-training needs class probabilities, which {cfg.model} (with these --param) "
                          "cannot give", "use svm, logistic, knn, random-forest or decision-tree")


def fit_self_training(cfg: TrainConfig, data, unlabeled) -> Fitted:
    """Fit the classical pipeline with ``SelfTrainingClassifier`` on labelled + unlabelled images."""
    from sklearn.semi_supervised import SelfTrainingClassifier

    from foveal.bundle.classical import ClassicalModel
    from foveal.classical.pipeline import build_pipeline
    from foveal.progress import status
    from foveal.runs.classical import resolve_features

    task = data.task
    features = resolve_features(cfg.features, data.prep.size)
    pipeline = build_pipeline(features, cfg.model, task, cfg.seed, cfg.params, cfg.feature_params, cfg.scale)
    y = data.train.targets()
    if len(np.unique(y)) < 2:
        raise ConfigError("the training split holds a single class", "add images of the other classes")
    extra = unlabeled.images.permute(0, 2, 3, 1).numpy()
    images = np.concatenate([data.train.loaded.images, extra])
    targets = np.concatenate([y, np.full(len(extra), -1, dtype=y.dtype)])
    self_training = SelfTrainingClassifier(pipeline.steps[-1][1], threshold=cfg.pseudo_threshold,
                                           max_iter=SELF_TRAINING_ROUNDS)
    pipeline.steps[-1] = ("clf", self_training)
    with status(f"Self-training {cfg.model} on {len(y)} labelled + {len(extra)} unlabelled images"):
        pipeline.fit(images, targets)
    pipeline.steps[-1] = ("clf", self_training.estimator_)  # what predicts; the wrapper only delegates
    accepted = int((self_training.labeled_iter_[len(y):] > 0).sum())
    summary = {"method": "self-training", "unlabeled": unlabeled.source, "n_unlabeled": len(extra),
               "threshold": cfg.pseudo_threshold, "pseudo_labels_accepted": accepted,
               "accepted_share": round(accepted / max(len(extra), 1), 4),
               "rounds": int(self_training.n_iter_), "stopped": self_training.termination_condition_}
    spec = {"family": "classical", "features": features, "feature_params": cfg.feature_params,
            "estimator": cfg.model, "estimator_params": cfg.params, "scale": cfg.scale,
            "pipeline": [name for name, _ in pipeline.steps], "n_classes": task.n_classes}
    note = (f"self-training: {accepted} of {len(extra)} unlabelled images pseudo-labelled "
            f"(confidence ≥ {cfg.pseudo_threshold:g}) in {summary['rounds']} rounds")
    return Fitted(ClassicalModel(pipeline, task.n_classes), spec, summary={"semi_supervised": summary},
                  notes=[note])
