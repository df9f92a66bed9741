"""Held-out test numbers on the built-in datasets, as quoted in the README and issues.

Trains each model on the dataset's train split (validation on val), evaluates on its
test split, and prints the metric and the training wall time. `--quick` skips the
deep runs (about 20 s instead of about 10 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

RUNS = [  # dataset, options, metrics to print
    ("digits", {"model": "svm", "features": "pixels"}, ["accuracy"]),
    ("faces", {"model": "svm", "features": "hog"}, ["accuracy"]),
    ("textures", {"model": "svm", "features": "lbp"}, ["accuracy"]),
    ("multidigits", {"model": "svm", "features": "pixels"}, ["map"]),
    ("digit-taxonomy", {"model": "svm", "features": "pixels"}, ["level_1_accuracy", "level_2_accuracy"]),
]
DEEP_RUNS = [
    ("digits", {"model": "cnn-small", "epochs": 40, "ema": True}, ["accuracy"]),
    ("multidigits", {"model": "cnn-small", "epochs": 20}, ["map"]),
    ("digit-taxonomy", {"model": "cnn-small", "epochs": 20}, ["level_1_accuracy", "level_2_accuracy"]),
]


def run(dataset: str, options: dict, metrics: list[str], root: Path) -> None:
    import foveal

    name = "-".join([dataset, options["model"], options.get("features", "")]).strip("-")
    start = time.perf_counter()
    result = foveal.train(dataset, out=str(root / name), report=False, **options)
    seconds = time.perf_counter() - start
    test = foveal.evaluate(result.bundle, dataset)["metrics"]
    shown = "  ".join(f"{m} {test[m]:.4f}" for m in metrics)
    print(f"{dataset:<15} {name.split('-', 1)[1] if dataset != 'digit-taxonomy' else options['model']:<22} "
          f"test {shown}   train {seconds:6.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="classical models only")
    args = parser.parse_args()
    from foveal.progress import quiet

    with tempfile.TemporaryDirectory() as tmp, quiet():
        for dataset, options, metrics in RUNS + ([] if args.quick else DEEP_RUNS):
            run(dataset, options, metrics, Path(tmp))


if __name__ == "__main__":
    main()
