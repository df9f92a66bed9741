"""``foveal al init``: a new pool from a folder, a manifest or a built-in dataset.

Images are copied (never moved or rewritten) under ``POOL/images/<sha256>.<ext>`` so the pool is
self-contained and every path it holds resolves under its own folder; identical files are kept once.
Labels in DATA are hidden (the point is to ask a person) unless ``keep_per_class`` seeds an initial
labelled set of that many images per class, recorded as round 0 by the user ``data``.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path

import numpy as np

from foveal.al.pool import DATABASE, FORMAT, IMAGES, INFO, MANIFEST, SCHEMA, VERSION, Pool, now
from foveal.data.dataset import Dataset
from foveal.data.task import BinaryTask, MulticlassTask, SingleLabelTask, Task
from foveal.errors import ConfigError, warn

SEED_USER = "data"


def pool_task(ds: Dataset, classes: list[str] | None) -> Task:
    """The classes people will choose from: the data's, or ``--classes`` for data without labels."""
    if ds.task.type == "unlabeled":
        if not classes:
            raise ConfigError(f"{ds.name} has no labels, so the pool does not know its classes",
                              "give them with --classes, e.g. --classes cat,dog")
        if len(set(classes)) != len(classes) or len(classes) < 2 or any(not c.strip() for c in classes):
            raise ConfigError(f"--classes needs at least two distinct names, got {','.join(classes)!r}",
                              "e.g. --classes cat,dog")
        return BinaryTask(classes) if len(classes) == 2 else MulticlassTask(classes)
    if not isinstance(ds.task, SingleLabelTask):
        raise ConfigError(f"{ds.name} is a {ds.task.type} dataset; active learning here labels one class per image",
                          "give single-label data (a class-folder tree or a manifest with a label column)")
    if classes and sorted(classes) != sorted(ds.task.classes):
        raise ConfigError(f"--classes {','.join(classes)} differ from the data's classes {','.join(ds.task.classes)}",
                          "drop --classes (the data's labels name the classes)")
    return ds.task


def seed_rows(ds: Dataset, kept: list[int], per_class: int, seed: int) -> set[int]:
    """``per_class`` rows of each class (seeded) among the decodable ``kept`` rows."""
    if per_class <= 0:
        return set()
    if ds.task.type == "unlabeled":
        raise ConfigError("--keep-labels needs labelled data", "drop --keep-labels, or give data with labels")
    rng = np.random.default_rng(seed)
    chosen: set[int] = set()
    for cls in ds.task.classes:
        rows = [i for i in kept if ds.labels[i] == cls]
        chosen.update(int(i) for i in rng.permutation(rows)[:per_class])
    return chosen


def image_bytes(ds: Dataset, i: int) -> tuple[bytes, str]:
    """The file's own bytes and extension, or a PNG for in-memory (built-in) images."""
    if ds.images is None:
        path = ds.file(i)
        return path.read_bytes(), (path.suffix.lower().lstrip(".") or "img")
    from PIL import Image

    image = ds.images[i]
    buffer = io.BytesIO()
    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(buffer, format="PNG")
    return buffer.getvalue(), "png"


def check_destination(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out} already exists and is not an empty folder", "give a new --out folder")


def decodable_rows(ds: Dataset) -> list[int]:
    """Rows whose image decodes within the limits (checked before anything is copied)."""
    from foveal.data.images import infer_preprocessing, load_images

    loaded = load_images(ds, infer_preprocessing(ds), max_skip_ratio=1.0, description="Checking")
    for item in loaded.skipped[:5]:
        warn(f"{item['path']} is left out of the pool: {item['reason']}")
    if len(loaded.skipped) > 5:
        warn(f"{len(loaded.skipped) - 5} more undecodable images are left out of the pool")
    return [int(i) for i in loaded.kept]


def create_pool(data: str, out: Path, keep_per_class: int = 0, classes: list[str] | None = None,
                seed: int = 0) -> Pool:
    """Check everything, write the pool in a temporary folder next to ``out``, then move it into place."""
    from foveal.data.load import load_dataset

    out = Path(out)
    check_destination(out)
    if keep_per_class < 0:
        raise ConfigError(f"--keep-labels must be 0 or more, got {keep_per_class}", "e.g. --keep-labels 2")
    ds = load_dataset(data, labels="optional")
    task = pool_task(ds, classes)
    kept = decodable_rows(ds)
    seeded = seed_rows(ds, kept, keep_per_class, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        rows = _write_images(ds, kept, temp)
        _write_state(temp, rows, ds, seeded)
        _write_info(temp, rows, task, data)
        if out.exists():
            out.rmdir()  # checked empty above
        temp.rename(out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return Pool(out)


def _write_images(ds: Dataset, kept: list[int], folder: Path) -> list[dict]:
    """Copy each distinct image once; one row per copied image, with the data rows it stands for."""
    from foveal.csvio import csv_text

    (folder / IMAGES).mkdir()
    by_hash: dict[str, dict] = {}
    for i in kept:
        data, ext = image_bytes(ds, i)
        digest = hashlib.sha256(data).hexdigest()
        if digest in by_hash:
            by_hash[digest]["rows"].append(i)
            continue
        relative = f"{IMAGES}/{digest}.{ext}"
        (folder / relative).write_bytes(data)
        by_hash[digest] = {"path": relative, "sha256": digest, "source": ds.location(i), "rows": [i]}
    duplicates = sum(len(r["rows"]) - 1 for r in by_hash.values())
    if duplicates:
        warn(f"{duplicates} images are identical copies of others and are kept once in the pool")
    rows = list(by_hash.values())
    text = csv_text(["path", "sha256", "source"], [[r["path"], r["sha256"], r["source"]] for r in rows])
    (folder / MANIFEST).write_text(text, encoding="utf-8")
    return rows


def _write_state(folder: Path, rows: list[dict], ds: Dataset, seeded: set[int]) -> None:
    db = sqlite3.connect(folder / DATABASE)
    try:
        with db:
            db.executescript(SCHEMA)
            db.execute("INSERT INTO rounds (round, created, strategy) VALUES (0, ?, 'seed')", (now(),))
            at = now()
            for row in rows:
                seed_row = next((i for i in row["rows"] if i in seeded), None)
                label = None if seed_row is None else ds.labels[seed_row]
                db.execute("INSERT INTO items (path, sha256, source, status, label, round, user, labelled_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (row["path"], row["sha256"], row["source"], "labelled" if label else "unlabelled",
                            label, 0 if label else None, SEED_USER if label else None, at if label else None))
    finally:
        db.close()


def _write_info(folder: Path, rows: list[dict], task: Task, data: str) -> None:
    source = str(Path(data).resolve()) if Path(data).exists() else str(data)
    info_data = {"format": FORMAT, "version": VERSION, "task": task.to_json(), "data": source,
                 "images": len(rows), "created": now()}
    (folder / INFO).write_text(json.dumps(info_data, indent=2), encoding="utf-8")
