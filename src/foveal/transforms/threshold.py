"""``foveal eval --save-threshold``: a binary bundle's decision threshold, written as a child bundle."""

from __future__ import annotations

from pathlib import Path

from foveal.bundle.derive import derive_bundle
from foveal.errors import ConfigError


def save_threshold_bundle(evaluation, choice: str, out: str | Path) -> tuple[Path, float]:
    """Write a child of the evaluated binary bundle whose decisions use the chosen threshold."""
    from foveal.evaluation.thresholds import choose_threshold

    predictor = evaluation.predictor
    if predictor.task.type != "binary":
        raise ConfigError(f"--save-threshold applies to binary tasks, this bundle is {predictor.task.type}",
                          "drop --save-threshold")
    y = predictor.task.encode(evaluation.labels)
    threshold = choose_threshold(choice, y, evaluation.proba[:, 1])
    task = {**predictor.task.to_json(), "decision_threshold": threshold}
    changes = {"task": task, "decision": {"threshold": threshold, "method": choice, "positive": predictor.task.positive,
                                          "fitted_on": {"data": evaluation.data_name, "split": evaluation.split,
                                                        "n": int(len(y))}}}
    return derive_bundle(predictor, out, changes, "save-threshold"), threshold
