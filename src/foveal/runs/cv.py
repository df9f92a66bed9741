"""K-fold cross-validation through the ordinary training entry point, so every model kind works.

Each fold is a normal training run (``foveal.runs.pipeline.run_training``) on a copy of the data
whose ``split`` column marks that fold ``val`` and the rest ``train``; its
bundle then predicts the held-out fold. The run folder holds ``fold-<k>/``
run folders, ``cv.json``, ``folds.csv`` and ``oof.csv`` (out-of-fold
probabilities, one row per sample).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from foveal.config import TrainConfig
from foveal.data.dataset import Dataset
from foveal.errors import DataError
from foveal.files import atomic_write_text, write_json


@dataclass
class FoldResult:
    fold: int
    run_dir: Path
    n_train: int
    n_val: int
    seconds: float
    metrics: dict
    rows: np.ndarray  # indices into the CV data of the predicted samples
    proba: np.ndarray
    skipped: list[dict] = field(default_factory=list)
    kind: str = ""


@dataclass
class CVResult:
    run_dir: Path
    folds: list[FoldResult]
    summary: dict  # the cv.json content
    oof_csv: Path


def cv_data(cfg: TrainConfig, include_test: bool) -> tuple[Dataset, list[str]]:
    """The samples cross-validated (everything but the ``test`` split unless ``include_test``)
    and how each is named in the full dataset (its path, or ``name#index`` for in-memory images)."""
    from foveal.data.load import load_dataset

    ds = load_dataset(cfg.data, cfg.task)
    keep = [i for i, s in enumerate(ds.split) if include_test or s != "test"]
    if not keep:
        raise DataError(f"{ds.name} holds only a test split", "add --include-test to cross-validate it")
    return ds.subset(keep), [ds.location(i) for i in keep]


def run_cv(cfg: TrainConfig, folds: int = 5, include_test: bool = False) -> CVResult:
    """Train and score ``folds`` models; returns per-fold metrics, mean and std, and OOF probabilities."""
    from foveal.data.folds import assign_folds
    from foveal.runs.folder import RunFolder
    from foveal.runs.pipeline import checked_engine

    engine = checked_engine(cfg).name
    folder = RunFolder.plan(cfg, stem=f"cv-{cfg.model}")
    data, names = cv_data(cfg, include_test)
    fold_of = assign_folds(data.task, data.labels, folds, cfg.seed, data.group)
    run_dir = folder.create()
    folder.write_config(cfg, engine)
    results = [_run_fold(cfg, data, fold_of, f, run_dir) for f in range(folds)]
    summary, oof = _summarize(cfg, data, names, results, folds, include_test)
    oof_csv = atomic_write_text(run_dir / "oof.csv", oof)
    atomic_write_text(run_dir / "folds.csv", folds_csv(summary))
    write_json(run_dir / "cv.json", summary)
    return CVResult(run_dir, results, summary, oof_csv)


def _run_fold(cfg: TrainConfig, data: Dataset, fold_of: np.ndarray, f: int, run_dir: Path) -> FoldResult:
    from foveal.bundle import load_bundle
    from foveal.evaluation.metrics import evaluate_predictions
    from foveal.runs.pipeline import run_training

    fold_data = replace(data, split=["val" if k == f else "train" for k in fold_of])
    trained = run_training(replace(cfg, data=fold_data, out=str(run_dir / f"fold-{f + 1}"), name=None, report=False))
    held = np.flatnonzero(fold_of == f)
    predictor = load_bundle(trained.bundle)
    proba, loaded = predictor.predict_dataset(data.subset(held), max_skip_ratio=1.0)
    labels = [data.labels[held[i]] for i in loaded.kept]
    metrics = evaluate_predictions(data.task, labels, proba)["metrics"] if len(labels) else {}
    return FoldResult(f + 1, trained.run_dir, trained.n_train, len(labels), trained.seconds, metrics,
                      held[loaded.kept], proba, loaded.skipped, predictor.family)


def mean_std(per_fold: list[dict]) -> tuple[dict, dict]:
    """Mean and (population, as ``scores.std()``) standard deviation of every metric all folds report."""
    names = [k for k in per_fold[0] if all(k in m for m in per_fold)] if per_fold else []
    mean, std = {}, {}
    for name in names:
        values = np.array([np.nan if m[name] is None else m[name] for m in per_fold], dtype=float)
        mean[name] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        std[name] = float(np.nanstd(values)) if np.isfinite(values).any() else float("nan")
    return mean, std


def _summarize(cfg: TrainConfig, data: Dataset, names: list[str], results: list[FoldResult], k: int,
               include_test: bool):
    from foveal.evaluation.metrics import evaluate_predictions

    mean, std = mean_std([r.metrics for r in results])
    rows = np.concatenate([r.rows for r in results])
    proba = np.concatenate([r.proba for r in results])
    order = np.argsort(rows, kind="stable")
    rows, proba = rows[order], proba[order]
    fold_by_row = {int(i): r.fold for r in results for i in r.rows}
    pooled = evaluate_predictions(data.task, [data.labels[i] for i in rows], proba)["metrics"] if len(rows) else {}
    summary = {
        "task": data.task.type, "data": data.name, "n": int(len(data)), "k": k, "seed": cfg.seed,
        "model": cfg.model, "kind": results[0].kind,
        "features": cfg.features if results[0].kind == "classical" else None, "include_test": include_test,
        "folds": [{"fold": r.fold, "n_train": r.n_train, "n_val": r.n_val, "seconds": round(r.seconds, 3),
                   "run": str(r.run_dir), "metrics": r.metrics} for r in results],
        "mean": mean, "std": std, "pooled": pooled,
        "skipped": [s for r in results for s in r.skipped], "oof": "oof.csv",
    }
    return summary, oof_csv_text(data, names, rows, proba, fold_by_row)


def oof_csv_text(data: Dataset, names: list[str], rows: np.ndarray, proba: np.ndarray,
                 fold_by_row: dict[int, int]) -> str:
    """``path,label,fold,prediction,<class>...``: one row per predicted sample, in data order
    (text cells a spreadsheet would run as formulas are neutralised; ``csvio.read_csv`` restores them)."""
    from foveal.csvio import csv_text
    from foveal.data.task import MultilabelTask

    task = data.task
    predictions = task.decode(proba) if len(rows) else []
    out = []
    for i, p, pred in zip(rows, proba, predictions):
        label = data.labels[i]
        text = "|".join(label) if isinstance(task, MultilabelTask) else label
        guess = "|".join(pred.label) if isinstance(pred.label, list) else pred.label
        out.append([names[int(i)], text, fold_by_row[int(i)], guess, *(float(f"{v:.6g}") for v in p)])
    return csv_text(["path", "label", "fold", "prediction", *task.classes], out)


def folds_csv(summary: dict) -> str:
    """One row per fold plus mean and std rows, one column per metric."""
    from foveal.csvio import csv_text

    names = list(summary["mean"])
    rows = [[f["fold"], f["n_train"], f["n_val"], *(_num(f["metrics"].get(k)) for k in names)]
            for f in summary["folds"]]
    rows.append(["mean", "", "", *(_num(summary["mean"][k]) for k in names)])
    rows.append(["std", "", "", *(_num(summary["std"][k]) for k in names)])
    return csv_text(["fold", "n_train", "n_val", *names], rows)


def _num(value):
    return "" if value is None or value != value else float(f"{value:.6g}")
