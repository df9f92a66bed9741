"""``foveal feedback export``: feedback rows → a dataset that ``foveal train`` (and ``--init-from``) reads."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections import Counter
from pathlib import Path, PurePosixPath

from foveal.errors import ConfigError, DataError, warn
from foveal.files import atomic_write_text
from foveal.serve.feedback import FeedbackStore

LAYOUTS = ("manifest", "folder")


def latest_per_image(rows: list[dict]) -> tuple[list[dict], int]:
    """The newest judgement of each image (rows come newest first) and how many images were judged differently."""
    chosen: dict[str, dict] = {}
    labels: dict[str, set] = {}
    for row in rows:
        chosen.setdefault(row["image_sha256"], row)
        labels.setdefault(row["image_sha256"], set()).add(repr(row["label"]))
    conflicts = sum(len(v) > 1 for v in labels.values())
    return sorted(chosen.values(), key=lambda r: r["id"]), conflicts


def export_feedback(folder: Path, out: Path, layout: str = "manifest", model: str | None = None) -> dict:
    """Write the newest label of every judged image under ``out`` (new or empty); returns a summary.

    ``manifest``: ``out/images/<sha256>.<ext>`` and ``out/manifest.csv`` (path, label or labels, model,
    predicted, correct, created). ``folder``: ``out/<class path>/<sha256>.<ext>`` (not for multi-label).
    """
    if layout not in LAYOUTS:
        raise ConfigError(f"unknown --format {layout!r}", f"use one of {', '.join(LAYOUTS)}")
    rows, conflicts = latest_per_image(FeedbackStore.open_existing(folder).rows(model=model))
    if not rows:
        raise DataError(f"no feedback in {folder}" + (f" for model {model!r}" if model else ""),
                        "mark some predictions on the page first")
    tasks = {row["task"] for row in rows}
    if len(tasks) > 1:
        raise ConfigError(f"the feedback mixes models of different tasks ({', '.join(sorted(tasks))})",
                          "export one model's feedback with --model NAME")
    task = tasks.pop()
    if layout == "folder" and task == "multilabel":
        raise ConfigError("multi-label feedback cannot be a class-folder tree", "use --format manifest")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out} exists and is not an empty folder", "export into a new or empty folder")
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        written = _write(Path(folder), staging, rows, layout, task)
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if conflicts:
        warn(f"{conflicts} image(s) were judged more than once with different labels; the newest label was kept")
    counts = Counter(_label_text(r["label"]) for r in written)
    return {"path": str(out), "format": layout, "task": task, "images": len(written),
            "classes": dict(sorted(counts.items())), "conflicts": conflicts,
            "skipped": len(rows) - len(written)}


def _write(folder: Path, dest: Path, rows: list[dict], layout: str, task: str) -> list[dict]:
    from foveal.csvio import csv_text

    written = []
    for row in rows:
        data = _stored_bytes(folder, row)
        if data is None:
            continue
        name = PurePosixPath(row["image_file"]).name
        relative = f"images/{name}" if layout == "manifest" else f"{_class_path(row['label'])}/{name}"
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append({**row, "path": relative})
    if layout == "manifest":
        column = "labels" if task == "multilabel" else "label"
        header = ["path", column, "model", "predicted", "correct", "created"]
        body = [[r["path"], _label_text(r["label"]), r["model"], _label_text(r["predicted"]),
                 int(r["correct"]), r["created"]] for r in written]
        atomic_write_text(dest / "manifest.csv", csv_text(header, body))
    return written


def _stored_bytes(folder: Path, row: dict) -> bytes | None:
    """The stored copy, checked against its hash; a missing or altered copy is left out with a warning."""
    path = (folder / row["image_file"]).resolve()
    try:
        if not path.is_relative_to(folder.resolve()):
            raise OSError("outside the feedback folder")
        data = path.read_bytes()
    except OSError as err:
        warn(f"feedback image {row['image_file']} is unreadable ({err}); left out")
        return None
    if hashlib.sha256(data).hexdigest() != row["image_sha256"]:
        warn(f"feedback image {row['image_file']} does not match its SHA-256; left out")
        return None
    return data


def _label_text(label) -> str:
    return "|".join(label) if isinstance(label, list) else str(label)


def _class_path(label: str) -> str:
    """A class (or hierarchy path a/b) as folders; parts that could leave the export folder are refused."""
    parts = str(label).split("/")
    if any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in parts):
        raise DataError(f"label {label!r} cannot be a folder name", "use --format manifest")
    return "/".join(parts)
