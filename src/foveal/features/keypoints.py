"""Bag of visual words over local keypoint descriptors (SIFT or ORB)."""

from __future__ import annotations

import warnings

import numpy as np
from skimage.feature import ORB, SIFT
from skimage.transform import resize
from sklearn.cluster import MiniBatchKMeans
from sklearn.utils import check_random_state

from foveal.features._image import gray_float
from foveal.features.base import ImageFeatures, is_int, require

#: Smaller images are upscaled to this side first: ORB drops keypoints within ~16 px
#: of the border, and SIFT finds too few stable keypoints on faces and textures under it.
MIN_SIDE = 64
DESCRIPTOR_SIZES = {"sift": 128, "orb": 256}


def upscale(gray: np.ndarray, min_side: int) -> np.ndarray:
    """Bilinear upscale so the shorter side is at least ``min_side`` px."""
    side = min(gray.shape)
    if side >= min_side:
        return gray
    scale = min_side / side
    return resize(gray, (round(gray.shape[0] * scale), round(gray.shape[1] * scale)), order=1)


def describe(gray: np.ndarray, descriptor: str) -> np.ndarray:
    """Keypoint descriptors of one gray float image as a float (k, dim) array; k may be 0."""
    try:
        detector = ORB(n_keypoints=200, fast_threshold=0.05) if descriptor == "orb" else SIFT()
        detector.detect_and_extract(upscale(gray, MIN_SIDE))
        found = detector.descriptors
    except RuntimeError:  # skimage raises when an image has no keypoints at all
        found = None
    if found is None or len(found) == 0:
        return np.zeros((0, DESCRIPTOR_SIZES[descriptor]), dtype=np.float64)
    return np.asarray(found, dtype=np.float64)


def nearest(descriptors: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest center for each descriptor (squared Euclidean distance)."""
    distances = (centers**2).sum(axis=1)[None, :] - 2.0 * descriptors @ centers.T
    return distances.argmin(axis=1)


class BagOfWordsFeatures(ImageFeatures):
    """Normalized histogram of visual words: descriptors assigned to a k-means codebook.

    ``fit`` describes a seeded sample of at most ``max_fit_images`` images, keeps at
    most ``max_descriptors`` descriptors and clusters them with MiniBatchKMeans.
    Only the centers are kept (``codebook_``). Images without keypoints give zeros.
    """

    feature_name = "sift-bow"

    def __init__(
        self,
        n_words: int = 64,
        descriptor: str = "sift",
        max_fit_images: int = 500,
        max_descriptors: int = 20000,
        random_state: int | np.random.RandomState | None = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.n_words = n_words
        self.descriptor = descriptor
        self.max_fit_images = max_fit_images
        self.max_descriptors = max_descriptors
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _check_params(self) -> None:
        require(self.descriptor in DESCRIPTOR_SIZES, "descriptor", self.descriptor, "'sift' or 'orb'")
        require(is_int(self.n_words, 1), "n_words", self.n_words, "an integer ≥ 1")
        require(is_int(self.max_fit_images, 1), "max_fit_images", self.max_fit_images, "an integer ≥ 1")
        require(is_int(self.max_descriptors, 1), "max_descriptors", self.max_descriptors, "an integer ≥ 1")

    def _fit(self, X: np.ndarray, y: object = None) -> None:
        rng = check_random_state(self.random_state)
        picked = rng.choice(len(X), size=min(len(X), self.max_fit_images), replace=False)
        found = np.concatenate([describe(gray_float(X[i]), self.descriptor) for i in np.sort(picked)])
        if len(found) > self.max_descriptors:
            found = found[np.sort(rng.choice(len(found), size=self.max_descriptors, replace=False))]
        self.codebook_ = self._cluster(found, rng)
        self.n_descriptors_fit_ = int(len(found))

    def _cluster(self, found: np.ndarray, random_state: np.random.RandomState) -> np.ndarray:
        n_distinct = len(np.unique(found, axis=0)) if len(found) else 0
        n_words = min(self.n_words, n_distinct)
        if n_words < self.n_words:
            warnings.warn(
                f"sift-bow: only {len(found)} descriptors ({n_distinct} distinct) found in the training images, "
                f"so the codebook has {max(n_words, 1)} words instead of {self.n_words}; "
                "use larger or more detailed images, or fewer words",
                UserWarning,
                stacklevel=4,
            )
        if n_words == 0:
            return np.zeros((1, DESCRIPTOR_SIZES[self.descriptor]), dtype=np.float64)
        kmeans = MiniBatchKMeans(n_clusters=n_words, random_state=random_state, n_init=3, batch_size=1024)
        return np.asarray(kmeans.fit(found).cluster_centers_, dtype=np.float64)

    def _extract_one(self, image: np.ndarray) -> np.ndarray:
        histogram = np.zeros(len(self.codebook_), dtype=np.float64)
        found = describe(gray_float(image), self.descriptor)
        if len(found):
            words = nearest(found, self.codebook_)
            histogram += np.bincount(words, minlength=len(self.codebook_))
            histogram /= histogram.sum()
        return histogram
