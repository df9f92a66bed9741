"""Time to accuracy: `foveal train` against a plain PyTorch loop with timm's recipe (bench/reference_loop.py).

Both train timm's resnet18 from scratch at 64 px, batch 64, AdamW 1e-3, cosine, on the same folder of
JPEG photo crops (bench/photo_crops.py) and the same train/val split (a manifest). The reference
trains --epochs epochs; its final validation accuracy becomes foveal's ``--target-accuracy``, and
foveal's wall time to reach it (whole process: imports, decoding, training, bundle, report) is
compared with the reference's whole-process wall time. Runs alternate, after one warm-up run each.

    python bench/time_to_accuracy.py [--n 2000] [--epochs 2] [--repeats 2] [--cap 4]
    python bench/time_to_accuracy.py --n 8000 --epochs 5      # the larger run
    python bench/time_to_accuracy.py --timm-train ~/pytorch-image-models/train.py   # and timm's own script

Prints, per pair, both wall times and the ratio reference/foveal (above 1: foveal is faster), the
training images/s of both, and foveal's fixed overhead: wall time minus its epochs (training steps and
per-epoch validation, which is shown apart). foveal returns before its report is drawn; the next timed
run starts only once report.html exists, so the drawing never competes with it.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def write_manifest(root: Path, val_fraction: float = 0.2, seed: int = 0) -> Path:
    """path,label,split for every crop; a seeded split stratified by class."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(folder.glob("*.jpg"))
        val = set(rng.permutation(len(files))[:round(len(files) * val_fraction)].tolist())
        rows += [(f"{folder.name}/{f.name}", folder.name, "val" if i in val else "train") for i, f in enumerate(files)]
    path = root / "manifest.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "label", "split"])
        writer.writerows(rows)
    return path


def timed(cmd: list[str], stderr_too: bool = False) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return seconds, done.stdout + (done.stderr if stderr_too else "")


def reference(manifest: Path, epochs: int) -> tuple[float, dict]:
    seconds, out = timed([sys.executable, str(HERE / "reference_loop.py"), str(manifest), "--epochs", str(epochs)])
    return seconds, json.loads(out.strip().splitlines()[-1])


def image_folder(manifest: Path, dest: Path) -> Path:
    """The manifest's split as timm's train.py reads it: train/<class>/ and validation/<class>/ symlinks."""
    with open(manifest, newline="") as f:
        for row in csv.DictReader(f):
            folder = dest / ("train" if row["split"] == "train" else "validation") / row["label"]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / Path(row["path"]).name).symlink_to(manifest.parent / row["path"])
    return dest


def timm_train(script: Path, data: Path, out: Path, epochs: int) -> tuple[float, dict]:
    """timm's own train.py (pytorch-image-models, not shipped here) with the same recipe: resnet18 from
    scratch at 64 px, batch 64, AdamW 1e-3 (weight decay 0.05), cosine, no warm-up, 2 loader workers."""
    seconds, out_text = timed([sys.executable, str(script), "--data-dir", str(data), "--model", "resnet18",
                               "--num-classes", "8", "--img-size", "64", "-b", "64", "--opt", "adamw", "--lr", "1e-3",
                               "--weight-decay", "0.05", "--sched", "cosine", "--epochs", str(epochs),
                               "--warmup-epochs", "0", "--workers", "2", "--device", "cpu", "--output", str(out)],
                              stderr_too=True)
    best = re.findall(r"\*\*\* Best metric: ([0-9.]+)", out_text)
    return seconds, {"val_accuracy": float(best[-1]) / 100}


def wait_for_report(run: Path, limit: float = 120.0) -> None:
    """foveal draws report.html after it returns: let it finish before the next timed run starts."""
    deadline = time.monotonic() + limit
    while not (run / "report.html").is_file() and time.monotonic() < deadline:
        time.sleep(0.05)


def foveal(manifest: Path, run: Path, target: float | None, epochs: int) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "foveal", "train", str(manifest), "-m", "resnet18", "--image-size", "64",
           "--batch-size", "64", "--epochs", str(epochs), "--out", str(run)]
    seconds, _ = timed(cmd + (["--target-accuracy", f"{target:.6f}"] if target else []))
    wait_for_report(run)
    with open(run / "metrics.csv", newline="") as f:
        history = list(csv.DictReader(f))
    with open(manifest, newline="") as f:
        n_train = sum(1 for row in csv.DictReader(f) if row["split"] == "train")
    train_seconds = sum(float(h.get("train_seconds") or n_train / float(h["images_per_s"])) for h in history)
    val_seconds = sum(float(h.get("val_seconds") or 0) for h in history)
    epochs = len(history) - (0.5 if json.loads((run / "model" / "foveal.json").read_text())["training"]
                             .get("last_epoch_batches") else 0)
    return seconds, {"val_accuracy": max(float(h["accuracy"]) for h in history), "epochs": epochs,
                     "images_per_s": statistics.median(float(h["images_per_s"]) for h in history),
                     "overhead_s": seconds - train_seconds - val_seconds, "val_s": val_seconds}


def compiled_source() -> None:
    """Byte-compile foveal's own modules, as any install has them (pip compiles at install; Python
    writes ``__pycache__`` on first import). Without this, an environment with PYTHONDONTWRITEBYTECODE
    and an editable install recompiles ≈ 90 modules in every run (≈ 0.45 s), which the reference's
    pre-compiled torch and timm never pay."""
    import compileall

    import foveal

    compileall.compile_dir(str(Path(foveal.__file__).parent), quiet=1)


def pair_line(name: str, ref_s: float, ref: dict, fov_s: float, fov: dict) -> tuple[str, float]:
    """One printed comparison and its time-to-accuracy ratio (nan when foveal missed the target)."""
    reached = fov["val_accuracy"] >= ref["val_accuracy"]
    ratio = ref_s / fov_s if reached else float("nan")
    speed = f"  {ref['images_per_s']:6.1f} img/s" if "images_per_s" in ref else ""
    line = (f"{name} {ref_s:6.1f} s  acc {ref['val_accuracy']:.4f}{speed} | "
            f"foveal {fov_s:6.1f} s  acc {fov['val_accuracy']:.4f} after {fov['epochs']:g} epochs "
            f"{'(target reached)' if reached else '(TARGET NOT REACHED)'}  {fov['images_per_s']:6.1f} img/s  "
            f"overhead {fov['overhead_s']:.1f} s (+{fov['val_s']:.1f} s validating) | time-to-accuracy ratio {ratio:.2f}")
    if speed:
        line += f"  images/s ratio {fov['images_per_s'] / ref['images_per_s']:.2f}"
    return line, ratio


def main() -> None:
    from photo_crops import write_crops

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=2, help="the reference's epochs")
    parser.add_argument("--cap", type=int, default=None, help="foveal's --epochs (default: the reference's)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--timm-train", type=Path, default=None,
                        help="timm's own train.py (from pytorch-image-models): compare against it too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = write_crops(Path(tmp) / "crops", args.n)
        manifest = write_manifest(root)
        folder = image_folder(manifest, Path(tmp) / "folder") if args.timm_train else None
        cap = args.cap or args.epochs
        compiled_source()
        reference(manifest, 1)  # warm-up: page cache, compiled bytecode
        foveal(manifest, Path(tmp) / "warm", None, 1)
        ratios: dict[str, list[float]] = {"plain loop": [], "timm train.py": []}
        for k in range(args.repeats):
            ref_s, ref = reference(manifest, args.epochs)
            fov_s, fov = foveal(manifest, Path(tmp) / f"run{k}", ref["val_accuracy"], cap)
            line, ratio = pair_line("plain loop", ref_s, ref, fov_s, fov)
            print(line, flush=True)
            ratios["plain loop"].append(ratio)
            if folder is not None:
                ref_s, ref = timm_train(args.timm_train, folder, Path(tmp) / f"timm{k}", args.epochs)
                fov_s, fov = foveal(manifest, Path(tmp) / f"run{k}-timm", ref["val_accuracy"], cap)
                line, ratio = pair_line("timm train.py", ref_s, ref, fov_s, fov)
                print(line, flush=True)
                ratios["timm train.py"].append(ratio)
        for name, values in ratios.items():
            if values:
                print(f"median time-to-accuracy ratio ({name} / foveal): {statistics.median(values):.2f}")


if __name__ == "__main__":
    main()
