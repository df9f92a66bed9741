"""Turning a dataset into one uint8 array of preprocessed images, skipping what cannot be decoded."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from foveal.data.dataset import Dataset
from foveal.data.decode import DEFAULT_MAX_PIXELS, decode_image, image_header, resize_image
from foveal.errors import ConfigError, DataError, DecodeError
from foveal.progress import track

AUTO_MAX_SIDE = 64
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


@dataclass(frozen=True)
class Preprocessing:
    """How an image becomes model input; stored in every bundle."""

    size: tuple[int, int]  # (height, width)
    channels: int
    interpolation: str = "bilinear"
    background: tuple[int, int, int] = (255, 255, 255)
    max_pixels: int = DEFAULT_MAX_PIXELS
    mean: tuple[float, ...] | None = None  # per-channel, [0, 1] units; deep models normalise with it
    std: tuple[float, ...] | None = None
    crop: float = 1.0  # centre-crop fraction after resizing to size / crop (1.0: no crop)

    def to_json(self) -> dict:
        out = {**asdict(self), "size": list(self.size), "background": list(self.background), "resize": "squash"}
        for key in ("mean", "std"):
            out[key] = None if out[key] is None else list(out[key])
        return out

    @classmethod
    def from_json(cls, data: dict) -> "Preprocessing":
        return cls(size=tuple(data["size"]), channels=int(data["channels"]),
                   interpolation=data.get("interpolation", "bilinear"),
                   background=tuple(data.get("background", (255, 255, 255))),
                   max_pixels=int(data.get("max_pixels", DEFAULT_MAX_PIXELS)),
                   mean=None if data.get("mean") is None else tuple(float(v) for v in data["mean"]),
                   std=None if data.get("std") is None else tuple(float(v) for v in data["std"]),
                   crop=float(data.get("crop", 1.0)))

    def with_min_side(self, side: int) -> "Preprocessing":
        """The same, scaled up (aspect kept) so the shorter side is at least ``side`` pixels."""
        if min(self.size) >= side:
            return self
        factor = side / min(self.size)
        return replace(self, size=(round(self.size[0] * factor), round(self.size[1] * factor)))

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """Resize and convert channels of an already-decoded H×W×C uint8 image."""
        if image.ndim == 2:
            image = image[:, :, None]
        if image.shape[2] != self.channels:
            image = _convert_channels(image, self.channels)
        if self.crop < 1.0:
            return self._resize_crop(image)
        if image.shape[:2] != self.size:
            image = resize_image(image, self.size, self.interpolation)
        return image

    def _resize_crop(self, image: np.ndarray) -> np.ndarray:
        h, w = self.size
        big = (max(h, round(h / self.crop)), max(w, round(w / self.crop)))
        image = resize_image(image, big, self.interpolation)
        top, left = (big[0] - h) // 2, (big[1] - w) // 2
        return image[top:top + h, left:left + w]

    def decode(self, data: bytes | str | Path) -> np.ndarray:
        """Decode one file (path or bytes) into model input."""
        h, w = self.size
        image = decode_image(data, channels=self.channels, max_pixels=self.max_pixels,
                             background=self.background, draft_size=(w, h))
        return self.prepare(image)


def _convert_channels(image: np.ndarray, channels: int) -> np.ndarray:
    if channels == 3:
        return np.repeat(image[:, :, :1], 3, axis=2)
    weights = np.array([0.299, 0.587, 0.114])  # ITU-R 601-2, as Pillow's RGB → L
    return np.clip(image[:, :, :3] @ weights + 0.5, 0, 255).astype(np.uint8)[:, :, None]


def auto_size(shapes: list[tuple[int, int]]) -> tuple[int, int]:
    """A typical (height, width) of the surveyed ``shapes``, at most AUTO_MAX_SIDE on its longer side.

    The most common size when it covers at least half of the shapes; otherwise
    (photos of many sizes) the median height and the median width.
    """
    (h, w), count = Counter(shapes).most_common(1)[0]
    if 2 * count < len(shapes):
        h = round(float(np.median([s[0] for s in shapes])))
        w = round(float(np.median([s[1] for s in shapes])))
    scale = min(1.0, AUTO_MAX_SIDE / max(h, w))
    return max(1, round(h * scale)), max(1, round(w * scale))


def infer_preprocessing(ds: Dataset, image_size: int | str = "auto", channels: int | str = "auto",
                        max_pixels: int = DEFAULT_MAX_PIXELS, sample: int = 256) -> Preprocessing:
    """Pick size and channels from the data unless given.

    ``auto`` size is :func:`auto_size` of a sample of image headers; ``auto``
    channels is 1 when every sampled image is grayscale, else 3. Headers over
    ``max_pixels`` are left out of the survey without decoding them.
    """
    shapes, gray = _survey(ds, sample, max_pixels)
    if image_size == "auto":
        size = auto_size(shapes) if shapes else (AUTO_MAX_SIDE, AUTO_MAX_SIDE)
    else:
        side = int(image_size)
        if side < 4:
            raise ConfigError(f"--image-size {side} is too small", "use at least 8")
        size = (side, side)
    if channels == "auto":
        n_channels = 1 if shapes and all(gray) else 3
    elif int(channels) in (1, 3):
        n_channels = int(channels)
    else:
        raise ConfigError(f"--channels must be 1, 3 or auto, got {channels}", "use 1 (gray) or 3 (RGB)")
    return Preprocessing(size=size, channels=n_channels, max_pixels=max_pixels)


def _survey(ds: Dataset, sample: int,
            max_pixels: int | None = DEFAULT_MAX_PIXELS) -> tuple[list[tuple[int, int]], list[bool]]:
    """(height, width) and grayscale-ness of a seeded sample of headers; bombs and broken files skipped."""
    if ds.images is not None:
        n, h, w, c = ds.images.shape
        return [(h, w)], [c == 1]
    rng = np.random.default_rng(0)
    picks = rng.choice(len(ds), size=min(sample, len(ds)), replace=False)
    shapes, gray = [], []
    for i in sorted(picks):
        try:
            info = image_header(ds.file(int(i)), max_pixels=max_pixels)
        except (DecodeError, OSError):
            continue
        shapes.append((info["height"], info["width"]))
        gray.append(info["mode"] in GRAY_MODES)
    return shapes, gray


@dataclass
class LoadedImages:
    """Decoded images of the samples in ``kept`` (indices into the dataset), and what was skipped."""

    images: np.ndarray
    kept: np.ndarray
    hashes: list[str]
    skipped: list[dict] = field(default_factory=list)  # {"path": ..., "reason": ...}
    rows: np.ndarray | None = None  # dataset indices of ``images``' rows when only a sample is kept


def read_file_bytes(path: Path) -> bytes:
    """A file's bytes; a missing or unreadable file is a :class:`DecodeError`, skipped like a broken image."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise DecodeError("file not found", "fix the path or remove the entry") from None
    except OSError as err:
        raise DecodeError(f"cannot read file ({err.strerror or err})") from None


def decode_file(path: Path, prep: Preprocessing) -> tuple[np.ndarray, str]:
    """Model input and content hash of one file; every failure is a :class:`DecodeError`."""
    data = read_file_bytes(path)
    return prep.decode(data), hashlib.sha256(data).hexdigest()


def _load_files(ds: Dataset, prep: Preprocessing, description: str):
    def work(i: int):
        try:
            return i, *decode_file(ds.file(i), prep), None
        except DecodeError as err:
            return i, None, None, err.what

    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from track(pool.map(work, range(len(ds))), description, total=len(ds))


def _load_arrays(ds: Dataset, prep: Preprocessing):
    for i, image in enumerate(ds.images):
        yield i, prep.prepare(image), hashlib.sha256(image.tobytes()).hexdigest(), None


def load_images(ds: Dataset, prep: Preprocessing, max_skip_ratio: float = 0.1,
                description: str = "Decoding", sample: int | None = None, ahead: bool = True) -> LoadedImages:
    """Decode every sample once; undecodable files are skipped with their reason.

    ``sample`` keeps the pixels of only a seeded sample of that many images (for data
    larger than RAM: every file is still decoded once, to check and hash it).
    Raises :class:`DataError` when more than ``max_skip_ratio`` of the samples fail.
    With ``ahead``, takes the result of a decoding started ahead (:mod:`foveal.data.ahead`) when there is one.
    """
    from foveal.data.ahead import take

    ready = take(ds, prep) if sample is None and ahead else None
    if ready is not None:
        check_skip_ratio(ds.name, len(ds), ready.skipped, max_skip_ratio)
        return ready
    source = _load_arrays(ds, prep) if ds.images is not None else _load_files(ds, prep, description)
    wanted = None if sample is None else set(np.random.default_rng(0).permutation(len(ds))[:sample].tolist())
    h, w = prep.size
    images = np.empty((len(ds) if wanted is None else len(wanted), h, w, prep.channels), dtype=np.uint8)
    kept, hashes, skipped, rows = [], [], [], []
    for i, image, digest, error in source:
        if error is not None:
            skipped.append({"path": ds.location(i), "reason": error})
            continue
        if wanted is None or i in wanted:
            images[len(rows)] = image
            rows.append(i)
        kept.append(i)
        hashes.append(digest)
    check_skip_ratio(ds.name, len(ds), skipped, max_skip_ratio)
    return LoadedImages(images=images[:len(rows)], kept=np.array(kept, dtype=int), hashes=hashes,
                        skipped=skipped, rows=None if wanted is None else np.array(rows, dtype=int))


def check_skip_ratio(name: str, total: int, skipped: list[dict], max_skip_ratio: float) -> None:
    """Raise when too many images could not be decoded (or all of them)."""
    if not skipped:
        return
    first = skipped[0]
    if len(skipped) >= total:  # raising --max-skip-ratio cannot help here
        raise DataError(f"none of the {total} images in {name} could be decoded; "
                        f"first: {first['path']}: {first['reason']}",
                        f"run `foveal data check {name}` to see why")
    ratio = len(skipped) / max(1, total)
    if ratio > max_skip_ratio:
        raise DataError(
            f"{len(skipped)} of {total} images in {name} could not be decoded ({ratio:.0%}); "
            f"first: {first['path']}: {first['reason']}",
            f"run `foveal data check` to list them, fix or remove them, or raise --max-skip-ratio "
            f"(now {max_skip_ratio})",
        )
