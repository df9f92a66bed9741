"""A folder of JPEG photo crops for the speed benchmarks: 8 classes, one per scikit-image sample photo
(astronaut, cat, coffee, rocket, hubble, immunohistochemistry, retina, colorwheel), each image a random
crop (side 48–160 px, random aspect, random flip) re-encoded as JPEG at quality 90.

    python bench/photo_crops.py OUT_DIR [--n 2000] [--seed 0]

Deterministic for a given seed; written under OUT_DIR/<class>/<i>.jpg (a class-folder tree).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
          "colorwheel")


def photos() -> dict[str, np.ndarray]:
    from skimage import data

    return {name: getattr(data, name)()[..., :3] for name in PHOTOS}


def crop(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = photo.shape[:2]
    side = int(rng.integers(48, 161))
    ch = min(h, max(24, int(side * rng.uniform(0.75, 1.33))))
    cw = min(w, side)
    top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    out = photo[top:top + ch, left:left + cw]
    return out[:, ::-1] if rng.random() < 0.5 else out


def write_crops(out: Path, n: int = 2000, seed: int = 0) -> Path:
    """Write ``n`` crops (n / 8 per class) as JPEG files; returns ``out``."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    sources = photos()
    for k in range(n):
        name = PHOTOS[k % len(PHOTOS)]
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.ascontiguousarray(crop(sources[name], rng))).save(folder / f"{k:05d}.jpg", quality=90)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write_crops(args.out, args.n, args.seed)
    print(f"wrote {args.n} JPEG crops in {len(PHOTOS)} classes to {args.out}")


if __name__ == "__main__":
    main()
