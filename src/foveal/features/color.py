"""Colour distribution features."""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2hsv

from foveal.features._image import normalized_histogram
from foveal.features.base import ImageFeatures, is_int, require


class ColorHistogram(ImageFeatures):
    """Per-channel histograms, each summing to 1: H, S, V for RGB input, intensity for gray."""

    feature_name = "color-hist"

    def __init__(self, bins: int = 16, n_jobs: int | None = None) -> None:
        self.bins = bins
        self.n_jobs = n_jobs

    def _check_params(self) -> None:
        require(is_int(self.bins, 2), "bins", self.bins, "an integer ≥ 2")

    def _extract_one(self, image: np.ndarray) -> np.ndarray:
        channels = rgb2hsv(image) if image.shape[-1] == 3 else image / 255.0
        hists = [normalized_histogram(channels[..., c], self.bins, (0.0, 1.0)) for c in range(channels.shape[-1])]
        return np.concatenate(hists)
