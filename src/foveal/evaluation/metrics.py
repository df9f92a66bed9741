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
    from foveal.evaluation.calibration import renormalized
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
