"""Built-in datasets made from data shipped inside installed packages (no downloads).

Every dataset is deterministic and comes with a fixed 70/15/15 train/val/test split.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from foveal.errors import DataError

SPLITS = ("train", "val", "test")
_FRACTIONS = {"val": 0.15, "test": 0.15}  # train gets the rest (70%)
_SEED = 20_240_601

BUILTINS: dict[str, str] = {
    "digits": "1,797 handwritten digits 0-9, 8×8 grayscale (scikit-learn)",
    "faces": "200 face / background crops, 25×25 grayscale (scikit-image LFW subset)",
    "textures": "450 brick / grass / gravel patches, 32×32 grayscale, randomly rotated (scikit-image)",
    "multidigits": "1,500 multi-label 16×16 canvases holding 2-3 digits each (from scikit-learn digits)",
    "digit-taxonomy": "the digits images labelled by shape family, e.g. loops/8, lines/1 (hierarchical)",
    "digits-in-clutter": "the digits pasted at a random place on a 32×32 noise canvas, each box stored "
                         "(where the answer is: for testing explanations)",
    "faces-biased": "the faces crops and their mirror images; a 'dark' tone subgroup (column tone), darker "
                    "and lower-contrast, is rare in training and half of val and test (for fairness audits)",
    "digits-imbalanced": "the digits with digit 8 cut to 5 % of its training images (val and test untouched; "
                         "for rare-class methods such as `foveal synthesize`)",
    "digits-shifted": "the digits as another domain: blurred, faded onto grey and noisy; same labels and splits "
                      "(for domain adaptation)",
}

# Flips and large rotations change these labels (a mirrored 2 or a 6 upside down is no longer itself).
ORIENTATION_SENSITIVE: frozenset[str] = frozenset({"digits", "multidigits", "digit-taxonomy", "digits-in-clutter",
                                                   "digits-imbalanced", "digits-shifted"})

_DIGIT_FAMILIES = {
    "0": "loops", "6": "loops", "8": "loops", "9": "loops",
    "1": "lines", "4": "lines", "7": "lines",
    "2": "curves", "3": "curves", "5": "curves",
}  # fmt: skip

TEXTURE_PATCH = 32
# A crop this large stays fully covered after any rotation once centre-cropped to
# TEXTURE_PATCH (32·√2 ≈ 45.3, plus a margin for bilinear edges).
TEXTURE_CROP = 48
TEXTURES_PER_CLASS = 150
TEXTURE_SOURCE_SIZE = 512  # skimage brick(), grass() and gravel() are 512×512

MULTIDIGIT_COUNT = 1_500
MULTIDIGIT_SLOTS = ((0, 0), (0, 8), (8, 0), (8, 8))  # top-left corners of the 2×2 grid

CLUTTER_CANVAS = 32
CLUTTER_DIGIT = 12  # the 8×8 digit is enlarged to this side before pasting
CLUTTER_NOISE = 110  # background pixels are uniform in [0, CLUTTER_NOISE]

FACES_SPLIT = {"train": 70, "val": 15, "test": 15}  # source images per class (each also mirrored)
# Of those, per (split, class), in the dark tone subgroup: rare in training, and there mostly background,
# so a model can learn "dark means background" unless subgroup × class is balanced.
FACES_DARK = {("train", "face"): 2, ("train", "background"): 8, ("val", "face"): 7, ("val", "background"): 7,
              ("test", "face"): 8, ("test", "background"): 8}
FACES_DARK_SCALE = 0.35  # dark images: pixel values × this (darker, lower contrast)


@dataclass(frozen=True)
class BuiltinData:
    """A built-in dataset: images (n, H, W, C) uint8 and one label and split per image."""

    name: str
    images: np.ndarray
    labels: list
    split: list[str]
    task: str
    description: str
    orientation_sensitive: bool = False
    attributes: dict[str, list[str]] = field(default_factory=dict)  # further per-image columns (tone, …)
    boxes: np.ndarray | None = None  # (n, 4) top, left, bottom, right (exclusive) of the labelled object


def load_builtin(name: str) -> BuiltinData:
    """Load a built-in dataset by name; raises DataError for unknown names."""
    cached = _build(_check_name(name))
    # Share the read-only pixels, hand out fresh lists so callers cannot alter the cache.
    labels = [list(x) if isinstance(x, list) else x for x in cached.labels]
    return BuiltinData(
        cached.name, cached.images, labels, list(cached.split), cached.task, cached.description,
        cached.orientation_sensitive, {k: list(v) for k, v in cached.attributes.items()}, cached.boxes,
    )


def describe_builtins() -> list[dict]:
    """One summary row per built-in dataset (name, task, sizes, description)."""
    rows = []
    for name in BUILTINS:
        data = _build(name)
        n, height, width, channels = data.images.shape
        rows.append({
            "name": name,
            "task": data.task,
            "n_images": n,
            "n_classes": len(_classes(data.labels)),
            "image_size": (height, width),
            "channels": channels,
            "description": data.description,
        })  # fmt: skip
    return rows


def _check_name(name: str) -> str:
    if name not in BUILTINS:
        known = ", ".join(BUILTINS)
        raise DataError(f"unknown built-in dataset {name!r}", f"use one of: {known}")
    return name


def _classes(labels: Sequence) -> set[str]:
    if labels and isinstance(labels[0], list):
        return {label for row in labels for label in row}
    return set(labels)


@functools.lru_cache(maxsize=None)
def _build(name: str) -> BuiltinData:
    builders: dict[str, Callable[[], tuple[np.ndarray, list, list[str], str]]] = {
        "digits": _digits,
        "faces": _faces,
        "textures": _textures,
        "multidigits": _multidigits,
        "digit-taxonomy": _digit_taxonomy,
        "digits-in-clutter": _digits_in_clutter,
        "faces-biased": _faces_biased,
    }
    from foveal.data.builtin_imbalanced import digits_imbalanced

    builders["digits-imbalanced"] = digits_imbalanced
    from foveal.data.builtin_shifted import digits_shifted

    builders["digits-shifted"] = lambda: digits_shifted(_digit_source())
    images, labels, split, task, *extra = builders[name]()
    images.flags.writeable = False
    more = extra[0] if extra else {}
    return BuiltinData(name, images, labels, split, task, BUILTINS[name], name in ORIENTATION_SENSITIVE,
                       more.get("attributes", {}), more.get("boxes"))


# --- splitting ---------------------------------------------------------------------


def _split_counts(n: int) -> dict[str, int]:
    """Sizes of train/val/test for ``n`` items: 15% val, 15% test (rounded), rest train."""
    val = int(round(n * _FRACTIONS["val"]))
    test = int(round(n * _FRACTIONS["test"]))
    return {"train": n - val - test, "val": val, "test": test}


def _stratified_split(labels: Sequence[str], seed: int) -> list[str]:
    """Assign each item to train/val/test, 70/15/15 within every class."""
    rng = np.random.default_rng(seed)
    split = [""] * len(labels)
    for label in sorted(set(labels)):
        members = rng.permutation([i for i, x in enumerate(labels) if x == label])
        counts = _split_counts(len(members))
        start = 0
        for name in SPLITS:
            for i in members[start : start + counts[name]]:
                split[int(i)] = name
            start += counts[name]
    return split


# --- digits and derived sets -------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _digit_source() -> tuple[np.ndarray, list[str], list[str]]:
    """The scikit-learn digits as (1797, 8, 8, 1) uint8 with labels and the shared split."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    labels = [str(int(t)) for t in digits.target]
    images.flags.writeable = False
    return images, labels, _stratified_split(labels, _SEED)


def _digits() -> tuple[np.ndarray, list, list[str], str]:
    images, labels, split = _digit_source()
    return images, list(labels), list(split), "multiclass"


def _digit_taxonomy() -> tuple[np.ndarray, list, list[str], str]:
    images, labels, split = _digit_source()
    paths = [f"{_DIGIT_FAMILIES[label]}/{label}" for label in labels]
    return images, paths, list(split), "hierarchical"


def _faces() -> tuple[np.ndarray, list, list[str], str]:
    from skimage.data import lfw_subset

    faces = lfw_subset()  # first 100 are faces, last 100 are not
    images = np.rint(np.clip(faces, 0.0, 1.0) * 255.0).astype(np.uint8)[..., None]
    labels = ["face"] * 100 + ["background"] * (len(faces) - 100)
    return images, labels, _stratified_split(labels, _SEED + 1), "binary"


def _multidigit_plan(seed: int = _SEED + 2) -> list[tuple[str, tuple[int, ...], tuple[int, ...]]]:
    """(split, source digit indices, grid slots) for each multidigits image.

    Each split draws its digits only from the same split of the digits dataset, so
    no test digit image is ever seen in training.
    """
    _, _, source_split = _digit_source()
    rng = np.random.default_rng(seed)
    plan = []
    for split_name, count in _split_counts(MULTIDIGIT_COUNT).items():
        pool = np.array([i for i, s in enumerate(source_split) if s == split_name])
        for _ in range(count):
            k = int(rng.integers(2, 4))  # 2 or 3 digits
            sources = tuple(int(i) for i in rng.choice(pool, size=k, replace=False))
            slots = tuple(int(s) for s in rng.choice(len(MULTIDIGIT_SLOTS), size=k, replace=False))
            plan.append((split_name, sources, slots))
    return plan


def _multidigits() -> tuple[np.ndarray, list, list[str], str]:
    """16×16 canvases: a 2×2 grid of 8×8 slots, 2-3 filled with digits, the rest black."""
    digit_images, digit_labels, _ = _digit_source()
    plan = _multidigit_plan()
    images = np.zeros((len(plan), 16, 16, 1), dtype=np.uint8)
    labels, split = [], []
    for n, (split_name, sources, slots) in enumerate(plan):
        for source, slot in zip(sources, slots):
            row, col = MULTIDIGIT_SLOTS[slot]
            images[n, row : row + 8, col : col + 8] = digit_images[source]
        labels.append(sorted({digit_labels[s] for s in sources}))
        split.append(split_name)
    return images, labels, split, "multilabel"


# --- textures ----------------------------------------------------------------------


def _texture_bands(height: int) -> dict[str, tuple[int, int]]:
    """Disjoint row bands [start, stop): train the top 70%, val the next 15%, test the last 15%."""
    counts = _split_counts(height)
    bands, start = {}, 0
    for name in SPLITS:
        bands[name] = (start, start + counts[name])
        start += counts[name]
    return bands


def _texture_plan(seed: int = _SEED + 3) -> list[tuple[str, str, int, int, float]]:
    """(label, split, row, col, angle) per patch; each crop lies inside its split's band."""
    rng = np.random.default_rng(seed)
    counts = _split_counts(TEXTURES_PER_CLASS)
    bands = _texture_bands(TEXTURE_SOURCE_SIZE)
    plan = []
    for label in ("brick", "grass", "gravel"):
        for split_name in SPLITS:
            top, bottom = bands[split_name]
            for _ in range(counts[split_name]):
                row = int(rng.integers(top, bottom - TEXTURE_CROP + 1))
                col = int(rng.integers(0, TEXTURE_SOURCE_SIZE - TEXTURE_CROP + 1))
                plan.append((label, split_name, row, col, float(rng.uniform(0.0, 360.0))))
    return plan


def _rotated_patch(image: np.ndarray, row: int, col: int, angle: float) -> np.ndarray:
    """Rotate a TEXTURE_CROP crop by ``angle`` degrees and centre-crop TEXTURE_PATCH."""
    crop = Image.fromarray(image[row : row + TEXTURE_CROP, col : col + TEXTURE_CROP])
    rotated = np.asarray(crop.rotate(angle, resample=Image.Resampling.BILINEAR))
    margin = (TEXTURE_CROP - TEXTURE_PATCH) // 2
    return rotated[margin : margin + TEXTURE_PATCH, margin : margin + TEXTURE_PATCH]


def _textures() -> tuple[np.ndarray, list, list[str], str]:
    from skimage import data as skdata

    sources = {"brick": skdata.brick(), "grass": skdata.grass(), "gravel": skdata.gravel()}
    assert all(s.shape == (TEXTURE_SOURCE_SIZE,) * 2 for s in sources.values())
    plan = _texture_plan()
    images = np.stack([_rotated_patch(sources[lab], r, c, a) for lab, _, r, c, a in plan])
    labels = [lab for lab, *_ in plan]
    split = [s for _, s, *_ in plan]
    return images[..., None].astype(np.uint8), labels, split, "multiclass"


# --- datasets where the answer is known: explanations and fairness -----------------


def _digits_in_clutter(seed: int = _SEED + 4) -> tuple:
    """Each digit enlarged to CLUTTER_DIGIT px and pasted (brightest pixel wins) at a random place on a
    uniform-noise canvas; ``boxes`` holds where it went. Splits follow the digits dataset."""
    digit_images, labels, split = _digit_source()
    rng = np.random.default_rng(seed)
    n, side, size = len(labels), CLUTTER_CANVAS, CLUTTER_DIGIT
    images = rng.integers(0, CLUTTER_NOISE + 1, size=(n, side, side, 1)).astype(np.uint8)
    corners = rng.integers(0, side - size + 1, size=(n, 2))
    for i in range(n):
        digit = np.asarray(Image.fromarray(digit_images[i, :, :, 0]).resize((size, size), Image.Resampling.BILINEAR))
        top, left = corners[i]
        window = images[i, top:top + size, left:left + size, 0]
        np.maximum(window, digit, out=window)
    boxes = np.concatenate([corners, corners + size], axis=1).astype(np.int64)
    boxes.flags.writeable = False
    return images, list(labels), list(split), "multiclass", {"boxes": boxes}


def _faces_biased(seed: int = _SEED + 5) -> tuple:
    """``faces`` and their mirror images; a ``dark`` tone subgroup (pixels × FACES_DARK_SCALE) that is
    rare in train, and mostly background there (FACES_DARK), and about half of val and test. A mirror
    identical to its image (a symmetric crop) is left out."""
    from skimage.data import lfw_subset

    faces = np.rint(np.clip(lfw_subset(), 0.0, 1.0) * 255.0).astype(np.uint8)
    classes = ["face"] * 100 + ["background"] * (len(faces) - 100)
    rng = np.random.default_rng(seed)
    images, labels, split, tone = [], [], [], []
    for label in ("face", "background"):
        order = rng.permutation([i for i, c in enumerate(classes) if c == label])
        start = 0
        for split_name in SPLITS:
            for k, source in enumerate(order[start:start + FACES_SPLIT[split_name]]):
                dark = k < FACES_DARK[split_name, label]
                image = np.rint(faces[source] * FACES_DARK_SCALE).astype(np.uint8) if dark else faces[source]
                mirror = image[:, ::-1]
                for version in (image, mirror) if not np.array_equal(image, mirror) else (image,):
                    images.append(version)
                    labels.append(label)
                    split.append(split_name)
                    tone.append("dark" if dark else "light")
            start += FACES_SPLIT[split_name]
    return np.stack(images)[..., None], labels, split, "binary", {"attributes": {"tone": tone}}
