"""Single-label metrics (binary, multiclass, and the leaves of a hierarchy), all from scikit-learn."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from foveal.data.task import BinaryTask, HierarchicalTask, Task
from foveal.evaluation.calibration import calibration_metrics
from foveal.evaluation.thresholds import threshold_analysis

TOP_K = (3, 5)
MOST_CONFUSED = 10


def predicted_indices(task: Task, proba: np.ndarray) -> np.ndarray:
    """Class index per row as the task decides: tree walk (hierarchical), threshold (binary), else argmax."""
    if isinstance(task, HierarchicalTask):
        return np.array([task.classes.index(p.label) for p in task.decode(proba)], dtype=np.int64)
    if isinstance(task, BinaryTask):
        return task.predicted_indices(proba)
    return np.argmax(proba, axis=1)


def single_label(task: Task, y: np.ndarray, proba: np.ndarray, y_pred: np.ndarray) -> dict:
    """Metrics and details for class indices ``y`` / ``y_pred`` and probabilities ``proba``."""
    labels = np.arange(task.n_classes)
    m = {"accuracy": skm.accuracy_score(y, y_pred),
         "balanced_accuracy": skm.balanced_accuracy_score(y, y_pred)}
    for avg in ("macro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(y, y_pred, labels=labels, average=avg, zero_division=0)
        m.update({f"{avg}_precision": p, f"{avg}_recall": r, f"{avg}_f1": f})
    m["cohen_kappa"] = skm.cohen_kappa_score(y, y_pred, labels=labels)
    m["matthews_corrcoef"] = skm.matthews_corrcoef(y, y_pred)
    details: dict = {}
    if task.type == "binary":
        m.update(_binary(y, proba, y_pred))
        details["thresholds"] = threshold_analysis(y, proba[:, 1])
        if getattr(task, "decision_threshold", None) is not None:
            details["decision_threshold"] = task.decision_threshold
    else:
        m.update(_ranking(y, proba, labels))
    cal, bins = calibration_metrics(y, proba)
    m.update(cal)
    cm = skm.confusion_matrix(y, y_pred, labels=labels)
    return {"metrics": _floats(m), "classes": task.classes, "confusion_matrix": cm.tolist(),
            "confusion_matrix_normalized": _row_normalized(cm), "per_class": _per_class(task, y, y_pred),
            "most_confused": most_confused(task.classes, cm), "reliability": bins, **details}


def _binary(y: np.ndarray, proba: np.ndarray, y_pred: np.ndarray) -> dict:
    p, r, f, _ = skm.precision_recall_fscore_support(y, y_pred, average="binary", pos_label=1, zero_division=0)
    m = {"precision": p, "recall": r, "f1": f}
    if len(np.unique(y)) == 2:
        m["roc_auc"] = skm.roc_auc_score(y, proba[:, 1])
        m["average_precision"] = skm.average_precision_score(y, proba[:, 1])
    return m


def _ranking(y: np.ndarray, proba: np.ndarray, labels: np.ndarray) -> dict:
    """Top-k accuracy and one-vs-rest ROC-AUC (macro), where they are defined."""
    m = {}
    for k in TOP_K:
        if len(labels) > k:
            m[f"top{k}_accuracy"] = skm.top_k_accuracy_score(y, proba, k=k, labels=labels)
    if len(np.unique(y)) == len(labels) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-6):
        m["roc_auc"] = skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=labels)
        m["weighted_roc_auc"] = skm.roc_auc_score(y, proba, multi_class="ovr", average="weighted", labels=labels)
    return m


def _per_class(task: Task, y: np.ndarray, y_pred: np.ndarray) -> dict:
    p, r, f, s = skm.precision_recall_fscore_support(y, y_pred, labels=np.arange(task.n_classes), zero_division=0)
    return {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, c in enumerate(task.classes)}


def _row_normalized(cm: np.ndarray) -> list[list[float]]:
    rows = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0).round(6).tolist()


def most_confused(classes: list[str], cm: np.ndarray, limit: int = MOST_CONFUSED) -> list[dict]:
    """Off-diagonal cells of the confusion matrix, largest first: ``{"true", "predicted", "count", "rate"}``."""
    off = cm.copy()
    np.fill_diagonal(off, 0)
    rows = cm.sum(axis=1)
    order = np.argsort(-off, axis=None, kind="stable")[:limit]
    out = []
    for flat in order:
        i, j = np.unravel_index(flat, cm.shape)
        if off[i, j] == 0:
            break
        out.append({"true": classes[i], "predicted": classes[j], "count": int(off[i, j]),
                    "rate": float(off[i, j] / rows[i])})
    return out


def _floats(m: dict) -> dict:
    return {k: float(v) for k, v in m.items()}
