"""Binary decision thresholds: precision / recall / F1 across thresholds, best-F1 and Youden's J.

Every threshold ``t`` means "predict the positive class when its probability is ``>= t``",
the convention of scikit-learn's ``roc_curve`` and ``precision_recall_curve``.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from foveal.errors import ConfigError

GRID = np.round(np.arange(0.05, 1.0, 0.05), 2)
CHOICES = ("best-f1", "youden")


def at_threshold(y: np.ndarray, score: np.ndarray, t: float) -> dict:
    """Precision, recall, F1 and the positive rate when predicting ``score >= t``."""
    pred = (score >= t).astype(int)
    p, r, f, _ = skm.precision_recall_fscore_support(y, pred, average="binary", zero_division=0)
    return {"threshold": float(t), "precision": float(p), "recall": float(r), "f1": float(f),
            "positive_rate": float(pred.mean()) if len(pred) else 0.0}


def best_f1(y: np.ndarray, score: np.ndarray) -> dict:
    """The threshold with the largest F1 among those ``precision_recall_curve`` visits."""
    precision, recall, thresholds = skm.precision_recall_curve(y, score)
    p, r = precision[:-1], recall[:-1]  # the last point (recall 0) has no threshold
    f1 = np.divide(2 * p * r, p + r, out=np.zeros_like(p), where=(p + r) > 0)
    i = int(np.argmax(f1))
    return {"threshold": float(thresholds[i]), "precision": float(p[i]), "recall": float(r[i]), "f1": float(f1[i])}


def youden(y: np.ndarray, score: np.ndarray) -> dict:
    """The threshold maximising Youden's J = TPR - FPR on the ROC curve."""
    fpr, tpr, thresholds = skm.roc_curve(y, score)
    finite = np.isfinite(thresholds)  # roc_curve starts at +inf (nothing predicted positive)
    j = tpr - fpr
    j[~finite] = -np.inf
    i = int(np.argmax(j))
    return {"threshold": float(thresholds[i]), "tpr": float(tpr[i]), "fpr": float(fpr[i]), "j": float(j[i])}


def threshold_analysis(y: np.ndarray, score: np.ndarray) -> dict:
    """``{"grid": [...], "best_f1": {...}, "youden": {...}}``; the optima only when both classes occur."""
    out: dict = {"grid": [at_threshold(y, score, t) for t in GRID]}
    if len(np.unique(y)) == 2:
        out["best_f1"] = best_f1(y, score)
        out["youden"] = youden(y, score)
    return out


def choose_threshold(choice: str, y: np.ndarray, score: np.ndarray) -> float:
    """A threshold from ``--save-threshold``: a number in (0, 1), ``best-f1`` or ``youden``."""
    if choice in CHOICES:
        if len(np.unique(y)) < 2:
            raise ConfigError(f"--save-threshold {choice} needs both classes in the data",
                              "evaluate on data that holds positives and negatives, or give a number")
        return best_f1(y, score)["threshold"] if choice == "best-f1" else youden(y, score)["threshold"]
    try:
        value = float(choice)
    except ValueError:
        raise ConfigError(f"--save-threshold {choice!r} is not a number, best-f1 or youden",
                          "write e.g. --save-threshold 0.3 or --save-threshold best-f1") from None
    if not 0.0 < value < 1.0:
        raise ConfigError(f"--save-threshold {value} is outside (0, 1)", "give a probability such as 0.3")
    return value


def tune_label_thresholds(proba: np.ndarray, y: np.ndarray) -> list[float]:
    """Per-label thresholds that maximise F1 on the validation split (0.5 for labels without positives)."""
    out = []
    for j in range(y.shape[1]):
        p, t = proba[:, j], y[:, j].astype(bool)
        if not t.any() or t.all():
            out.append(0.5)
            continue
        order = np.argsort(-p, kind="stable")
        tp = np.cumsum(t[order])
        f1 = 2 * tp / (np.arange(1, len(p) + 1) + t.sum())
        k = int(np.argmax(f1))
        low = p[order[k + 1]] if k + 1 < len(p) else 0.0
        out.append(float(np.clip((p[order[k]] + low) / 2, 0.01, 0.99)))
    return out
