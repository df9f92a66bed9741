"""Small image helpers shared by the extractors (gray conversion, grid cells)."""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2gray


def gray_float(image: np.ndarray) -> np.ndarray:
    """H×W×C uint8 image → H×W float64 intensity in [0, 1]."""
    if image.shape[-1] == 3:
        return rgb2gray(image)
    return image[..., 0].astype(np.float64) / 255.0


def gray_uint8(image: np.ndarray) -> np.ndarray:
    """H×W×C uint8 image → H×W uint8 intensity."""
    if image.shape[-1] == 3:
        return np.round(rgb2gray(image) * 255.0).astype(np.uint8)
    return image[..., 0]


def effective_grid(shape: tuple[int, ...], grid: int) -> int:
    """The grid side actually used: never more cells than pixels along a side."""
    return max(1, min(int(grid), int(shape[0]), int(shape[1])))


def grid_cells(array: np.ndarray, grid: int) -> list[np.ndarray]:
    """Split a 2-D array into ``grid × grid`` near-equal cells, row-major."""
    g = effective_grid(array.shape, grid)
    return [cell for band in np.array_split(array, g, axis=0) for cell in np.array_split(band, g, axis=1)]


def normalized_histogram(values: np.ndarray, bins: int, value_range: tuple[float, float]) -> np.ndarray:
    """Histogram of ``values`` scaled to sum to 1 (all zeros when there are no values)."""
    counts, _ = np.histogram(values, bins=bins, range=value_range)
    total = counts.sum()
    return counts / total if total > 0 else counts.astype(np.float64)
