"""Comparing bundles of any kind on the same data: metrics, model size and inference time."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foveal.errors import ConfigError, DataError


@dataclass
class Entry:
    name: str
    evaluation: object  # foveal.evaluation.run.Evaluation
    size_bytes: int
    ms_per_image: float


def bundle_size(path: Path) -> int:
    """Bytes of every file in the bundle folder."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def describe(manifest: dict) -> str:
    """A short model name: ``svm+hog`` for classical models, the architecture name for deep ones."""
    model = manifest.get("model", {})
    if "estimator" in model:
        return f"{model['estimator']}+{model.get('features', '?')}"
    for key in ("name", "arch", "architecture", "timm_name", "model"):
        if isinstance(model.get(key), str):
            return model[key]
    return manifest.get("family", "model")


def _common_data(predictors) -> str:
    sources = {p.manifest.get("training", {}).get("data") for p in predictors}
    if len(sources) != 1 or None in sources:
        raise ConfigError("the bundles were trained on different data (or it is not recorded)",
                          "give --data to compare them on the same data")
    return sources.pop()


def _check_same_task(predictors) -> None:
    first = predictors[0].task
    for p in predictors[1:]:
        if p.task.type != first.type or p.task.classes != first.classes:
            raise ConfigError(f"{p.path} predicts {p.task.type} {p.task.classes[:5]}, unlike {predictors[0].path}",
                              "compare bundles trained for the same classes")


def _timed_proba(predictor, images: np.ndarray, repeats: int = 3) -> tuple[np.ndarray, float]:
    """Probabilities and the best-of-``repeats`` milliseconds per image (after one warm-up batch)."""
    predictor.predict_proba(images[: min(len(images), 8)])
    best, proba = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        proba = predictor.predict_proba(images)
        best = min(best, time.perf_counter() - started)
    return proba, 1000.0 * best / max(1, len(images))


def compare_bundles(bundles: list, data=None, split: str | None = None, max_skip_ratio: float = 0.1,
                    repeats: int = 3) -> list[Entry]:
    """Evaluate every bundle on the same samples; each preprocessing is decoded once and shared."""
    from foveal.bundle import load_bundle
    from foveal.data.images import load_images
    from foveal.data.load import load_dataset
    from foveal.evaluation.run import evaluation_from_loaded

    if len(bundles) < 2:
        raise ConfigError("compare needs at least two bundles", "give two or more run folders or bundles")
    predictors = [load_bundle(b) for b in bundles]
    _check_same_task(predictors)
    ds = load_dataset(data or _common_data(predictors), predictors[0].task)
    chosen = split or ("test" if "test" in ds.splits else "all")
    part = ds.select(chosen)
    decoded: dict = {}
    entries = []
    for predictor, name in zip(predictors, _names(predictors)):
        if predictor.preprocessing not in decoded:
            decoded[predictor.preprocessing] = load_images(part, predictor.preprocessing, max_skip_ratio)
        loaded = decoded[predictor.preprocessing]
        if len(loaded.kept) == 0:
            raise DataError(f"no image of {part.name} could be decoded", "run `foveal data check` on it")
        proba, ms = _timed_proba(predictor, loaded.images, repeats)
        ev = evaluation_from_loaded(predictor, part, loaded, chosen, ds.name, proba)
        entries.append(Entry(name, ev, bundle_size(predictor.path), ms))
    return entries


def _names(predictors) -> list[str]:
    base = [describe(p.manifest) for p in predictors]
    out = []
    for p, b in zip(predictors, base):
        folder = Path(p.path).parent.name if Path(p.path).name == "model" else Path(p.path).name
        out.append(b if base.count(b) == 1 else f"{b} ({folder})")
    return out


def comparison_json(entries: list[Entry]) -> dict:
    first = entries[0].evaluation
    return {"task": first.result["task"], "data": first.data_name, "split": first.split,
            "n": first.result["n"],
            "models": [{"name": e.name, "bundle": str(e.evaluation.predictor.path),
                        "kind": e.evaluation.predictor.family, "family": e.evaluation.predictor.family,
                        "runtime": e.evaluation.predictor.runtime, "size_bytes": e.size_bytes,
                        "inference_ms_per_image": e.ms_per_image,
                        "train_seconds": e.evaluation.predictor.manifest.get("training", {}).get("seconds"),
                        "metrics": e.evaluation.result["metrics"]} for e in entries]}


LOWER_IS_BETTER = {"ece", "brier", "log_loss", "hamming_loss", "mistake_severity", "mean_tree_distance"}


def best_of(values: list[float | None], metric: str) -> int | None:
    """Index of the best value (lower for losses and errors), None when no value is finite."""
    arr = np.array([np.nan if v is None else v for v in values], dtype=float)
    if not np.isfinite(arr).any():
        return None
    return int(np.nanargmin(arr) if metric in LOWER_IS_BETTER else np.nanargmax(arr))
