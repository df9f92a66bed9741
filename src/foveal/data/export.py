"""`foveal data export`: write a dataset as real PNG files, as a class-folder tree or with a manifest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from foveal.csvio import csv_text
from foveal.data.card import write_card
from foveal.data.dataset import Dataset
from foveal.errors import ConfigError

EXPORT_FORMATS = ("folder", "manifest")


def _save_png(image: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image).save(path, format="PNG")


def _file_name(ds: Dataset, i: int) -> str:
    return f"{ds.name}-{i:05d}.png"


def export_dataset(ds: Dataset, dest: Path, fmt: str = "auto") -> dict:
    """Write ``ds`` (in-memory images) under ``dest``; returns a summary.

    ``folder``: ``dest/<split>/<class path>/<name>.png``; ``manifest``:
    ``dest/images/<name>.png`` plus ``dest/manifest.csv`` (path, label(s), split,
    cells escaped against spreadsheet formulas). Both get a ``dest/dataset.json``
    card (name, orientation_sensitive). Multi-label data can only be a manifest.
    """
    if ds.images is None:
        raise ConfigError(f"{ds.name} is already a set of files", "export works on built-in datasets")
    if fmt == "auto":
        fmt = "manifest" if ds.task.type == "multilabel" else "folder"
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}", f"use one of {', '.join(EXPORT_FORMATS)}")
    if fmt == "folder" and ds.task.type == "multilabel":
        raise ConfigError("multi-label data cannot be a class-folder tree", "use --format manifest")
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise ConfigError(f"{dest} exists and is not a folder", "export into a new or empty folder")
    if dest.exists() and any(dest.iterdir()):
        raise ConfigError(f"{dest} exists and is not empty", "export into a new or empty folder")
    writer = _write_folder if fmt == "folder" else _write_manifest
    writer(ds, dest)
    write_card(dest, ds.name, ds.orientation_sensitive)
    return {"format": fmt, "path": str(dest), "n_images": len(ds), "splits": ds.splits}


def _write_folder(ds: Dataset, dest: Path) -> None:
    for i, image in enumerate(ds.images):
        split = ds.split[i] or "train"
        _save_png(image, dest / split / ds.labels[i] / _file_name(ds, i))


def _write_manifest(ds: Dataset, dest: Path) -> None:
    multi = ds.task.type == "multilabel"
    rows = []
    for i, image in enumerate(ds.images):
        rel = f"images/{_file_name(ds, i)}"
        _save_png(image, dest / rel)
        label = ("|".join(ds.labels[i]) or "[]") if multi else ds.labels[i]
        extra = [(ds.attributes[k][i] or "") for k in sorted(ds.attributes or {})]
        rows.append([rel, label, ds.split[i] or "", *extra])
    header = ["path", "labels" if multi else "label", "split", *sorted(ds.attributes or {})]
    (dest / "manifest.csv").write_text(csv_text(header, rows), encoding="utf-8", newline="")
