"""Maps back on the user's image: resized to the original size (undoing the bundle's resize and
centre crop) and drawn as a heat map over the image with a colour bar."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

MIN_DISPLAY = 256  # px: small images are enlarged (nearest) so the overlay is readable
MAX_DISPLAY = 1024  # px: large ones are drawn smaller (the .npy map keeps the original size)
ALPHA = 0.5
CMAP = "jet"


def _resize_map(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A float map resized to ``size`` = (height, width), bilinear."""
    h, w = size
    return np.asarray(Image.fromarray(values.astype(np.float32), mode="F").resize((w, h), Image.Resampling.BILINEAR))


def to_original(values: np.ndarray, prep, original: tuple[int, int]) -> np.ndarray:
    """A map at the model's input size as a map over the original (height, width) image.

    The bundle squashes the image to ``size / crop`` and keeps the centre ``size``; outside that
    centre the model saw nothing, so the map is 0 there.
    """
    h, w = prep.size
    oh, ow = original
    if prep.crop >= 1.0:
        return _resize_map(values, (oh, ow))
    big_h, big_w = max(h, round(h / prep.crop)), max(w, round(w / prep.crop))
    sy, sx = oh / big_h, ow / big_w
    top, left = round((big_h - h) // 2 * sy), round((big_w - w) // 2 * sx)
    inner = _resize_map(values, (max(1, round(h * sy)), max(1, round(w * sx))))
    out = np.zeros((oh, ow), dtype=np.float32)
    out[top:top + inner.shape[0], left:left + inner.shape[1]] = inner[:oh - top, :ow - left]
    return out


def _display_scale(height: int, width: int) -> float:
    side = max(height, width)
    if side < MIN_DISPLAY:
        return float(max(1, -(-MIN_DISPLAY // side)))
    return min(1.0, MAX_DISPLAY / side)


def overlay_png(image: np.ndarray, values: np.ndarray, title: str = "") -> bytes:
    """A PNG: ``image`` (H, W, C uint8) with ``values`` (H, W) as a translucent heat map and a colour bar."""
    from matplotlib.figure import Figure

    height, width = values.shape
    scale = _display_scale(height, width)
    dpi = 100
    fig = Figure(figsize=(width * scale / dpi + 1.1, height * scale / dpi + (0.35 if title else 0.1)), dpi=dpi,
                 layout="constrained")
    ax = fig.add_subplot()
    shown = image[:, :, 0] if image.shape[2] == 1 else image
    ax.imshow(shown, cmap="gray" if image.shape[2] == 1 else None, vmin=0, vmax=255, interpolation="nearest")
    heat = ax.imshow(values, cmap=CMAP, alpha=ALPHA, interpolation="bilinear", vmin=0.0,
                     vmax=float(values.max()) if values.max() > 0 else 1.0)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=8)
    fig.colorbar(heat, ax=ax, fraction=0.05, pad=0.02).ax.tick_params(labelsize=7)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def heat_thumbnail(image: np.ndarray, values: np.ndarray, side: int = 112) -> bytes:
    """A small PNG of ``image`` blended with ``values`` as a heat map (for report galleries; no colour bar)."""
    from matplotlib import colormaps

    from foveal.thumbnails import scaled_png

    peak = float(values.max())
    heat = colormaps[CMAP](values / peak if peak > 0 else values)[:, :, :3]
    base = np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image
    blended = ((1 - ALPHA) * base / 255.0 + ALPHA * heat) * 255.0
    return scaled_png(np.clip(blended, 0, 255).astype(np.uint8), side)
