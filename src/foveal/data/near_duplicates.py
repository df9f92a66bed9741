"""Near-duplicates: the same picture re-encoded, resized or slightly cropped, found by perceptual
hashes (imagehash) where exact content hashes see different files.

Each image gets two 64-bit hashes of its grayscale version — the DCT hash (``phash``) and the mean
hash (``average_hash``) — and a 12×12 grayscale thumbnail. Two images are near-duplicates when
both hashes differ in at most ``max_distance`` bits and their thumbnails correlate at least
``MIN_CORRELATION`` (the hashes alone confuse plain look-alikes such as two brick patches with one
mortar line); groups are the connected components of that relation. Candidate pairs come
from splitting the DCT hash into ``max_distance + 1`` bands — two hashes within the distance agree
exactly on at least one band (pigeonhole) — so the search stays far below all pairs on large sets.

Images under ``MIN_SIDE`` pixels carry too little detail (8×8 digits differ by a handful of bits
from other people's handwriting) and are left out.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

MAX_DISTANCE = 8  # bits of 64, for both hashes (measured: JPEG q70 and ½ resizes stay ≤ 6 at 25-32 px)
MIN_SIDE = 16  # px: smaller images are not compared
THUMB = 12  # px, the side of the thumbnail that confirms a pair
MIN_CORRELATION = 0.9  # re-encoded / resized copies: ≥ 0.93 measured; look-alike digits in clutter: ≤ 0.85

Fingerprint = tuple[int, int, bytes]  # DCT hash, mean hash, thumbnail pixels


def available() -> bool:
    """Whether imagehash (``pip install 'foveal[audit]'``) is installed."""
    import importlib.util

    return importlib.util.find_spec("imagehash") is not None


def image_hashes(image: np.ndarray) -> Fingerprint | None:
    """(DCT hash, mean hash, thumbnail) of an H×W×C uint8 image; None when the image is too small
    or imagehash is not installed."""
    if min(image.shape[:2]) < MIN_SIDE or not available():
        return None
    import imagehash
    from PIL import Image

    gray = image[:, :, 0] if image.shape[2] == 1 else np.asarray(Image.fromarray(image).convert("L"))
    pil = Image.fromarray(np.ascontiguousarray(gray))
    thumb = pil.resize((THUMB, THUMB), Image.Resampling.BILINEAR).tobytes()
    return _as_int(imagehash.phash(pil)), _as_int(imagehash.average_hash(pil)), thumb


def _as_int(h) -> int:
    return int("".join("1" if b else "0" for b in h.hash.ravel()), 2)


def _bands(value: int, count: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, 64, count + 1).astype(int)
    return [(k, (value >> int(lo)) & ((1 << int(hi - lo)) - 1)) for k, (lo, hi) in enumerate(zip(edges, edges[1:]))]


def _correlation(a: bytes, b: bytes) -> float:
    x = np.frombuffer(a, np.uint8).astype(np.float64)
    y = np.frombuffer(b, np.uint8).astype(np.float64)
    x, y = x - x.mean(), y - y.mean()
    norm = np.linalg.norm(x) * np.linalg.norm(y)
    return float(x @ y / norm) if norm > 0 else float(np.array_equal(a, b))


def _close(a: Fingerprint, b: Fingerprint, max_distance: int) -> bool:
    return (bin(a[0] ^ b[0]).count("1") <= max_distance and bin(a[1] ^ b[1]).count("1") <= max_distance
            and _correlation(a[2], b[2]) >= MIN_CORRELATION)


def near_duplicate_groups(hashes: list[Fingerprint | None], max_distance: int = MAX_DISTANCE) -> list[list[int]]:
    """Groups (sorted, in order of first index) of two or more indices linked by near-duplicate pairs."""
    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, h in enumerate(hashes):
        if h is not None:
            for band in _bands(h[0], max_distance + 1):
                buckets[band].append(i)
    parent = list(range(len(hashes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for members in buckets.values():
        for k, i in enumerate(members):
            for j in members[k + 1:]:
                if root(i) != root(j) and _close(hashes[i], hashes[j], max_distance):
                    parent[root(j)] = root(i)
    groups: dict[int, list[int]] = defaultdict(list)
    for i, h in enumerate(hashes):
        if h is not None:
            groups[root(i)].append(i)
    return sorted(g for g in groups.values() if len(g) > 1)
