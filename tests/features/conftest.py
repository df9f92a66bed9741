"""Real images for the feature tests: scikit-image samples, digits, faces, textures."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data
from skimage.transform import resize, rotate
from sklearn.datasets import load_digits


def sample_images(size: int, channels: int, n: int = 3) -> np.ndarray:
    """``n`` different real crops of the astronaut photo, as uint8 (n, size, size, channels)."""
    photo = data.astronaut()
    crops = [photo[:256, :256], photo[100:400, 150:450], photo[256:, 256:], photo[::2, ::2]]
    images = np.stack([resize(crops[i % len(crops)], (size, size), anti_aliasing=True) for i in range(n)])
    images = np.round(images * 255).astype(np.uint8)
    return images[..., :1] if channels == 1 else images


@pytest.fixture(scope="session")
def make_images():
    """Factory: ``make_images(size, channels, n=3)`` → real uint8 images."""
    return sample_images


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8×8 digits scaled to uint8, shape (n, 8, 8, 1)."""
    bunch = load_digits()
    return np.round(bunch.images / 16 * 255).astype(np.uint8)[..., None], bunch.target


@pytest.fixture(scope="session")
def faces() -> tuple[np.ndarray, np.ndarray]:
    """200 25×25 gray images: 100 faces (label 1) then 100 non-faces (label 0)."""
    images = np.round(data.lfw_subset() * 255).astype(np.uint8)[..., None]
    return images, np.array([1] * 100 + [0] * 100)


def _rotated_patches(image: np.ndarray, rows: tuple[int, int], n: int, rng: np.random.Generator) -> np.ndarray:
    size, crop = 32, 48  # crop ≥ 32·√2 so the rotated patch has no empty corners
    patches = []
    for _ in range(n):
        r, c = rng.integers(rows[0], rows[1] - crop + 1), rng.integers(0, image.shape[1] - crop + 1)
        turned = rotate(image[r : r + crop, c : c + crop], rng.uniform(0, 360), preserve_range=True)
        patches.append(turned[8 : 8 + size, 8 : 8 + size])
    return np.round(np.stack(patches)).astype(np.uint8)[..., None]


@pytest.fixture(scope="session")
def textures() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """32 px rotated brick / grass / gravel patches: train from the top 70%, test from the bottom 15%."""
    rng = np.random.default_rng(0)
    parts: dict[str, list] = {"Xtr": [], "ytr": [], "Xte": [], "yte": []}
    for label, image in enumerate([data.brick(), data.grass(), data.gravel()]):
        h = image.shape[0]
        parts["Xtr"].append(_rotated_patches(image, (0, int(0.7 * h)), 40, rng))
        parts["Xte"].append(_rotated_patches(image, (int(0.85 * h), h), 20, rng))
        parts["ytr"] += [label] * 40
        parts["yte"] += [label] * 20
    return (np.concatenate(parts["Xtr"]), np.array(parts["ytr"]), np.concatenate(parts["Xte"]), np.array(parts["yte"]))
