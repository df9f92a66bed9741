"""Raw pixel intensities."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from foveal.features.base import ImageFeatures, check_images


class PixelFeatures(ImageFeatures):
    """Flattened intensities scaled to [0, 1], at the images' native size and channels."""

    feature_name = "pixels"

    def __init__(self, n_jobs: int | None = None) -> None:
        self.n_jobs = n_jobs

    def _extract_one(self, image: np.ndarray) -> np.ndarray:
        return image.reshape(-1).astype(np.float32) / np.float32(255.0)

    def transform(self, X: np.ndarray) -> np.ndarray:
        # One vectorised reshape beats per-image extraction by far: no workers needed.
        check_is_fitted(self, "n_features_out_")
        X = check_images(X, expected=self.image_shape_, allow_empty=True)
        return X.reshape(len(X), -1).astype(np.float32) / np.float32(255.0)
