"""`foveal data check`: an audit of a dataset before anyone trains on it."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath

import numpy as np

from foveal.data.dataset import Dataset
from foveal.data.decode import DEFAULT_MAX_PIXELS, decode_image, image_header
from foveal.data.duplicates import conflicting_labels, content_duplicates
from foveal.data.images import read_file_bytes
from foveal.data.near_duplicates import MAX_DISTANCE, image_hashes, near_duplicate_groups
from foveal.data.near_duplicates import available as near_duplicates_available
from foveal.errors import DecodeError
from foveal.progress import track

IMBALANCE_WARNING = 10.0
# The file extensions each decoded format may carry (Pillow names the whole PPM family "PPM").
FORMAT_EXTENSIONS: dict[str, frozenset[str]] = {
    "JPEG": frozenset({".jpg", ".jpeg", ".jpe", ".jfif"}),
    "PNG": frozenset({".png"}),
    "GIF": frozenset({".gif"}),
    "BMP": frozenset({".bmp", ".dib"}),
    "TIFF": frozenset({".tif", ".tiff"}),
    "WEBP": frozenset({".webp"}),
    "PPM": frozenset({".ppm", ".pgm", ".pbm", ".pnm"}),
}


def _inspect_file(ds: Dataset, i: int, max_pixels: int | None) -> dict:
    """Full decode of one file (finds truncation) plus its header facts and content hash.

    The header's size is checked against ``max_pixels`` before any pixel is decoded.
    """
    try:
        data = read_file_bytes(ds.file(i))
    except DecodeError as err:
        return {"error": err.what}
    try:
        header = image_header(data, max_pixels=max_pixels)
        pixels = decode_image(data, channels=None, max_pixels=max_pixels)
    except DecodeError as err:
        return {"error": err.what, "hash": hashlib.sha256(data).hexdigest()}
    return {**header, "hash": hashlib.sha256(data).hexdigest(), "perceptual": image_hashes(pixels)}


def _inspect_all(ds: Dataset, max_pixels: int | None) -> list[dict]:
    if ds.images is not None:
        _, h, w, c = ds.images.shape
        mode = "L" if c == 1 else "RGB"
        return [{"width": w, "height": h, "mode": mode, "format": "array",
                 "hash": hashlib.sha256(img.tobytes()).hexdigest(), "perceptual": image_hashes(img)}
                for img in ds.images]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        work = pool.map(lambda i: _inspect_file(ds, i, max_pixels), range(len(ds)))
        return list(track(work, "Checking", total=len(ds)))


def _stats(values: list[int]) -> dict:
    if not values:
        return {}
    return {"min": int(np.min(values)), "median": float(np.median(values)), "max": int(np.max(values))}


def _duplicates(ds: Dataset, infos: list[dict]) -> dict[str, list[list[str]]]:
    """Groups of identical decodable files; those whose labels differ, and those spanning splits.

    Samples are named by :meth:`Dataset.describe`, so manifest rows carry their line numbers.
    """
    keys = [info.get("hash") if "error" not in info else None for info in infos]
    groups = content_duplicates(keys)
    spanning = [g for g in groups if len({ds.split[i] for i in g}) > 1]

    def named(found: list[list[int]]) -> list[list[str]]:
        return [[ds.describe(i) for i in g] for g in found]

    return {"duplicates": named(groups), "conflicting_duplicates": named(conflicting_labels(ds, keys)),
            "cross_split_duplicates": named(spanning)}


def _near_duplicates(ds: Dataset, infos: list[dict], max_distance: int) -> dict:
    """Perceptual near-duplicate groups (not all identical: those are in ``duplicates``) and every
    perceptual group — identical or not — whose members sit in different splits (``leaks``)."""
    groups = near_duplicate_groups([info.get("perceptual") for info in infos], max_distance)
    near = [g for g in groups if len({infos[i]["hash"] for i in g}) > 1]
    leaks = [{"samples": [ds.describe(i) for i in g], "splits": [ds.split[i] or "unassigned" for i in g],
              "identical": len({infos[i]["hash"] for i in g}) == 1}
             for g in groups if len({ds.split[i] for i in g}) > 1]
    return {"near_duplicates": [[ds.describe(i) for i in g] for g in near], "leaks": leaks}


def _extension_mismatches(ds: Dataset, infos: list[dict]) -> list[dict]:
    """Decodable files whose content is another format than their extension says (e.g. a PNG named .jpg)."""
    found = []
    for i, info in enumerate(infos):
        if ds.paths is None or "error" in info or info.get("format") not in FORMAT_EXTENSIONS:
            continue
        extension = PurePosixPath(ds.paths[i]).suffix.lower()
        if extension and extension not in FORMAT_EXTENSIONS[info["format"]]:
            found.append({"path": ds.location(i), "extension": extension, "format": info["format"]})
    return found


def check_dataset(ds: Dataset, max_pixels: int | None = DEFAULT_MAX_PIXELS, near_distance: int = MAX_DISTANCE) -> dict:
    """Class counts, imbalance, undecodable files, duplicates, near-duplicates and cross-split leaks,
    extension mismatches and size/mode statistics.

    No image larger than ``max_pixels`` (None: no limit) is ever decoded; it is listed as undecodable.
    """
    infos = _inspect_all(ds, max_pixels)
    ok = [x for x in infos if "error" not in x]
    counts = ds.class_counts()
    nonzero = [c for c in counts.values() if c > 0]
    report = {
        "data": ds.name,
        "task": ds.task.type,
        "n_images": len(ds),
        "n_decodable": len(ok),
        "classes": ds.task.classes,
        "class_counts": counts,
        "imbalance_ratio": float(max(nonzero) / min(nonzero)) if nonzero else None,
        "splits": dict(Counter(s or "unassigned" for s in ds.split)),
        "undecodable": [{"path": ds.location(i), "reason": x["error"]} for i, x in enumerate(infos) if "error" in x],
        **_duplicates(ds, infos),
        **_near_duplicates(ds, infos, near_distance),
        "extension_mismatch": _extension_mismatches(ds, infos),
        "width": _stats([x["width"] for x in ok]),
        "height": _stats([x["height"] for x in ok]),
        "common_sizes": [[w, h, n] for (w, h), n in Counter((x["width"], x["height"]) for x in ok).most_common(5)],
        "modes": dict(Counter(x["mode"] for x in ok)),
        "formats": dict(Counter(x["format"] for x in ok)),
    }
    report["problems"], report["warnings"] = _findings(report)
    return report


def _findings(r: dict) -> tuple[list[str], list[str]]:
    problems, warnings = [], []
    if r["undecodable"]:
        problems.append(f"{len(r['undecodable'])} undecodable file(s)")
    if r["duplicates"]:
        problems.append(f"{len(r['duplicates'])} group(s) of identical images")
    if r["conflicting_duplicates"]:
        problems.append(f"{len(r['conflicting_duplicates'])} identical-image group(s) with different labels")
    if r["cross_split_duplicates"]:
        problems.append(f"{len(r['cross_split_duplicates'])} identical-image group(s) spanning splits (leakage)")
    if r["leaks"]:
        problems.append(f"{len(r['leaks'])} group(s) of (near-)identical images spanning splits (train ↔ test leakage)")
    if not near_duplicates_available():
        warnings.append("near-duplicates were not searched: install imagehash (pip install 'foveal[audit]')")
    if r["near_duplicates"]:
        warnings.append(f"{len(r['near_duplicates'])} group(s) of near-duplicate images (re-encoded, resized or "
                        "cropped copies)")
    if r["imbalance_ratio"] and r["imbalance_ratio"] > IMBALANCE_WARNING:
        warnings.append(f"imbalance ratio {r['imbalance_ratio']:.1f} (largest / smallest class)")
    if r["extension_mismatch"]:
        first = r["extension_mismatch"][0]
        warnings.append(f"{len(r['extension_mismatch'])} file(s) whose content does not match the extension, "
                        f"e.g. {first['path']} is {first['format']}")
    rare = [c for c, n in r["class_counts"].items() if n < 5]
    if rare:
        warnings.append(f"{len(rare)} class(es) with fewer than 5 images: {', '.join(rare[:5])}")
    return problems, warnings
