"""What a finished run records: the bundle manifest (task, preprocessing, model, metrics, lineage)
and the run folder's files (metrics.json, skipped.csv)."""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from pathlib import Path

from foveal.config import TrainConfig
from foveal.files import atomic_write_text, write_json

VERSIONED = ("numpy", "scikit-learn", "scikit-image", "pillow", "skops", "torch", "torchvision", "timm", "safetensors")


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("foveal", *VERSIONED):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


def data_name(cfg: TrainConfig) -> str:
    return str(cfg.data) if isinstance(cfg.data, (str, Path)) else getattr(cfg.data, "name", "data")


def bundle_manifest(cfg: TrainConfig, engine: str, data, fitted, metrics: dict, seconds: float) -> dict:
    """The ``foveal.json`` of a run's bundle (``format``, ``files`` are added when it is saved)."""
    family = fitted.spec.get("family", engine)
    return {
        "family": family,
        "runtime": fitted.model.runtime,
        "task": data.task.to_json(),
        "preprocessing": data.prep.to_json(),
        "model": fitted.spec,
        "metrics": {"val": metrics.get("metrics", {})},
        "training": {"data": data_name(cfg), "n_train": len(data.train.loaded.kept),
                     "n_val": len(data.val.loaded.kept), "seconds": round(seconds, 3), **fitted.summary},
        "lineage": {"parent": fitted.parent, "data_fingerprint": data.fingerprint(),
                    "config": _config(cfg, engine), "versions": versions(),
                    "created": datetime.now(timezone.utc).isoformat(timespec="seconds")},
        **fitted.manifest,
    }


def _config(cfg: TrainConfig, engine: str) -> dict:
    from foveal.runs.engines import engine_scopes

    out = cfg.applied(engine_scopes(cfg, engine))
    out["data"] = data_name(cfg)
    return out


def write_run_files(run_dir: Path, metrics: dict, skipped: list[dict]) -> None:
    write_json(run_dir / "metrics.json", {"split": "val", **metrics})
    if skipped:
        atomic_write_text(run_dir / "skipped.csv", skipped_csv(skipped))


def skipped_csv(skipped: list[dict]) -> str:
    from foveal.csvio import csv_text

    return csv_text(["path", "reason"], [[s["path"], s["reason"]] for s in skipped])


def write_curves(run_dir: Path) -> Path | None:
    """``curves.png``: the losses and validation metrics of ``metrics.csv``, when the run keeps one."""
    from foveal.evaluation.plots import learning_curves
    from foveal.files import atomic_write_bytes

    source = Path(run_dir) / "metrics.csv"
    png = learning_curves(source) if source.is_file() else None
    return atomic_write_bytes(source.with_name("curves.png"), png) if png else None
