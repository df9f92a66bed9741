"""Compression benchmarks: resnet18 at 64 px (digits, 3 channels), every ratio measured in this run,
alternating between the two sides after a warm-up, through foveal's Predictor.

- foveal's ONNX bundle vs the eager torch bundle, batch 1 and 64 (targets: >= 2.5x and >= 1.1x);
- static int8 vs the fp32 ONNX bundle, batch 1 and 64, size and test accuracy (>= 2.5x, ~1/4 size, <= 1 point);
- 50 % structured pruning + fine-tuning vs the parent (>= 1.5x faster, <= 2 points);
- `foveal predict` on a folder of 2,000 JPEGs, ONNX vs torch bundle, wall time of the whole command
  (target: <= 0.5x).
Run with `make bench` (about 10 minutes on 2 cores) or `python bench/compress.py --epochs 6`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SIZE = 64


@dataclass
class Reports:
    """A bundle made earlier and the report its manifest kept."""

    bundle: Path
    report: dict


def train_parent(root: Path, epochs: int) -> Path:
    import foveal

    result = foveal.train("digits", model="resnet18", image_size=SIZE, channels=3, epochs=epochs, batch_size=64,
                          lr=2e-3, out=str(root / "resnet18"), report=False)
    return result.bundle


def ratio_line(name: str, fast: float, slow: float, ratio: float, target: float, unit: str = "images/s") -> None:
    verdict = "meets" if ratio >= target else f"MISSES by {target - ratio:.2f}"
    print(f"{name:<46} {fast:9.1f} vs {slow:9.1f} {unit}   ratio {ratio:5.2f}x (target >= {target}x: {verdict})",
          flush=True)


def compare(name: str, fast, slow, images: np.ndarray, batch: int, target: float, rounds: int = 5) -> float:
    from foveal.compress.measure import alternating_ratio, batch_of

    x = batch_of(images, batch)
    for _ in range(3):  # warm-up: first calls build caches (oneDNN, ORT arenas)
        fast(x), slow(x)
    seconds = 1.0 if batch > 1 else 0.6
    a, b, r = alternating_ratio(fast, slow, x, rounds, seconds)
    ratio_line(f"{name} batch {batch}", a, b, r, target)
    return r


def accuracy(predictor, images, labels) -> float:
    from foveal.evaluation.metrics import evaluate_predictions

    return evaluate_predictions(predictor.task, labels, predictor.predict_proba(images))["metrics"]["accuracy"]


def write_jpegs(folder: Path, n: int) -> None:
    from PIL import Image
    from skimage import data as skdata

    sources = [skdata.astronaut(), skdata.coffee(), skdata.chelsea(), skdata.rocket()]
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        src = sources[i % len(sources)]
        r, c = rng.integers(0, min(src.shape[:2]) - 256, size=2)
        Image.fromarray(src[r:r + 256, c:c + 256]).save(folder / f"img{i:05d}.jpg", quality=90)


def predict_wall(bundle: Path, folder: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "foveal", "--quiet", "predict", str(bundle), str(folder),
                           "--format", "csv", "-o", str(folder.parent / "out.csv")], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return time.perf_counter() - start


def bench_predict_cli(root: Path, torch_bundle: Path, onnx_bundle: Path, int8_bundle: Path, n: int) -> None:
    folder = root / "jpegs"
    if len(list(folder.glob("*.jpg"))) != n:
        write_jpegs(folder, n)
    for b in (torch_bundle, onnx_bundle):
        predict_wall(b, folder)  # warm-up: page cache, first imports
    times: dict[str, list[float]] = {"torch": [], "onnx": [], "int8": []}
    for _ in range(3):
        times["torch"].append(predict_wall(torch_bundle, folder))
        times["onnx"].append(predict_wall(onnx_bundle, folder))
        times["int8"].append(predict_wall(int8_bundle, folder))
    t, o, q = (statistics.median(times[k]) for k in ("torch", "onnx", "int8"))
    for name, value in (("onnx fp32", o), ("onnx int8", q)):
        share = value / t
        verdict = "meets" if share <= 0.5 else f"MISSES by {share - 0.5:.2f}"
        print(f"foveal predict {n} JPEGs, {name} vs torch bundle     {value:6.2f} s vs {t:6.2f} s   "
              f"wall-time share {share:4.2f} (target <= 0.5: {verdict})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--finetune-epochs", type=int, default=3)
    parser.add_argument("--jpegs", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, help="keep the bundles here; a second run reuses them and only measures")
    parser.add_argument("--threads", type=int, help="CPU threads for torch and onnxruntime alike (default: theirs)")
    args = parser.parse_args()
    if args.threads:  # read by foveal's onnxruntime sessions and by torch, here and in the predict subprocesses
        os.environ["FOVEAL_ORT_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)
        import torch

        torch.set_num_threads(args.threads)
    import foveal
    from foveal.compress.export import export_bundle
    from foveal.compress.prune import PruneOptions, prune_bundle
    from foveal.compress.quantize import quantize_bundle
    from foveal.compress.samples import test_sample
    from foveal.progress import quiet

    with tempfile.TemporaryDirectory() as tmp, quiet():
        root = args.workdir or Path(tmp)
        started = time.perf_counter()
        if (root / "pruned" / "foveal.json").is_file():  # made by an earlier run with --workdir
            parent, onnx_path = root / "resnet18" / "model", root / "onnx"
            q = Reports(root / "int8", json.loads((root / "int8" / "foveal.json").read_text())["quantization"])
            pruned = Reports(root / "pruned", json.loads((root / "pruned" / "foveal.json").read_text())["pruning"])
        else:
            parent = train_parent(root, args.epochs)
            onnx_path = export_bundle(parent, root / "onnx").bundle
            q = quantize_bundle(onnx_path, "digits", root / "int8", n=200)
            pruned = prune_bundle(parent, "digits", root / "pruned",
                                  PruneOptions(amount=0.5, structured=True, finetune_epochs=args.finetune_epochs,
                                               finetune={"lr": 1e-3, "batch_size": 64}))
        print(f"resnet18 {SIZE} px on digits (3 channels): trained, exported, quantized and pruned in "
              f"{time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} CPUs", flush=True)
        torch_p, onnx_p = foveal.load_bundle(parent), foveal.load_bundle(onnx_path)
        int8_p, pruned_p = foveal.load_bundle(q.bundle), foveal.load_bundle(pruned.bundle)
        test = test_sample(torch_p, "digits")
        images = test.images
        for batch in (1, 64):
            compare("ONNX bundle vs eager torch bundle,", onnx_p.predict_proba, torch_p.predict_proba, images, batch,
                    2.5 if batch == 1 else 1.1)
        for batch in (1, 64):
            compare("int8 vs fp32 ONNX bundle,", int8_p.predict_proba, onnx_p.predict_proba, images, batch, 2.5)
        acc = q.report["accuracy"]
        size = q.report["size"]
        print(f"int8 size {size['int8_bytes'] / 2**20:.1f} MiB vs fp32 {size['fp32_bytes'] / 2**20:.1f} MiB "
              f"(ratio {size['ratio']:.3f}, target ~0.25); test accuracy {acc['before']:.4f} -> {acc['after']:.4f} "
              f"(drop {acc['drop_points']:.2f} points, target <= 1)", flush=True)
        for batch in (1, 64):
            compare("50% structured pruned + fine-tuned vs parent,", pruned_p.predict_proba, torch_p.predict_proba,
                    images, batch, 1.5)
        r = pruned.report
        print(f"pruning: params {r['before']['params']:,} -> {r['finetuned']['params']:,}, MACs "
              f"{r['before']['macs']:,} -> {r['finetuned']['macs']:,}; test accuracy {r['before']['value']:.4f} -> "
              f"{r['pruned']['value']:.4f} pruned -> {r['finetuned']['value']:.4f} fine-tuned "
              f"(drop {r['drop_points']:.2f} points, target <= 2)", flush=True)
        print(f"accuracy on the test split: torch {accuracy(torch_p, images, test.labels):.4f}, onnx "
              f"{accuracy(onnx_p, images, test.labels):.4f}", flush=True)
        bench_predict_cli(root, parent, onnx_path, q.bundle, args.jpegs)
        print(f"load average at the end {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
