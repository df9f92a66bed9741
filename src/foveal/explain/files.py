"""``foveal explain`` on files: per input an overlay PNG and the raw map (``.npy``) at the image's
original size, named after the input's stem, and one line per map in ``explanations.jsonl``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from foveal.errors import ConfigError, DecodeError
from foveal.files import atomic_write_bytes, atomic_write_text, to_json

INDEX = "explanations.jsonl"
BATCH = 32


@dataclass
class Decoded:
    """One input: its original pixels and model input, or why it could not be decoded."""

    name: str
    original: np.ndarray | None = None
    model_input: np.ndarray | None = None
    error: str | None = None


@dataclass
class ExplainedFiles:
    rows: list[dict] = field(default_factory=list)  # the explanations.jsonl lines
    index: Path | None = None


def check_out_dir(out: Path) -> Path:
    """A new or empty folder (nothing of the user's is ever overwritten)."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out} exists and is not an empty folder", "give a new or empty folder for the maps")
    return out


def decode_input(predictor, path: Path, name: str) -> Decoded:
    """The original (EXIF-applied) image and the model's input from one read of the file."""
    from foveal.data.decode import decode_image
    from foveal.data.images import read_file_bytes

    prep = predictor.preprocessing
    try:
        original = decode_image(read_file_bytes(path), channels=prep.channels, max_pixels=prep.max_pixels,
                                background=prep.background)
    except DecodeError as err:
        return Decoded(name, error=str(err))
    return Decoded(name, original, prep.prepare(original))


def unique_stems(names: list[str]) -> list[str]:
    """File stems, made unique with ``-2``, ``-3`` … (two inputs called a.png in different folders)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        stem = _safe(Path(name).stem) or "image"
        seen[stem] = seen.get(stem, 0) + 1
        out.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return out


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")


def write_maps(predictor, items: list[Decoded], stems: list[str], explanations, out: Path) -> list[dict]:
    """Overlay PNG + map .npy per explanation; the jsonl rows (file names relative to ``out``)."""
    from foveal.explain.overlay import overlay_png, to_original

    per_image: dict[int, int] = {}
    for e in explanations:
        per_image[e.index] = per_image.get(e.index, 0) + 1
    rows = []
    for e in explanations:
        item = items[e.index]
        stem = stems[e.index] if per_image[e.index] == 1 else f"{stems[e.index]}-{_safe(e.target)}"
        values = to_original(e.map, predictor.preprocessing, item.original.shape[:2])
        overlay, raw = f"{stem}.png", f"{stem}.npy"
        atomic_write_bytes(out / overlay, overlay_png(item.original, values, f"{e.method} · {e.target} · {e.score:.3f}"))
        atomic_write_bytes(out / raw, _npy(values))
        rows.append({"path": item.name, "target": e.target, "method": e.method, "score": e.score,
                     "overlay": overlay, "map": raw})
    return rows


def _npy(values: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, values.astype(np.float32), allow_pickle=False)
    return buffer.getvalue()


def explain_files(predictor, files: list[Path], out: Path, method: str = "gradcam", target: str | None = None,
                  names: list[str] | None = None) -> ExplainedFiles:
    """Explain each file into ``out`` (new or empty); undecodable files get a jsonl line with ``error``."""
    from foveal.explain.explainer import check_method, explain
    from foveal.progress import track

    method = check_method(predictor, method)
    out = check_out_dir(out)
    names = names or [str(f) for f in files]
    stems = unique_stems(names)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    for start in track(range(0, len(files), BATCH), "Explaining", total=len(files),
                       unit_weight=lambda s: min(BATCH, len(files) - s)):
        items = [decode_input(predictor, files[i], names[i]) for i in range(start, min(start + BATCH, len(files)))]
        ok = [k for k, item in enumerate(items) if item.error is None]
        explanations = explain(predictor, np.stack([items[k].model_input for k in ok]), method, target) if ok else []
        for e in explanations:
            e.index = ok[e.index]
        rows += write_maps(predictor, items, stems[start:start + len(items)], explanations, out)
        rows += [{"path": item.name, "error": item.error} for item in items if item.error is not None]
    index = atomic_write_text(out / INDEX, "".join(to_json(row, indent=None) for row in rows))
    return ExplainedFiles(rows, index)
