"""Edge and corner statistics on a grid of cells."""

from __future__ import annotations

import numpy as np
from skimage.feature import canny, corner_harris, corner_peaks
from skimage.filters import sobel

from foveal.features._image import gray_float, grid_cells
from foveal.features.base import ImageFeatures, is_int, require


def _smoothing(sigma: float | None, shape: tuple[int, ...]) -> float:
    """Explicit sigma, or one that grows with the image: 1 px up to 64 px, capped at 3."""
    if sigma is not None:
        return float(sigma)
    return float(np.clip(min(shape[0], shape[1]) / 64.0, 1.0, 3.0))


class EdgeFeatures(ImageFeatures):
    """Per cell of a ``grid × grid`` layout: Canny edge density and mean Sobel magnitude."""

    feature_name = "edges"

    def __init__(self, grid: int = 4, sigma: float | None = None, n_jobs: int | None = None) -> None:
        self.grid = grid
        self.sigma = sigma
        self.n_jobs = n_jobs

    def _check_params(self) -> None:
        require(is_int(self.grid, 1), "grid", self.grid, "an integer ≥ 1")
        require(self.sigma is None or self.sigma > 0, "sigma", self.sigma, "a positive number, or None for automatic")

    def _extract_one(self, image: np.ndarray) -> np.ndarray:
        gray = gray_float(image)
        edges = canny(gray, sigma=_smoothing(self.sigma, image.shape))
        magnitude = sobel(gray)
        density = [cell.mean() for cell in grid_cells(edges, self.grid)]
        strength = [cell.mean() for cell in grid_cells(magnitude, self.grid)]
        return np.asarray(density + strength, dtype=np.float64)


class CornerFeatures(ImageFeatures):
    """Per cell of a ``grid × grid`` layout: mean Harris response and number of corner peaks."""

    feature_name = "corners"

    def __init__(
        self, grid: int = 4, sigma: float | None = None, threshold_rel: float = 0.01, n_jobs: int | None = None
    ) -> None:
        self.grid = grid
        self.sigma = sigma
        self.threshold_rel = threshold_rel
        self.n_jobs = n_jobs

    def _check_params(self) -> None:
        require(is_int(self.grid, 1), "grid", self.grid, "an integer ≥ 1")
        require(self.sigma is None or self.sigma > 0, "sigma", self.sigma, "a positive number, or None for automatic")
        require(0 <= self.threshold_rel < 1, "threshold_rel", self.threshold_rel, "a number in [0, 1)")

    def _extract_one(self, image: np.ndarray) -> np.ndarray:
        sigma = _smoothing(self.sigma, image.shape)
        response = corner_harris(gray_float(image), method="k", k=0.05, sigma=sigma)
        peaks = np.zeros(response.shape, dtype=np.float64)
        if response.max() > 0:
            coords = corner_peaks(response, min_distance=1, threshold_rel=self.threshold_rel, exclude_border=False)
            peaks[tuple(coords.T)] = 1.0
        mean_response = [cell.mean() for cell in grid_cells(response, self.grid)]
        counts = [cell.sum() for cell in grid_cells(peaks, self.grid)]
        return np.asarray(mean_response + counts, dtype=np.float64)
