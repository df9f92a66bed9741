"""Benchmarks: foveal against plain reference code measured in the same run.

Each line prints both timings and the ratio reference/foveal (above 1: foveal is faster).
Run with `make bench`; takes about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data as skdata


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def write_photos(folder: Path, n: int) -> list[Path]:
    """``n`` real 512×512 JPEG photos (crops of scikit-image's pictures) in two class folders."""
    sources = [skdata.astronaut(), skdata.coffee(), skdata.chelsea(), skdata.rocket()]
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        src = sources[i % len(sources)]
        big = np.array(Image.fromarray(src).resize((768, 768)))
        r, c = rng.integers(0, 256, size=2)
        path = folder / f"class{i % 2}" / f"photo{i:04d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(big[r:r + 512, c:c + 512]).save(path, quality=90)
        paths.append(path)
    return paths


def reference_decode(paths: list[Path], size: int) -> np.ndarray:
    """What a user would write: open, convert, resize, one file after another."""
    out = [np.asarray(Image.open(p).convert("RGB").resize((size, size), Image.Resampling.BILINEAR))
           for p in paths]
    return np.stack(out)


def bench_decode(folder: Path, paths: list[Path], size: int) -> None:
    from foveal.data.images import Preprocessing, load_images
    from foveal.data.load import load_dataset

    ds = load_dataset(folder)
    prep = Preprocessing(size=(size, size), channels=3)
    ours = best_of(lambda: load_images(ds, prep))
    ref = best_of(lambda: reference_decode(paths, size))
    report(f"decode+resize {len(paths)} JPEG 512px -> {size}px", ref, ours)


def bench_hog(images: np.ndarray) -> None:
    from skimage.feature import hog

    from foveal.features import create_features

    extractor = create_features("hog").fit(images)
    cells = extractor.transform(images[:1]).shape  # warm-up, and the settings foveal chose
    side = images.shape[1]
    ppc = side // 8

    def reference():
        return np.stack([hog(img[:, :, 0], orientations=9, pixels_per_cell=(ppc, ppc),
                             cells_per_block=(2, 2)) for img in images])

    ours = best_of(lambda: extractor.transform(images))
    ref = best_of(reference)
    report(f"HOG on {len(images)} images {side}px ({cells[1]} values)", ref, ours)


def bench_predict(folder: Path, paths: list[Path], tmp: Path) -> None:
    import foveal

    result = foveal.train(folder, model="logistic", features="color-hist", image_size=64,
                          out=str(tmp / "run"))
    predictor = foveal.load_bundle(result.bundle)
    pipeline = predictor.model.pipeline

    def reference():
        return pipeline.predict_proba(reference_decode(paths, 64))

    ours = best_of(lambda: predictor.predict_files(paths))
    ref = best_of(reference)
    report(f"predict {len(paths)} files end to end", ref, ours)


def report(name: str, ref: float, ours: float) -> None:
    print(f"{name:<48} reference {ref * 1000:8.1f} ms   foveal {ours * 1000:8.1f} ms   "
          f"ratio {ref / ours:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=200)
    args = parser.parse_args()
    from foveal.progress import quiet

    with tempfile.TemporaryDirectory() as tmp, quiet():
        folder = Path(tmp) / "photos"
        paths = write_photos(folder, args.images)
        bench_decode(folder, paths, 64)
        gray = np.stack([np.asarray(Image.open(p).convert("L").resize((64, 64))) for p in paths])[..., None]
        bench_hog(np.concatenate([gray] * 3))
        bench_predict(folder, paths, Path(tmp))


if __name__ == "__main__":
    main()
