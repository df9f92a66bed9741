"""Multi-label metrics from an indicator matrix and per-label probabilities, all from scikit-learn."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from foveal.data.task import MultilabelTask
from foveal.evaluation.calibration import calibration_metrics


def predicted_matrix(task: MultilabelTask, proba: np.ndarray) -> np.ndarray:
    """0/1 per (sample, label): probability at or above that label's threshold."""
    return (proba >= task.thresholds[None, :]).astype(np.int64)


def label_average_precision(y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """scikit-learn's average precision per label; NaN for labels without a positive sample."""
    has_pos = y.sum(axis=0) > 0
    return np.array([skm.average_precision_score(y[:, j], proba[:, j]) if has_pos[j] else np.nan
                     for j in range(y.shape[1])])


def mean_average_precision(ap: np.ndarray) -> float:
    """mAP over the labels that have positives (NaN when none has)."""
    return float(np.nanmean(ap)) if np.isfinite(ap).any() else float("nan")


def multilabel(task: MultilabelTask, y: np.ndarray, proba: np.ndarray) -> dict:
    y_pred = predicted_matrix(task, proba)
    has_pos = y.sum(axis=0) > 0
    ap = label_average_precision(y, proba)
    m = {
        "subset_accuracy": skm.accuracy_score(y, y_pred),
        "hamming_loss": skm.hamming_loss(y, y_pred),
        "map": mean_average_precision(ap),
        "label_cardinality": float(y.sum(axis=1).mean()) if len(y) else float("nan"),
        "predicted_label_cardinality": float(y_pred.sum(axis=1).mean()) if len(y) else float("nan"),
    }
    for avg in ("micro", "macro", "samples"):
        p, r, f, _ = skm.precision_recall_fscore_support(y, y_pred, average=avg, zero_division=0)
        m.update({f"{avg}_precision": p, f"{avg}_recall": r, f"{avg}_f1": f})
    if has_pos.all() and (y.sum(axis=0) < len(y)).all():
        m["roc_auc"] = skm.roc_auc_score(y, proba, average="macro")
    cal, bins = calibration_metrics(y, proba, multilabel=True)
    m.update(cal)
    p, r, f, s = skm.precision_recall_fscore_support(y, y_pred, zero_division=0)
    per_label = {c: {"precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]),
                     "ap": None if np.isnan(ap[j]) else float(ap[j]), "support": int(s[j])}
                 for j, c in enumerate(task.classes)}
    return {"metrics": {k: float(v) for k, v in m.items()}, "classes": task.classes,
            "per_label": per_label, "reliability": bins}
