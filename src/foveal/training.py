"""``foveal.train``: data → split → fit → bundle, written into a run folder."""

from __future__ import annotations

import csv
import hashlib
import io
import platform
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import yaml

from foveal.config import TrainConfig
from foveal.data.dataset import Dataset
from foveal.data.task import MultilabelTask, Task
from foveal.data.images import (
    LoadedImages,
    Preprocessing,
    check_skip_ratio,
    infer_preprocessing,
    load_images,
)
from foveal.data.load import load_dataset
from foveal.data.split import train_val
from foveal.errors import ConfigError
from foveal.files import atomic_write_text, write_json
from foveal.progress import status

VERSIONED = ("numpy", "scikit-learn", "scikit-image", "pillow", "skops", "torch", "torchvision", "timm", "safetensors")


@dataclass
class TrainResult:
    run_dir: Path
    bundle: Path
    metrics: dict
    n_train: int
    n_val: int
    seconds: float
    skipped: list[dict] = field(default_factory=list)
    task: str = ""
    preprocessing: dict = field(default_factory=dict)
    config: TrainConfig | None = None


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("foveal", *VERSIONED):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


def make_run_dir(cfg: TrainConfig) -> Path:
    """``--out`` as given (must be new or empty), else the next free ``<project>/<name>-<n>``."""
    if cfg.out:
        out = Path(cfg.out)
        if out.exists() and any(out.iterdir()):
            raise ConfigError(f"--out {out} exists and is not empty", "choose a new folder; runs never overwrite")
        out.mkdir(parents=True, exist_ok=True)
        return out
    base = Path(cfg.project)
    base.mkdir(parents=True, exist_ok=True)
    name = cfg.name or cfg.model
    n = 1 + max((int(p.name.rsplit("-", 1)[1]) for p in base.glob(f"{name}-*")
                 if p.name.rsplit("-", 1)[1].isdigit()), default=0)
    while True:
        run = base / f"{name}-{n}"
        try:
            run.mkdir()
            return run
        except FileExistsError:
            n += 1


def fingerprint(ds: Dataset, loaded: LoadedImages) -> str:
    """A hash of image contents and labels, independent of file names and order."""
    rows = sorted(f"{h}\t{ds.labels[i]}" for h, i in zip(loaded.hashes, loaded.kept))
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def train(data: str | Path | Dataset | None = None, config: str | Path | None = None, **options) -> TrainResult:
    """Train a model and write its run folder; options mirror `foveal train`'s flags.

    >>> result = foveal.train("digits", model="svm", features="pixels")  # doctest: +SKIP
    """
    from foveal.config import resolve

    if data is not None:
        options["data"] = data if isinstance(data, Dataset) else str(data)
    cfg = resolve(TrainConfig, config, options)
    if not cfg.data:
        raise ConfigError("no training data given", "pass DATA: a folder, a manifest or a built-in dataset name")
    return run_training(cfg)


def is_deep(cfg: TrainConfig) -> bool:
    """Deep unless ``--model`` names a classical estimator (deep: cnn-small, any timm name, --init-from)."""
    from foveal.classical.estimators import list_estimators

    if cfg.init_from:
        return True
    if cfg.model in list_estimators():
        return False
    from foveal.deep.models import is_deep_model

    return is_deep_model(cfg.model)


def run_training(cfg: TrainConfig) -> TrainResult:
    if is_deep(cfg):
        from foveal.deep.run import run_deep

        return run_deep(cfg)
    started = time.perf_counter()
    ds = load_dataset(cfg.data, cfg.task)
    train_ds, val_ds = train_val(ds, cfg.val_fraction, cfg.seed)
    prep = infer_preprocessing(train_ds, cfg.image_size, cfg.channels, cfg.max_pixels)
    train_img = load_images(train_ds, prep, 1.0, "Decoding train")
    val_img = load_images(val_ds, prep, 1.0, "Decoding val")
    check_skip_ratio(ds.name, len(train_ds) + len(val_ds), train_img.skipped + val_img.skipped, cfg.max_skip_ratio)
    model, spec = _fit(cfg, ds, train_ds, train_img)
    ds.task, metrics, val_proba = validate(ds.task, val_ds, val_img, model)
    run_dir = make_run_dir(cfg)
    seconds = time.perf_counter() - started
    manifest = _manifest(cfg, ds, prep, spec, metrics, fingerprint(train_ds, train_img),
                         n=(len(train_img.kept), len(val_img.kept)), seconds=seconds)
    return write_run(run_dir, cfg, manifest, model, metrics, val_ds, (train_img, val_img), val_proba)


def write_run(run_dir: Path, cfg: TrainConfig, manifest: dict, model, metrics: dict, val_ds: Dataset,
              loaded: tuple[LoadedImages, LoadedImages], val_proba: np.ndarray | None) -> TrainResult:
    """The bundle, run files and report of a finished run (classical and deep alike)."""
    from foveal.bundle.format import save_bundle

    train_img, val_img = loaded
    bundle = save_bundle(run_dir / "model", manifest, model.files())
    skipped = train_img.skipped + val_img.skipped
    _write_run_files(run_dir, cfg, metrics, skipped)
    if cfg.report:
        from foveal.evaluation.report import write_training_report

        write_training_report(run_dir, bundle, val_ds, val_img, val_proba)
    return TrainResult(run_dir=run_dir, bundle=bundle, metrics=metrics, n_train=len(train_img.kept),
                       n_val=len(val_img.kept), seconds=manifest["training"]["seconds"], skipped=skipped,
                       task=manifest["task"]["type"], preprocessing=manifest["preprocessing"], config=cfg)


def _fit(cfg: TrainConfig, ds: Dataset, train_ds: Dataset, loaded: LoadedImages):
    from foveal.bundle.classical import ClassicalModel
    from foveal.classical.pipeline import build_pipeline

    pipeline = build_pipeline(cfg.features, cfg.model, ds.task, cfg.seed, cfg.params, cfg.feature_params,
                              cfg.scale)
    y = ds.task.encode([train_ds.labels[i] for i in loaded.kept])
    if ds.task.type != "multilabel" and len(np.unique(y)) < 2:
        raise ConfigError("the training split holds a single class", "add images of the other classes")
    with status(f"Fitting {cfg.model} on {len(y)} images"):
        pipeline.fit(loaded.images, y)
    spec = {"family": "classical", "features": cfg.features, "feature_params": cfg.feature_params,
            "estimator": cfg.model, "estimator_params": cfg.params, "scale": cfg.scale,
            "pipeline": [name for name, _ in pipeline.steps]}
    return ClassicalModel(pipeline, ds.task.n_classes), spec


def validate(task: Task, val_ds: Dataset, loaded: LoadedImages, model) -> tuple[Task, dict, np.ndarray | None]:
    """Predict the validation split once: tune multi-label thresholds on it, then score it.

    Returns the (possibly re-thresholded) task, the metrics and the probabilities.
    """
    from foveal.evaluation.metrics import evaluate_predictions
    from foveal.evaluation.thresholds import tune_label_thresholds

    if len(loaded.kept) == 0:
        return task, {}, None
    proba = model.predict_proba(loaded.images)
    labels = [val_ds.labels[i] for i in loaded.kept]
    if isinstance(task, MultilabelTask):
        task = MultilabelTask(task.classes, tune_label_thresholds(proba, task.encode(labels)))
    return task, evaluate_predictions(task, labels, proba), proba


def _manifest(cfg, ds, prep: Preprocessing, spec, metrics, data_fp, n, seconds) -> dict:
    return {
        "kind": spec.get("family", "classical"),
        "task": ds.task.to_json(),
        "preprocessing": prep.to_json(),
        "model": spec,
        "metrics": {"val": metrics.get("metrics", {})},
        "training": {"data": str(cfg.data) if not isinstance(cfg.data, Dataset) else cfg.data.name,
                     "n_train": n[0], "n_val": n[1], "seconds": round(seconds, 3)},
        "lineage": {"parent": None, "data_fingerprint": data_fp, "config": _plain_config(cfg),
                    "versions": versions(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds")},
    }


def _plain_config(cfg: TrainConfig) -> dict:
    out = cfg.to_dict()
    if isinstance(cfg.data, Dataset):
        out["data"] = cfg.data.name
    return out


def _write_run_files(run_dir: Path, cfg: TrainConfig, metrics: dict, skipped: list[dict]) -> None:
    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(_plain_config(cfg), sort_keys=False))
    write_json(run_dir / "metrics.json", {"split": "val", **metrics})
    if skipped:
        atomic_write_text(run_dir / "skipped.csv", skipped_csv(skipped))


def skipped_csv(skipped: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["path", "reason"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(skipped)
    return buffer.getvalue()
