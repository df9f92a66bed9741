"""How good the synthetic images are, on two fixed yardsticks.

- **Judge accuracy**: a logistic regression on HOG features, fitted on the REAL training images of
  every class, classifies the synthetic images; their conditioning label is the truth. Its accuracy
  on real held-out images of the class (when the data has a val split) is the reference.
- **Fréchet distance** (the FID formula, on a fixed classical extractor instead of Inception):
  histogram-of-oriented-gradients features (scikit-image ``hog``: 9 orientations, a 4×4 grid of
  cells, one cell per block, L2-Hys; 144 numbers per image, grayscale), Gaussian fitted to each set,
  ``|μ1-μ2|² + tr(Σ1 + Σ2 - 2(Σ1Σ2)^½)`` with scipy's ``sqrtm``. Nothing is learned, so numbers
  compare across runs; with few real images the distance is biased upwards, so it is reported next
  to the distance of uniform noise to the same real images.
"""

from __future__ import annotations

import numpy as np

HOG_CELLS = 4
EPS = 1e-6


def hog_features(images: np.ndarray) -> np.ndarray:
    """(n, 144) HOG features of uint8 (n, H, W, C) images (RGB averaged to gray)."""
    from skimage.feature import hog

    gray = images.astype(np.float64).mean(axis=3) / 255.0
    cell = max(1, gray.shape[1] // HOG_CELLS)
    return np.array([hog(g, orientations=9, pixels_per_cell=(cell, cell), cells_per_block=(1, 1),
                         block_norm="L2-Hys", feature_vector=True) for g in gray], dtype=np.float64)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature sets ``a`` (n, d) and ``b`` (m, d)."""
    import warnings

    from scipy.linalg import LinAlgWarning, sqrtm

    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False)) if len(a) > 1 else np.zeros((a.shape[1],) * 2)
    cov_b = np.atleast_2d(np.cov(b, rowvar=False)) if len(b) > 1 else np.zeros((b.shape[1],) * 2)
    with warnings.catch_warnings():  # fewer images than features: singular, handled below
        warnings.simplefilter("ignore", LinAlgWarning)
        root = sqrtm(cov_a @ cov_b)
        if not np.isfinite(root).all():  # near-singular product: regularise both (as pytorch-fid does)
            offset = np.eye(len(cov_a)) * EPS
            root = sqrtm((cov_a + offset) @ (cov_b + offset))
    root = np.real(root)
    value = float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(root))
    return max(value, 0.0)


class Judge:
    """A classifier trained on real images only, used to check that samples look like their class."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, seed: int = 0) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        classifier = LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed)
        self.model = make_pipeline(StandardScaler(), classifier)
        self.model.fit(hog_features(images), labels)

    def accuracy(self, images: np.ndarray, label: int) -> float | None:
        if len(images) == 0:
            return None
        return float(np.mean(self.model.predict(hog_features(images)) == label))


def noise_like(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """Uniform noise images of the same shape (the reference for 'no resemblance at all')."""
    return np.random.default_rng(seed).integers(0, 256, size=images.shape, dtype=np.uint8)


def class_quality(judge: Judge, real: np.ndarray, synthetic: np.ndarray, label: int,
                  held_out: np.ndarray | None = None) -> dict:
    """The quality numbers of one class's samples (see the module docstring)."""
    real_f, synth_f = hog_features(real), hog_features(synthetic)
    return {
        "n_real": int(len(real)), "n_synthetic": int(len(synthetic)),
        "judge_accuracy": judge.accuracy(synthetic, label),
        "judge_accuracy_real_held_out": None if held_out is None else judge.accuracy(held_out, label),
        "frechet_hog": frechet_distance(real_f, synth_f),
        "frechet_hog_noise": frechet_distance(real_f, hog_features(noise_like(synthetic))),
    }
