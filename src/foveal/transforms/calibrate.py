"""``foveal calibrate``: temperature scaling fitted on validation data, written as a child bundle."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foveal.bundle.derive import derive_bundle
from foveal.data.dataset import Dataset
from foveal.errors import ConfigError


@dataclass
class CalibrationResult:
    bundle: Path
    temperature: float
    split: str
    n: int
    before: dict
    after: dict
    at_bound: bool = False  # the search hit T_BOUNDS: the split is (nearly) separable or too small


def validation_part(ds: Dataset, manifest: dict, split: str | None) -> tuple[Dataset, str]:
    """DATA's validation samples: ``split`` if given, its ``val`` split, else the hold-out training made.

    Without a val split the training run held out ``val_fraction`` of the training pool with its
    seed; the same call on the same data gives the same samples.
    """
    if split:
        return ds.select(split), split
    if "val" in ds.splits:
        return ds.select("val"), "val"
    from foveal.data.split import train_val

    config = manifest.get("lineage", {}).get("config", {})
    fraction, seed = float(config.get("val_fraction", 0.2)), int(config.get("seed", 0))
    _, val = train_val(ds, fraction, seed)
    return val, f"val (held out as in training: fraction {fraction}, seed {seed})"


def calibrate_bundle(bundle, data, out: str | Path, split: str | None = None,
                     max_skip_ratio: float = 0.1) -> CalibrationResult:
    """Fit temperature scaling on DATA's validation split and write a calibrated child bundle."""
    from foveal.bundle import load_bundle
    from foveal.data.load import load_dataset
    from foveal.evaluation.calibration import T_BOUNDS, ece, fit_temperature, nll
    from foveal.probability import apply_temperature

    predictor = load_bundle(bundle) if isinstance(bundle, (str, Path)) else bundle
    ds = load_dataset(data, predictor.task)
    part, split_name = validation_part(ds, predictor.manifest, split)
    proba, loaded = predictor.predict_dataset(part, max_skip_ratio=max_skip_ratio)
    if len(loaded.kept) < 2:
        raise ConfigError(f"only {len(loaded.kept)} validation image(s) to calibrate on",
                          "give DATA with a larger val split (or --split)")
    multilabel = predictor.task.type == "multilabel"
    y = predictor.task.encode([part.labels[i] for i in loaded.kept])
    _check_identifiable(y, proba, multilabel, split_name)
    t_new = fit_temperature(y, proba, multilabel)
    after = apply_temperature(proba, t_new, multilabel)
    before_m = {"nll": nll(y, proba, multilabel), "ece": ece(y, proba, multilabel)}
    after_m = {"nll": nll(y, after, multilabel), "ece": ece(y, after, multilabel)}
    at_bound = bool(any(abs(np.log(t_new / b)) < 1e-3 for b in T_BOUNDS))
    t_old = float((predictor.manifest.get("calibration") or {}).get("temperature", 1.0))
    changes = {"calibration": {"method": "temperature", "temperature": t_old * t_new,
                               "fitted_on": {"data": ds.name, "split": split_name, "n": int(len(y))},
                               "before": before_m, "after": after_m, "at_bound": at_bound},
               "task": _task_with_moved_thresholds(predictor.task, t_new)}
    path = derive_bundle(predictor, out, changes, "calibrate")
    return CalibrationResult(path, t_old * t_new, split_name, int(len(y)), before_m, after_m, at_bound)


def _check_identifiable(y: np.ndarray, proba: np.ndarray, multilabel: bool, split: str) -> None:
    """Refuse data without a single mistake: its likelihood keeps rising as T → 0, so any fitted
    temperature would only make the model more overconfident on new data."""
    wrong = ((proba >= 0.5) != y).any() if multilabel else (proba.argmax(axis=1) != y).any()
    if not wrong:
        raise ConfigError(f"the model makes no mistake on the {len(y)} images of split {split}, so temperature "
                          "scaling has no finite fit (a lower T always looks better there)",
                          "calibrate on a larger or harder held-out split with --split, or keep the bundle as it is")


def _moved(t: float, temperature: float) -> float:
    """The threshold that makes the same decisions on tempered probabilities: sigmoid(logit(t) / T)."""
    t = min(max(t, 1e-12), 1 - 1e-12)
    return float(1.0 / (1.0 + np.exp(-np.log(t / (1 - t)) / temperature)))


def _task_with_moved_thresholds(task, temperature: float) -> dict:
    """Task JSON whose thresholds keep every decision unchanged after calibration."""
    data = task.to_json()
    if "thresholds" in data:
        data["thresholds"] = [_moved(t, temperature) for t in data["thresholds"]]
    if data.get("decision_threshold") is not None:
        data["decision_threshold"] = _moved(data["decision_threshold"], temperature)
    return data
