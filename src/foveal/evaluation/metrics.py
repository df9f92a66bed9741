"""``evaluate_predictions``: the one entry point from (task, true labels, probabilities) to the JSON dict.

The metrics themselves live per task in ``classification``, ``multilabel``,
``hierarchy`` and ``calibration``; every one is scikit-learn's (or, for those
scikit-learn lacks — ECE, hierarchical P/R/F1, mistake severity — a documented
formula tested against hand-worked cases).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from foveal.data.task import HierarchicalTask, MultilabelTask, Task
from foveal.probability import renormalized

HEADLINE = {
    "binary": ("accuracy", "balanced_accuracy", "f1", "roc_auc", "average_precision", "ece"),
    "multiclass": ("accuracy", "balanced_accuracy", "macro_f1", "top5_accuracy", "roc_auc", "ece"),
    "multilabel": ("map", "micro_f1", "macro_f1", "subset_accuracy", "hamming_loss", "ece"),
    "hierarchical": ("accuracy", "level_1_accuracy", "hierarchical_f1", "mistake_severity", "macro_f1", "ece"),
}


def evaluate_predictions(task: Task, labels: Sequence, proba: np.ndarray) -> dict:
    """``{"task", "n", "metrics": {...}, ...details}`` for true ``labels`` and probabilities ``proba``.

    Details: ``classes``; single-label ``confusion_matrix`` (+ ``_normalized``), ``per_class``,
    ``most_confused``; binary ``thresholds``; multi-label ``per_label``; hierarchical
    ``mistake_severity_counts``; all ``reliability`` (calibration bins).
    """
    from foveal.evaluation.classification import predicted_indices, single_label
    from foveal.evaluation.hierarchy import hierarchical
    from foveal.evaluation.multilabel import multilabel

    proba = np.asarray(proba, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)  # ill-defined metrics on tiny splits
        warnings.simplefilter("ignore", category=RuntimeWarning)
        y = task.encode(labels)
        if isinstance(task, MultilabelTask):
            body = multilabel(task, y, proba)
        else:
            proba = renormalized(proba)
            y_pred = predicted_indices(task, proba)
            body = single_label(task, y, proba, y_pred)
            if isinstance(task, HierarchicalTask):
                extra, details = hierarchical(list(labels), [task.classes[i] for i in y_pred], task.depth)
                body["metrics"].update(extra)
                body.update(details)
    return {"task": task.type, "n": len(labels), **body}


def headline(result: dict) -> dict:
    """The few metrics a summary shows first, in a fixed order per task."""
    m = result.get("metrics", {})
    return {k: m[k] for k in HEADLINE.get(result.get("task", ""), ()) if k in m}


def epoch_scores(task: Task, y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """The few metrics a training run tracks per epoch, on encoded targets ``y``, defined exactly as
    in :func:`evaluate_predictions`. The first one (mAP for multi-label, else accuracy) picks the best epoch."""
    from sklearn import metrics as skm

    from foveal.evaluation.classification import predicted_indices
    from foveal.evaluation.hierarchy import level_accuracies
    from foveal.evaluation.multilabel import label_average_precision, mean_average_precision, predicted_matrix

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.simplefilter("ignore", category=RuntimeWarning)
        if isinstance(task, MultilabelTask):
            y_pred = predicted_matrix(task, proba)
            return {"map": mean_average_precision(label_average_precision(y, proba)),
                    "micro_f1": float(skm.f1_score(y, y_pred, average="micro", zero_division=0))}
        y_pred = predicted_indices(task, renormalized(proba))
        out = {"accuracy": float(skm.accuracy_score(y, y_pred)),
               "macro_f1": float(skm.f1_score(y, y_pred, labels=np.arange(task.n_classes), average="macro",
                                              zero_division=0))}
        if isinstance(task, HierarchicalTask):
            names = [task.classes[i] for i in y]
            levels = level_accuracies(names, [task.classes[i] for i in y_pred], task.depth)
            out.update({k: v for k, v in levels.items() if k != f"level_{task.depth}_accuracy"})
        return out
