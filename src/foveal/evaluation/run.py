"""Evaluating a bundle on a dataset, keeping what a report needs per sample."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from foveal.data.dataset import Dataset
from foveal.data.images import LoadedImages
from foveal.errors import DataError


@dataclass
class Evaluation:
    """One bundle on one set of samples: the metrics dict plus per-sample predictions.

    ``proba`` and ``loaded.images`` rows follow ``loaded.kept`` (indices into ``part``).
    """

    predictor: object  # foveal.bundle.Predictor (kept untyped: any kind of model)
    part: Dataset
    loaded: LoadedImages
    proba: np.ndarray
    result: dict
    split: str = "all"
    data_name: str = ""
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def labels(self) -> list:
        return [self.part.labels[i] for i in self.loaded.kept]

    def samples(self) -> list[dict]:
        """Per kept sample: ``path``, ``true``, ``predicted``, ``confidence`` (of the decision), ``correct``."""
        task = self.predictor.task
        if task.type == "multilabel":
            return _multilabel_samples(self)
        from foveal.evaluation.classification import predicted_indices

        pred = predicted_indices(task, self.proba)
        out = []
        for row, (i, label) in enumerate(zip(self.loaded.kept, self.labels)):
            guess = task.classes[int(pred[row])]
            out.append({"row": row, "path": self.part.location(int(i)), "true": label, "predicted": guess,
                        "confidence": float(self.proba[row, pred[row]]), "correct": guess == label})
        return out


def _multilabel_samples(ev: Evaluation) -> list[dict]:
    """Multi-label: the decision's confidence is that of its weakest label (for mistakes: its most confident wrong label)."""
    task = ev.predictor.task
    chosen = ev.proba >= task.thresholds[None, :]
    sure = np.where(chosen, ev.proba, 1.0 - ev.proba)  # confidence in each yes/no decision
    out = []
    for row, (i, label) in enumerate(zip(ev.loaded.kept, ev.labels)):
        truth = np.isin(task.classes, label)
        wrong = chosen[row] != truth
        conf = sure[row][wrong].max() if wrong.any() else sure[row].min()
        predicted = [c for c, yes in zip(task.classes, chosen[row]) if yes]
        out.append({"row": row, "path": ev.part.location(int(i)), "true": "|".join(sorted(label)) or "(none)",
                    "predicted": "|".join(predicted) or "(none)", "confidence": float(conf),
                    "correct": not wrong.any()})
    return out


def evaluation_from_loaded(predictor, part: Dataset, loaded: LoadedImages, split: str = "all",
                           data_name: str = "", proba: np.ndarray | None = None) -> Evaluation:
    """Score already-decoded images (e.g. a training run's validation split), predicting unless given ``proba``."""
    import time

    from foveal.evaluation.metrics import evaluate_predictions

    if len(loaded.kept) == 0:
        raise DataError(f"no image of {part.name} could be decoded", "run `foveal data check` on it")
    started = time.perf_counter()
    proba = predictor.predict_proba(loaded.images) if proba is None else proba
    seconds = time.perf_counter() - started
    labels = [part.labels[i] for i in loaded.kept]
    result = evaluate_predictions(predictor.task, labels, proba)
    from foveal.evaluation.domains import domain_metrics

    result.update(domain_metrics(predictor.task, part, loaded.kept, labels, proba))  # a manifest's domain column
    return Evaluation(predictor, part, loaded, proba, result, split, data_name or part.name, seconds)


def run_evaluation(bundle, data: str | Path | Dataset, split: str | None = None,
                   max_skip_ratio: float = 0.1) -> Evaluation:
    """Load ``bundle`` (a path or a Predictor), decode ``data``'s split once, predict and score."""
    from foveal.bundle import load_bundle
    from foveal.data.load import load_dataset

    predictor = load_bundle(bundle) if isinstance(bundle, (str, Path)) else bundle
    ds = load_dataset(data, predictor.task)
    chosen = split or ("test" if "test" in ds.splits else "all")
    part = ds.select(chosen)
    proba, loaded = predictor.predict_dataset(part, max_skip_ratio=max_skip_ratio)
    return evaluation_from_loaded(predictor, part, loaded, chosen, ds.name, proba)


def evaluate_bundle(bundle: str | Path, data: str | Path | Dataset, split: str | None = None,
                    max_skip_ratio: float = 0.1, keep_samples: bool = False) -> dict:
    """Metrics of ``bundle`` on ``data``'s test split (or ``split``; all data when it has no splits).

    Returns the JSON shape ``{"task", "n", "metrics", ...details}``; ``keep_samples`` adds
    ``samples``: one ``{path, true, predicted, confidence, correct}`` per evaluated image.
    """
    ev = run_evaluation(bundle, data, split, max_skip_ratio)
    return evaluation_json(ev, keep_samples)


def evaluation_json(ev: Evaluation, keep_samples: bool = False) -> dict:
    out = {**ev.result, "split": ev.split, "data": ev.data_name, "bundle": str(ev.predictor.path),
           "skipped": ev.loaded.skipped}
    if ev.predictor.manifest.get("tta"):  # test-time augmentation (foveal.audit.tta): the views averaged
        out["tta"] = ev.predictor.manifest["tta"]
    if keep_samples:
        out["samples"] = [{k: v for k, v in s.items() if k != "row"} for s in ev.samples()]
    return out
