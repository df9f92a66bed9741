"""Registry of scikit-learn classifiers, keyed by the names users type."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TYPE_CHECKING

from foveal.errors import ConfigError

if TYPE_CHECKING:  # importing scikit-learn costs about 1 s: deep runs that only check a name skip it
    from sklearn.base import ClassifierMixin


def _svm(seed: int, **params) -> ClassifierMixin:
    from foveal.classical.svm import SVMClassifier

    return SVMClassifier(**{"random_state": seed, **params})


def _knn(seed: int, **params) -> ClassifierMixin:
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(**{"n_neighbors": 5, "weights": "distance", **params})


def _random_forest(seed: int, **params) -> ClassifierMixin:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(**{"n_estimators": 300, "n_jobs": -1, "random_state": seed, **params})


def _decision_tree(seed: int, **params) -> ClassifierMixin:
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(**{"random_state": seed, **params})


def _logistic(seed: int, **params) -> ClassifierMixin:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(**{"C": 1.0, "max_iter": 5000, "random_state": seed, **params})


ESTIMATORS: dict[str, tuple[Callable[..., ClassifierMixin], str]] = {
    "svm": (_svm, "support vector machine, RBF kernel, Platt-scaled probabilities"),
    "knn": (_knn, "k nearest neighbours (k=5, distance-weighted)"),
    "random-forest": (_random_forest, "random forest of 300 trees"),
    "decision-tree": (_decision_tree, "a single decision tree"),
    "logistic": (_logistic, "multinomial logistic regression"),
}


def list_estimators() -> dict[str, str]:
    return {name: doc for name, (_, doc) in ESTIMATORS.items()}


def create_estimator(name: str, seed: int = 0, **params) -> ClassifierMixin:
    """A fresh classifier by registry name, with ``params`` overriding its defaults."""
    if name not in ESTIMATORS:
        close = difflib.get_close_matches(name, [*ESTIMATORS, "cnn-small"], n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(f"unknown model {name!r}",
                          f"{hint}classical: {', '.join(ESTIMATORS)}; deep: cnn-small or any timm architecture "
                          "(`foveal models PATTERN` lists them)")
    try:
        return ESTIMATORS[name][0](seed, **params)
    except TypeError as err:
        raise ConfigError(f"bad parameter for {name}: {err}", "check --param names against scikit-learn's docs") from None
