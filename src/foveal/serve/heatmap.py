"""``?explain=``: heat maps from ``Predictor.explain`` (the explanations package), drawn as PNG overlays.

The server does not compute explanations itself. When the installed foveal has no
``Predictor.explain`` the request gets 501; a bundle or method the explainer refuses gets 422.
"""

from __future__ import annotations

import base64
import io

import numpy as np

from foveal.errors import FovealError
from foveal.serve.errors import ApiError

DEFAULT_METHODS = ("", "default", "auto")
MIN_SIDE = 128


def check_explainable(model) -> None:
    if not model.explainable:
        raise ApiError(501, "explain_unavailable", "this server cannot explain predictions yet "
                       "(its foveal has no Predictor.explain)", "leave out ?explain=, or install a foveal with explanations")


def explain_overlays(predictor, images: np.ndarray, method: str) -> list[str]:
    """Base64 PNG overlays, one per image (runs on the model's inference thread).

    ``default`` leaves the method to the explainer, except for classical bundles, which only
    model-agnostic occlusion can explain.
    """
    if method.lower() in DEFAULT_METHODS:
        kwargs = {"method": "occlusion"} if predictor.family == "classical" else {}
    else:
        kwargs = {"method": method}
    try:
        result = predictor.explain(images, **kwargs)
    except FovealError as err:
        raise ApiError(422, "explain_refused", str(err), "try another ?explain= method, or leave it out") from None
    maps = heat_maps(result, len(images))
    return [overlay_png(image, heat) for image, heat in zip(images, maps)]


def heat_maps(result, n: int) -> list[np.ndarray]:
    """One 2-D map per image from what ``explain`` returns: an (n, H, W[, 1]) array, or items that are
    arrays or have a ``map`` (attribute or key). Items with an ``index`` (several maps per image, e.g.
    one per predicted label) keep the first map of each image."""
    if hasattr(result, "maps"):
        result = result.maps
    items = list(result) if not isinstance(result, np.ndarray) else [result[i] for i in range(len(result))]
    if items and all(hasattr(item, "index") for item in items):
        first: dict[int, object] = {}
        for item in items:
            first.setdefault(int(item.index), item)
        items = [first[i] for i in sorted(first)]
    maps = []
    for item in items:
        value = item.get("map") if isinstance(item, dict) else getattr(item, "map", item)
        array = np.squeeze(np.asarray(value, dtype=np.float64))
        if array.ndim == 3:  # one map per target: the first is the predicted class
            array = array[0]
        if array.ndim != 2:
            raise ApiError(500, "explain_failed", f"the explainer returned a map of shape {array.shape}")
        maps.append(array)
    if len(maps) != n:
        raise ApiError(500, "explain_failed", f"the explainer returned {len(maps)} maps for {n} images")
    return maps


def overlay_png(image: np.ndarray, heat: np.ndarray, alpha: float = 0.5) -> str:
    """The heat map (normalised, coloured) blended over the model-input image, as base64 PNG."""
    from matplotlib import colormaps
    from PIL import Image

    h, w = image.shape[:2]
    scale = max(1, int(np.ceil(MIN_SIDE / max(1, min(h, w)))))
    size = (w * scale, h * scale)
    finite = np.nan_to_num(heat, nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(finite.min()), float(finite.max())
    unit = (finite - low) / (high - low) if high > low else np.zeros_like(finite)
    resized = np.asarray(Image.fromarray(unit.astype(np.float32)).resize(size, Image.Resampling.BILINEAR))
    colours = colormaps["jet"](np.clip(resized, 0, 1))[:, :, :3]
    base = np.asarray(Image.fromarray(np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image)
                      .resize(size, Image.Resampling.NEAREST), dtype=np.float64) / 255.0
    blended = np.clip((1 - alpha) * base + alpha * colours, 0, 1)
    buffer = io.BytesIO()
    Image.fromarray((blended * 255).round().astype(np.uint8)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
