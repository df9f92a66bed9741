"""Evaluating a bundle on a dataset."""

from __future__ import annotations

from pathlib import Path

from foveal.data.dataset import Dataset
from foveal.errors import DataError


def evaluate_bundle(bundle: str | Path, data: str | Path | Dataset, split: str | None = None,
                    max_skip_ratio: float = 0.1) -> dict:
    """Metrics of ``bundle`` on ``data``'s test split (or ``split``; all data when it has no splits).

    Returns the JSON shape ``{"task", "n", "metrics", ...details}``.
    """
    from foveal.bundle import load_bundle
    from foveal.data.load import load_dataset
    from foveal.evaluation.metrics import evaluate_predictions

    predictor = load_bundle(bundle)
    ds = load_dataset(data, predictor.task)
    chosen = split or ("test" if "test" in ds.splits else "all")
    part = ds.select(chosen)
    proba, loaded = predictor.predict_dataset(part, max_skip_ratio=max_skip_ratio)
    if len(loaded.kept) == 0:
        raise DataError(f"no image of {part.name} could be decoded", "run `foveal data check` on it")
    labels = [part.labels[i] for i in loaded.kept]
    result = evaluate_predictions(predictor.task, labels, proba)
    return {**result, "split": chosen, "data": ds.name, "bundle": str(predictor.path), "skipped": loaded.skipped}
