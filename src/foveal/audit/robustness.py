"""``foveal robustness``: a bundle's main metric under each corruption × severity, against clean
images; mean corruption error against a baseline bundle (Hendrycks & Dietterich, 2019).

mCE: for each corruption c, CE_c = Σ_s E(c, s) / Σ_s E_base(c, s), with E = 1 − metric, averaged over
corruptions; the relative mCE uses E(c, s) − E(clean) on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from foveal.audit.corruptions import CORRUPTIONS, SEVERITIES, applicable, corrupt
from foveal.errors import ConfigError, DataError


@dataclass
class Scored:
    """One bundle's metric on clean and corrupted copies of the same samples."""

    clean: float
    corruptions: dict[str, dict[int, float]]

    def mean(self) -> float:
        values = [v for per in self.corruptions.values() for v in per.values()]
        return float(np.mean(values)) if values else float("nan")


@dataclass
class RobustnessResult:
    result: dict  # the --json content
    examples: dict[str, list[np.ndarray]] = field(default_factory=dict)  # one image per severity
    original: np.ndarray | None = None


def main_metric(task_type: str) -> str:
    from foveal.evaluation.metrics import HEADLINE

    return HEADLINE[task_type][0]


def _score(predictor, labels: list, images: np.ndarray, metric: str) -> float:
    from foveal.evaluation.metrics import evaluate_predictions

    return float(evaluate_predictions(predictor.task, labels, predictor.predict_proba(images))["metrics"][metric])


def score_corruptions(predictor, images: np.ndarray, labels: list, names: list[str], severities: tuple[int, ...],
                      seed: int) -> Scored:
    from foveal.progress import track

    metric = main_metric(predictor.task.type)
    clean = _score(predictor, labels, images, metric)
    out: dict[str, dict[int, float]] = {}
    steps = [(n, s) for n in names for s in severities]
    for name, severity in track(steps, "Corrupting", total=len(steps)):
        out.setdefault(name, {})[severity] = _score(predictor, labels, corrupt(images, name, severity, seed), metric)
    return Scored(clean, out)


def check_names(corruptions: list[str] | None, severities: list[int] | None) -> tuple[list[str], tuple[int, ...]]:
    names = list(corruptions or CORRUPTIONS)
    unknown = [n for n in names if n not in CORRUPTIONS]
    if unknown:
        raise ConfigError(f"unknown corruption {unknown[0]!r}", f"use any of {', '.join(CORRUPTIONS)}")
    chosen = tuple(sorted(set(severities or SEVERITIES)))
    if not chosen or any(s not in SEVERITIES for s in chosen):
        raise ConfigError(f"severities must be among 1-5, got {list(severities or [])}", "write e.g. --severities 1,3,5")
    return names, chosen


def _decoded(predictor, part, max_skip_ratio: float):
    from foveal.data.images import load_images

    loaded = load_images(part, predictor.preprocessing, max_skip_ratio=max_skip_ratio)
    if len(loaded.kept) == 0:
        raise DataError(f"no image of {part.name} could be decoded", "run `foveal data check` on it")
    return loaded.images, [part.labels[i] for i in loaded.kept], loaded


def mce(model: Scored, base: Scored) -> dict:
    """CE per corruption, mCE and relative mCE against ``base`` (errors are 1 − metric)."""
    ce, relative = {}, {}
    for name, per in model.corruptions.items():
        errors = np.array([1 - per[s] for s in per])
        base_errors = np.array([1 - base.corruptions[name][s] for s in per])
        ce[name] = float(errors.sum() / base_errors.sum()) if base_errors.sum() > 0 else float("nan")
        gap, base_gap = (errors - (1 - model.clean)).sum(), (base_errors - (1 - base.clean)).sum()
        relative[name] = float(gap / base_gap) if base_gap > 0 else float("nan")
    return {"ce": ce, "mce": float(np.nanmean(list(ce.values()))) if ce else None,
            "relative_mce": float(np.nanmean(list(relative.values()))) if relative else None}


def run_robustness(bundle, data, split: str | None = None, corruptions: list[str] | None = None,
                   severities: list[int] | None = None, seed: int = 0, tta: bool = False, baseline=None,
                   max_skip_ratio: float = 0.1) -> RobustnessResult:
    """Score ``bundle`` (a path or Predictor) on ``data``'s split, clean and corrupted; ``baseline``
    (a bundle) adds its scores and the mCE."""
    from foveal.audit.tta import tta_views, with_tta
    from foveal.bundle import load_bundle
    from foveal.data.load import load_dataset

    names, chosen = check_names(corruptions, severities)
    predictor = load_bundle(bundle) if isinstance(bundle, (str, Path)) else bundle
    predictor = with_tta(predictor) if tta else predictor
    base = load_bundle(baseline) if isinstance(baseline, (str, Path)) else baseline
    ds = load_dataset(data, predictor.task)
    which = split or ("test" if "test" in ds.splits else "all")
    part = ds.select(which)
    images, labels, loaded = _decoded(predictor, part, max_skip_ratio)
    names_here = [n for n in names if applicable(n, predictor.preprocessing.channels)]
    scored = score_corruptions(predictor, images, labels, names_here, chosen, seed)
    result = _result_json(predictor, ds.name, which, len(labels), scored, seed, tta_views(predictor))
    result["not_applicable"] = [n for n in names if n not in names_here]
    result["skipped"] = loaded.skipped
    if base is not None:
        base_images, base_labels, _ = _decoded(base, part, max_skip_ratio)
        base_scored = score_corruptions(base, base_images, base_labels, names_here, chosen, seed)
        result["baseline"] = {"bundle": str(base.path), "clean": base_scored.clean,
                              "mean_corruption": base_scored.mean(), "corruptions": _by_key(base_scored)}
        result.update(mce(scored, base_scored))
    examples = {n: [corrupt(images[:1], n, s, seed)[0] for s in chosen] for n in names_here}
    return RobustnessResult(result, examples, images[0])


def _by_key(scored: Scored) -> dict:
    return {name: {str(s): v for s, v in per.items()} for name, per in scored.corruptions.items()}


def _result_json(predictor, data: str, split: str, n: int, scored: Scored, seed: int, tta) -> dict:
    mean = scored.mean()
    per = {name: float(np.mean(list(v.values()))) for name, v in scored.corruptions.items()}
    return {"bundle": str(predictor.path), "data": data, "split": split, "n": n,
            "metric": main_metric(predictor.task.type), "seed": seed, "tta": tta, "clean": scored.clean,
            "corruptions": _by_key(scored), "per_corruption": per, "mean_corruption": mean,
            "relative_drop": float((scored.clean - mean) / scored.clean) if scored.clean else None}
