"""Texture features: histograms of oriented gradients and local binary patterns."""

from __future__ import annotations

import numpy as np
from skimage.feature import hog, local_binary_pattern

from foveal.features._image import gray_float, gray_uint8, grid_cells, normalized_histogram
from foveal.features.base import ImageFeatures, is_int, require

#: Bounds on the automatic number of HOG cells across the shorter image side.
MIN_AUTO_CELLS, MAX_AUTO_CELLS = 4, 8


class HOGFeatures(ImageFeatures):
    """Histogram of oriented gradients on the gray image.

    The cell size is derived from the image: ``cells_per_side`` cells across the
    shorter side (at least 2 px per cell), so 8 px and 256 px images both work. The
    default (None) picks about 8 px cells, between 4 and 8 cells per side: 4 for
    8–39 px images (2–9 px cells), 8 from 64 px up (8 px cells at 64 px).
    """

    feature_name = "hog"

    def __init__(
        self, orientations: int = 9, cells_per_side: int | None = None, block_size: int = 2, n_jobs: int | None = None
    ) -> None:
        self.orientations = orientations
        self.cells_per_side = cells_per_side
        self.block_size = block_size
        self.n_jobs = n_jobs

    def _check_params(self) -> None:
        require(is_int(self.orientations, 2), "orientations", self.orientations, "an integer ≥ 2")
        ok = self.cells_per_side is None or is_int(self.cells_per_side, 1)
        require(ok, "cells_per_side", self.cells_per_side, "an integer ≥ 1, or None for automatic")
        require(is_int(self.block_size, 1), "block_size", self.block_size, "an integer ≥ 1")

    def _geometry(self, shape: tuple[int, ...]) -> tuple[int, int]:
        """(cell size in px, cells per block) for an image of ``shape``."""
        side = min(shape[0], shape[1])
        per_side = self.cells_per_side or min(max(side // 8, MIN_AUTO_CELLS), MAX_AUTO_CELLS)
        cell = max(min(2, side), side // per_side)
        return cell, max(1, min(self.block_size, side // cell))

    def _extract_one(self, image: np.ndarray) -> np.ndarray:
        cell, block = self._geometry(image.shape)
        return hog(
            gray_float(image),
            orientations=self.orientations,
            pixels_per_cell=(cell, cell),
            cells_per_block=(block, block),
            block_norm="L2-Hys",
            feature_vector=True,
        )


class LBPFeatures(ImageFeatures):
    """Rotation-invariant uniform local binary patterns at several (points, radius) scales.

    Each scale gives a normalized histogram of its P + 2 pattern codes, per cell of
    a ``grid × grid`` layout (1 = whole image). Scales whose neighbourhood does not
    fit in the image are skipped (the smallest one is always kept).
    """

    feature_name = "lbp"

    def __init__(
        self,
        scales: tuple[tuple[int, int], ...] = ((8, 1), (16, 2), (24, 3)),
        grid: int = 1,
        n_jobs: int | None = None,
    ) -> None:
        self.scales = scales
        self.grid = grid
        self.n_jobs = n_jobs

    def _check_params(self) -> None:
        ok = len(self.scales) > 0 and all(len(s) == 2 and is_int(s[0], 1) and s[1] > 0 for s in self.scales)
        require(ok, "scales", self.scales, "a non-empty list of (points, radius) pairs such as ((8, 1), (16, 2))")
        require(is_int(self.grid, 1), "grid", self.grid, "an integer ≥ 1")

    def active_scales(self, shape: tuple[int, ...]) -> list[tuple[int, float]]:
        """The (points, radius) scales used for images of ``shape``."""
        side = min(shape[0], shape[1])
        scales = sorted((int(p), r) for p, r in self.scales)
        fitting = [(p, r) for p, r in scales if 2 * r + 1 <= side]
        return fitting or [min(scales, key=lambda s: s[1])]

    def _extract_one(self, image: np.ndarray) -> np.ndarray:
        gray = gray_uint8(image)
        hists = []
        for points, radius in self.active_scales(image.shape):
            codes = local_binary_pattern(gray, points, radius, method="uniform")
            hists += [normalized_histogram(cell, points + 2, (0, points + 2)) for cell in grid_cells(codes, self.grid)]
        return np.concatenate(hists)
