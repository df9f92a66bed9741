"""Synthetic images for a rare class, measured: the closing-note table of issue 12's GAN part.

On ``digits-imbalanced`` (digit 8 cut to 6 of its 122 training images; val and test untouched),
the same cnn-small, epochs and seed are trained on
  (a) the real images only,
  (b) the real images with classic oversampling (``--sampler balanced``: the rare class drawn as
      often as any other, each draw through the usual light augmentation),
  (c) the real images with class weights (``--class-weights auto``),
  (d) the real images plus N GAN images of the 8 (``foveal synthesize``; train split only),
  (e) a control: the same number of uniform-noise images labelled 8 instead of the GAN's, which
      shows how much of (d) is only the shifted class prior,
  (f) (d) with ``--sampler balanced`` (only when asked for with ``--conditions``),
and each is scored on the test split: recall of the 8 and macro F1. Repeated for a few seeds (the
GAN is retrained per seed). Prints a table and writes ``--json``.

    python bench/synthetic_minority.py                      # 5-20 min on 2 shared cores
    python bench/synthetic_minority.py --seeds 0 --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = "digits-imbalanced"
MINORITY = "8"
CONDITIONS = {
    "real only": ("real", {}),
    "oversampling": ("real", {"sampler": "balanced"}),
    "class weights": ("real", {"class_weights": "auto"}),
    "GAN images": ("mixed", {}),
    "noise labelled 8": ("noise", {}),
    "GAN + oversampling": ("mixed", {"sampler": "balanced"}),
}


def write_real(root: Path) -> list[list]:
    """The data set's images as PNGs under ``root/real``; its manifest rows (path, label, split, origin)."""
    from foveal.data.export import export_dataset
    from foveal.data.load import load_dataset

    export_dataset(load_dataset(DATA), root / "real", "manifest")
    from foveal.csvio import read_csv

    return [[f"real/{r['path']}", r["label"], r["split"], "real"] for r in read_csv(root / "real" / "manifest.csv")]


def write_manifest(path: Path, rows: list[list]) -> Path:
    from foveal.csvio import csv_text

    path.write_text(csv_text(["path", "label", "split", "origin"], rows), encoding="utf-8")
    return path


def gan_rows(root: Path, seed: int, n: int, gan_epochs: int) -> tuple[list[list], dict, float]:
    """Train a generator on the real training split, draw ``n`` eights; their manifest rows and quality."""
    from foveal.csvio import read_csv
    from foveal.synth.run import SynthRequest, synthesize

    started = time.perf_counter()
    out = root / f"synth-{seed}"
    req = SynthRequest(data=DATA, classes=[MINORITY], n=n, out=str(out), epochs=gan_epochs, seed=seed,
                       run_dir=str(root / f"gan-run-{seed}"))
    result = synthesize(req)
    rows = [[f"{out.name}/{r['path']}", r["label"], r["split"], r["origin"]] for r in read_csv(out / "manifest.csv")]
    return rows, result.summary["classes"][MINORITY], time.perf_counter() - started


def noise_rows(root: Path, seed: int, n: int) -> list[list]:
    """``n`` uniform-noise 32×32 PNGs labelled as the minority class (the control condition)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder = root / f"noise-{seed}"
    folder.mkdir()
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8)).save(folder / f"{i:05d}.png")
    return [[f"{folder.name}/{i:05d}.png", MINORITY, "train", "noise"] for i in range(n)]


def train_and_score(manifest: Path, options: dict, seed: int, epochs: int, out: Path) -> dict:
    """Train cnn-small on ``manifest``; recall of the minority class and macro F1 on the test split."""
    from sklearn.metrics import f1_score, recall_score

    from foveal import load_bundle
    from foveal.config import resolve
    from foveal.data.load import load_dataset
    from foveal.runs.pipeline import run_training

    cfg = resolve(None, {"data": str(manifest), "model": "cnn-small", "epochs": epochs, "seed": seed,
                         "image_size": 32, "batch_size": 64, "out": str(out), **options})
    bundle = load_bundle(run_training(cfg).bundle)
    test = load_dataset(str(manifest)).select("test")
    proba, loaded = bundle.predict_dataset(test)
    predicted = [bundle.classes[i] for i in proba.argmax(axis=1)]
    truth = [test.labels[i] for i in loaded.kept]
    return {"minority_recall": float(recall_score(truth, predicted, labels=[MINORITY], average="macro")),
            "macro_f1": float(f1_score(truth, predicted, average="macro"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=8, help="classifier epochs (every condition)")
    parser.add_argument("--conditions", nargs="+", choices=list(CONDITIONS), default=list(CONDITIONS)[:5])
    parser.add_argument("--gan-epochs", type=int, default=60)
    parser.add_argument("--n", type=int, default=116, help="GAN images of the rare class (116 + 6 real = 122)")
    parser.add_argument("--quick", action="store_true", help="2 classifier and 2 GAN epochs (smoke run)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", type=Path, help="copy each seed's grid.png and quality.json here")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.gan_epochs = 2, 2
    from foveal.progress import quiet

    with tempfile.TemporaryDirectory() as tmp, quiet():
        root = Path(tmp)
        real = write_real(root)
        manifests = {"real": write_manifest(root / "real.csv", real)}
        results: dict = {name: [] for name in args.conditions}
        quality = []
        for seed in args.seeds:
            rows, q, seconds = gan_rows(root, seed, args.n, args.gan_epochs)
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                for name in ("grid.png", "quality.json", "quality.html"):
                    shutil.copyfile(root / f"synth-{seed}" / name, args.keep / f"seed{seed}-{name}")
            quality.append({"seed": seed, "gan_seconds": round(seconds, 1), **q})
            print(f"seed {seed}: GAN {seconds:.0f} s · judge accuracy {q['judge_accuracy']:.3f} · "
                  f"Fréchet (HOG) {q['frechet_hog']:.3f} (noise {q['frechet_hog_noise']:.3f})", flush=True)
            manifests["mixed"] = write_manifest(root / f"mixed-{seed}.csv", real + rows)
            manifests["noise"] = write_manifest(root / f"noise-{seed}.csv", real + noise_rows(root, seed, args.n))
            for name in args.conditions:
                which, options = CONDITIONS[name]
                run = root / f"run-{seed}-{len(results[name])}-{which}-{'-'.join(options.values()) or 'plain'}"
                score = train_and_score(manifests[which], options, seed, args.epochs, run)
                results[name].append({"seed": seed, **score})
                print(f"  {name:20s} recall({MINORITY}) {score['minority_recall']:.3f} · macro F1 "
                      f"{score['macro_f1']:.3f}", flush=True)
    report(results, quality, args)


def report(results: dict, quality: list, args) -> None:
    print(f"\n{DATA}, cnn-small, {args.epochs} epochs, seeds {args.seeds}, {args.n} GAN images "
          f"({args.gan_epochs} GAN epochs); test split, mean ± std over seeds")
    print(f"{'condition':22s} {'recall(' + MINORITY + ')':>14s} {'macro F1':>14s}")
    table = {}
    for name, runs in results.items():
        r = np.array([x["minority_recall"] for x in runs])
        f = np.array([x["macro_f1"] for x in runs])
        table[name] = {"minority_recall": float(r.mean()), "macro_f1": float(f.mean()), "runs": runs}
        print(f"{name:22s} {r.mean():8.3f} ± {r.std():.3f} {f.mean():8.3f} ± {f.std():.3f}")
    if args.json:
        args.json.write_text(json.dumps({"conditions": table, "gan_quality": quality, "epochs": args.epochs,
                                         "gan_epochs": args.gan_epochs, "n": args.n, "seeds": args.seeds}, indent=2))


if __name__ == "__main__":
    main()
