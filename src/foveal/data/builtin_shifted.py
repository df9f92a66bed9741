"""``digits-shifted``: the built-in digits as a second domain (another scanner): blurred, faded (low
contrast on a grey background) and noisy. Same images, labels and train/val/test split as ``digits``, so
a model trained on ``digits`` can be adapted with the shifted train split as unlabelled target images and
scored on the shifted test split. ``shift_images(..., invert=True)`` gives a harder shift (inverted
contrast) that batch-norm statistics cannot undo (`bench/few_labels.py --part adapt` measures both)."""

from __future__ import annotations

import numpy as np

SHIFT_SEED = 20_240_611
SHIFT_BLUR_SIGMA = 0.7  # px, on the 8×8 digits
SHIFT_CONTRAST, SHIFT_OFFSET = 0.4, 90.0  # pixel · contrast + offset: strokes on a grey background
SHIFT_NOISE = 8.0  # Gaussian noise σ in grey levels


def shift_images(images: np.ndarray, invert: bool = False, seed: int = SHIFT_SEED) -> np.ndarray:
    """Each uint8 (n, H, W, C) image blurred, faded (or, with ``invert``, inverted) and noised; deterministic."""
    from scipy.ndimage import gaussian_filter

    x = gaussian_filter(images.astype(np.float64), sigma=(0, SHIFT_BLUR_SIGMA, SHIFT_BLUR_SIGMA, 0), mode="nearest")
    x = 255.0 - x if invert else x * SHIFT_CONTRAST + SHIFT_OFFSET
    x = x + np.random.default_rng(seed).normal(0.0, SHIFT_NOISE, size=x.shape)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def digits_shifted(source) -> tuple[np.ndarray, list, list[str], str]:
    """``source`` is the digits' (images, labels, split)."""
    images, labels, split = source
    return shift_images(images), list(labels), list(split), "multiclass"
