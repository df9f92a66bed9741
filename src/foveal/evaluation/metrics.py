"""Metrics per task, computed with scikit-learn and named as scikit-learn users expect."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from sklearn import metrics as skm

from foveal.data.task import HierarchicalTask, MultilabelTask, Task


def evaluate_predictions(task: Task, labels: Sequence, proba: np.ndarray) -> dict:
    """``{"task", "n", "metrics": {...}, ...details}`` for true ``labels`` and scores ``proba``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)  # ill-defined metrics on tiny splits
        warnings.simplefilter("ignore", category=RuntimeWarning)
        if isinstance(task, MultilabelTask):
            body = _multilabel(task, labels, proba)
        else:
            body = _single_label(task, labels, proba)
            if isinstance(task, HierarchicalTask):
                body["metrics"].update(_levels(task, labels, body.pop("_predicted")))
            body.pop("_predicted", None)
    return {"task": task.type, "n": len(labels), **body}


def _single_label(task: Task, labels: Sequence[str], proba: np.ndarray) -> dict:
    y = task.encode(labels)
    if isinstance(task, HierarchicalTask):
        predicted = [p.label for p in task.decode(proba)]
        y_pred = np.array([task.classes.index(p) for p in predicted])
    else:
        y_pred = np.argmax(proba, axis=1)
        predicted = [task.classes[i] for i in y_pred]
    present = np.arange(task.n_classes)
    m = {"accuracy": skm.accuracy_score(y, y_pred),
         "balanced_accuracy": skm.balanced_accuracy_score(y, y_pred)}
    for avg in ("macro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(y, y_pred, labels=present, average=avg, zero_division=0)
        m.update({f"{avg}_precision": p, f"{avg}_recall": r, f"{avg}_f1": f})
    if task.type == "binary" and len(set(y)) == 2:
        m["roc_auc"] = skm.roc_auc_score(y, proba[:, 1])
        m["average_precision"] = skm.average_precision_score(y, proba[:, 1])
    p, r, f, s = skm.precision_recall_fscore_support(y, y_pred, labels=present, zero_division=0)
    per_class = {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                 for i, c in enumerate(task.classes)}
    cm = skm.confusion_matrix(y, y_pred, labels=present)
    return {"metrics": _floats(m), "classes": task.classes, "confusion_matrix": cm.tolist(),
            "per_class": per_class, "_predicted": predicted}


def _levels(task: HierarchicalTask, labels: Sequence[str], predicted: Sequence[str]) -> dict:
    out = {}
    for level in range(1, task.depth + 1):
        pairs = [(t.split("/")[:level], p.split("/")[:level]) for t, p in zip(labels, predicted)
                 if len(t.split("/")) >= level]
        if pairs:
            out[f"level_{level}_accuracy"] = float(np.mean([t == p for t, p in pairs]))
    return out


def _multilabel(task: MultilabelTask, labels: Sequence[list[str]], proba: np.ndarray) -> dict:
    y = task.encode(labels)
    y_pred = (proba >= task.thresholds[None, :]).astype(int)
    has_pos = y.sum(axis=0) > 0
    ap = np.array([skm.average_precision_score(y[:, j], proba[:, j]) if has_pos[j] else np.nan
                   for j in range(task.n_classes)])
    p, r, f, s = skm.precision_recall_fscore_support(y, y_pred, zero_division=0)
    m = {
        "subset_accuracy": skm.accuracy_score(y, y_pred),
        "hamming_loss": skm.hamming_loss(y, y_pred),
        "micro_f1": skm.f1_score(y, y_pred, average="micro", zero_division=0),
        "macro_f1": skm.f1_score(y, y_pred, average="macro", zero_division=0),
        "samples_f1": skm.f1_score(y, y_pred, average="samples", zero_division=0),
        "map": float(np.nanmean(ap)) if has_pos.any() else float("nan"),
    }
    per_label = {c: {"precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]),
                     "ap": None if np.isnan(ap[j]) else float(ap[j]), "support": int(s[j])}
                 for j, c in enumerate(task.classes)}
    return {"metrics": _floats(m), "classes": task.classes, "per_label": per_label}


def _floats(m: dict) -> dict:
    return {k: float(v) for k, v in m.items()}
