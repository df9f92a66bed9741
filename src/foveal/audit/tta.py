"""Test-time augmentation: a bundle's probabilities averaged over a few transformed views.

The views are the image itself, small shifts (±1/16 of the side, edges repeated), a 10 % zoom-in and —
only when the model learned flips in training (a deep bundle whose augmentation included ``hflip``) —
a left-right flip, so orientation-sensitive models (digits) are never shown mirrored inputs.
:func:`with_tta` wraps any :class:`~foveal.bundle.Predictor` into one that predicts this way, so
``eval``, ``predict``, ``robustness`` and the server use it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHIFT = 1 / 16  # of the side
ZOOM = 0.9  # side of the centre kept before enlarging back


def _shift(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Content moved by (dy, dx) px; the uncovered border repeats the edge pixels."""
    n, h, w, c = images.shape
    pad = ((0, 0), (max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0)), (0, 0))
    padded = np.pad(images, pad, mode="edge")
    top, left = max(-dy, 0), max(-dx, 0)
    return padded[:, top:top + h, left:left + w]


def _zoom(images: np.ndarray, keep: float) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    n, h, w, c = images.shape
    ch, cw = max(1, round(h * keep)), max(1, round(w * keep))
    top, left = (h - ch) // 2, (w - cw) // 2
    crop = torch.from_numpy(np.ascontiguousarray(images[:, top:top + ch, left:left + cw])).permute(0, 3, 1, 2)
    out = F.interpolate(crop.float(), size=(h, w), mode="bilinear", align_corners=False)
    return out.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()


def views(size: tuple[int, int], flips: bool) -> list[str]:
    """The names of the views for images of ``size``: identity, shifts, zoom and maybe a flip."""
    step = max(1, round(min(size) * SHIFT))
    names = ["identity", f"shift(0,+{step})", f"shift(0,-{step})", f"shift(+{step},0)", f"shift(-{step},0)",
             f"zoom({1 / ZOOM:.2f})"]
    return names + (["hflip"] if flips else [])


def apply_view(images: np.ndarray, name: str) -> np.ndarray:
    if name == "identity":
        return images
    if name == "hflip":
        return np.ascontiguousarray(images[:, :, ::-1])
    if name.startswith("zoom"):
        return _zoom(images, ZOOM)
    dy, dx = (int(v) for v in name[len("shift("):-1].split(","))
    return _shift(images, dy, dx)


def learned_flips(manifest: dict) -> bool:
    """Whether the bundle's training augmentation flipped images left-right."""
    return "hflip" in str(manifest.get("training", {}).get("augmentation", ""))


@dataclass
class TestTimeAugmented:
    """A runtime model whose ``predict_proba`` averages ``model``'s over ``names`` views."""

    model: object
    names: list[str]

    @property
    def runtime(self) -> str:
        return self.model.runtime

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        total = None
        for name in self.names:
            proba = np.asarray(self.model.predict_proba(apply_view(images, name)), dtype=np.float64)
            total = proba if total is None else total + proba
        return total / len(self.names)

    def embed(self, images: np.ndarray) -> np.ndarray:
        return self.model.embed(images)

    def differentiable(self, size, classes):
        return self.model.differentiable(size, classes)

    def files(self) -> dict[str, bytes]:
        return self.model.files()


def with_tta(predictor, flips: bool | None = None):
    """A Predictor of the same bundle that averages probabilities over the TTA views; the views used
    are in ``predictor.manifest["tta"]``. ``flips`` None: only when the model learned flips."""
    from foveal.bundle.predictor import Predictor

    flips = learned_flips(predictor.manifest) if flips is None else flips
    names = views(predictor.preprocessing.size, flips)
    manifest = {**predictor.manifest, "tta": names}
    return Predictor(predictor.path, manifest, TestTimeAugmented(predictor.model, names))


def tta_views(predictor) -> list[str] | None:
    """The TTA views a predictor averages over (None without TTA)."""
    return predictor.manifest.get("tta")
