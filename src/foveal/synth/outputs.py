"""What ``foveal synthesize`` writes into DIR: PNG samples under ``<class>/``, ``manifest.csv``
(every row ``origin=synthetic`` with the generator's sha256), ``grid.png`` and ``quality.json`` /
``quality.html``. DIR is filled in a hidden sibling and renamed into place, so it is never half-written."""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from foveal.errors import ConfigError

MANIFEST = "manifest.csv"
GRID = "grid.png"
GRID_COLUMNS = 8
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
HEADER = ("path", "label", "split", "origin", "generator", "seed")


def check_out(out: Path) -> Path:
    """DIR must be new or an empty folder (checked before any training)."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"--out {out} exists and is not an empty folder",
                          "choose a new folder; samples never overwrite")
    return out


def class_folder(name: str, index: int) -> str:
    """The class name when it is a safe file name, else ``class-<index>``."""
    return name if _SAFE.match(name) else f"class-{index}"


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image).save(buffer, format="PNG")
    return buffer.getvalue()


def manifest_rows(samples: dict[str, np.ndarray], classes: tuple[str, ...], sha256: str, seed: int) -> list[tuple]:
    rows = []
    for name, images in samples.items():
        folder = class_folder(name, classes.index(name))
        rows += [(f"{folder}/synthetic-{seed}-{i:05d}.png", name, "train", "synthetic", sha256, seed)
                 for i in range(len(images))]
    return rows


def grid_png(rows: list[np.ndarray], scale: int = 2) -> bytes:
    """Rows of up to GRID_COLUMNS images each (uint8 (k, H, W, C)) as one PNG, blank where a row is short."""
    h, w, c = rows[0].shape[1:]
    canvas = np.full((len(rows) * (h + 2), GRID_COLUMNS * (w + 2), c), 255, np.uint8)
    for r, images in enumerate(rows):
        for k, image in enumerate(images[:GRID_COLUMNS]):
            canvas[r * (h + 2) + 1:r * (h + 2) + 1 + h, k * (w + 2) + 1:k * (w + 2) + 1 + w] = image
    big = canvas.repeat(scale, axis=0).repeat(scale, axis=1)
    return png_bytes(big)


def write_output(out: Path, samples: dict[str, np.ndarray], classes: tuple[str, ...], sha256: str, seed: int,
                 extra: dict[str, bytes]) -> list[tuple]:
    """Write samples, manifest and ``extra`` files (name → bytes) into ``out`` all at once."""
    from foveal.csvio import csv_text

    out = check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        rows = manifest_rows(samples, classes, sha256, seed)
        images = [image for name in samples for image in samples[name]]
        for row, image in zip(rows, images):
            (work / row[0]).parent.mkdir(parents=True, exist_ok=True)
            (work / row[0]).write_bytes(png_bytes(image))
        (work / MANIFEST).write_text(csv_text(HEADER, rows), encoding="utf-8", newline="")
        for name, data in extra.items():
            (work / name).write_bytes(data)
        os.chmod(work, 0o755)
        if out.exists():
            out.rmdir()
        os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return rows
