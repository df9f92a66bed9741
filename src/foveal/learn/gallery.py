"""Thumbnails for the search and cluster pages: images found again from a table's rows, as small PNGs."""

from __future__ import annotations

import functools
import io
from pathlib import Path

import numpy as np

from foveal.evaluation.report_html import data_uri, esc

THUMB_SIDE = 72


def png(image: np.ndarray, side: int = THUMB_SIDE) -> bytes:
    """uint8 H×W×C → PNG bytes, enlarged (nearest) or reduced to ``side`` pixels on the longer side."""
    from PIL import Image

    array = image[:, :, 0] if image.ndim == 3 and image.shape[2] == 1 else image
    pic = Image.fromarray(np.ascontiguousarray(array))
    scale = side / max(pic.size)
    size = (max(1, round(pic.width * scale)), max(1, round(pic.height * scale)))
    pic = pic.resize(size, Image.NEAREST if scale > 1 else Image.BILINEAR)
    buffer = io.BytesIO()
    pic.save(buffer, format="PNG")
    return buffer.getvalue()


@functools.lru_cache(maxsize=8)
def _builtin_images(name: str) -> np.ndarray:
    from foveal.data.builtin import load_builtin

    return load_builtin(name).images


def find_image(location: str, root: str | None, builtin: str | None = None) -> np.ndarray | None:
    """The image a row names: a file under ``root`` (or a query's own path when ``root`` is None), or
    ``name#i`` of a built-in set; None when it cannot be shown."""
    from foveal.data.decode import decode_image
    from foveal.errors import DecodeError

    if builtin and location.startswith(f"{builtin}#"):
        images = _builtin_images(builtin)
        index = location.rsplit("#", 1)[1]
        return images[int(index)] if index.isdigit() and int(index) < len(images) else None
    path = Path(location) if root is None else (Path(root) / location).resolve()
    if root is not None and Path(root).resolve() not in path.parents:
        return None  # a row may only name a file under the data root it was indexed from
    try:
        return decode_image(path.read_bytes(), channels=3)
    except (OSError, DecodeError):
        return None


def thumb(image: np.ndarray | None, caption: str, title: str = "") -> str:
    """One figure: the thumbnail (or a placeholder) and a caption."""
    body = (f'<img src="{data_uri(png(image))}" alt="{esc(caption)}" width="{THUMB_SIDE}">' if image is not None
            else f'<div class="missing" style="width:{THUMB_SIDE}px;height:{THUMB_SIDE}px">?</div>')
    return (f'<figure class="thumb" title="{esc(title or caption)}" style="display:inline-block;margin:4px;'
            f'width:{THUMB_SIDE + 8}px;vertical-align:top">{body}<figcaption style="font-size:11px;'
            f'overflow-wrap:anywhere">{esc(caption)}</figcaption></figure>')


def strip(items: list[str]) -> str:
    return '<div class="strip">' + "".join(items) + "</div>"
