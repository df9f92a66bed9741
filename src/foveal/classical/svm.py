"""An RBF SVM with Platt-scaled probabilities that also fits on tiny classes.

scikit-learn 1.9 deprecates ``SVC(probability=True)`` in favour of
``CalibratedClassifierCV(SVC(), ensemble=False)``, which refuses classes with
fewer samples than folds; this wrapper picks the folds from the data.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC
from sklearn.utils._param_validation import Interval


class SVMClassifier(ClassifierMixin, BaseEstimator):
    """``SVC`` + sigmoid calibration on out-of-fold decision values."""

    _parameter_constraints: dict = {
        **{k: SVC._parameter_constraints[k] for k in ("C", "kernel", "gamma", "degree", "class_weight", "random_state")},
        "cv": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(self, C: float = 10.0, kernel: str = "rbf", gamma="scale", degree: int = 3,
                 class_weight=None, cv: int = 5, random_state: int | None = None) -> None:
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.class_weight = class_weight
        self.cv = cv
        self.random_state = random_state

    def _svc(self) -> SVC:
        return SVC(C=self.C, kernel=self.kernel, gamma=self.gamma, degree=self.degree,
                   class_weight=self.class_weight, random_state=self.random_state)

    def fit(self, X, y, sample_weight=None):
        _, counts = np.unique(y, return_counts=True)
        folds = int(min(self.cv, counts.min()))
        if folds >= 2:
            splitter = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
            self.model_ = CalibratedClassifierCV(self._svc(), method="sigmoid", cv=splitter,
                                                 ensemble=False).fit(X, y, sample_weight=sample_weight)
        else:  # a class with one sample: no held-out scores to calibrate on
            self.model_ = self._svc().fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def decision_function(self, X) -> np.ndarray:
        model = self.model_.calibrated_classifiers_[0].estimator if hasattr(self.model_, "calibrated_classifiers_") else self.model_
        return model.decision_function(X)

    def predict_proba(self, X) -> np.ndarray:
        if hasattr(self.model_, "predict_proba"):
            return self.model_.predict_proba(X)
        scores = self.model_.decision_function(X)
        if scores.ndim == 1:
            scores = np.stack([-scores, scores], axis=1)
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
