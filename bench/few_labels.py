"""Fewer labels, measured: semi-supervised training and domain adaptation on the built-in datasets.

- Semi-supervised: digits and textures with 10 labels per class (train split) and the rest of the train
  split unlabelled; supervised-only vs pseudo-label vs FixMatch (cnn-small, same epochs and seed), and a
  classical row (logistic on pixels vs scikit-learn self-training). Test-split accuracy.
- Domain adaptation: cnn-small trained on digits (source), scored on the test split of digits-shifted
  (blurred, faded, noisy) and of an inverted-contrast variant; source-only vs AdaBN vs DANN vs Deep CORAL.

`python bench/few_labels.py [--part semi|adapt|all] [--labels 10] [--threshold 0.95] [--data digits textures]
[--epochs N] [--json FILE]`; about ten minutes on a busy 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

SEMI = {"digits": {"image_size": 16, "epochs": 30}, "textures": {"image_size": 32, "epochs": 40}}
SEMI_COMMON = {"model": "cnn-small", "batch_size": 16, "seed": 0, "mu": 3, "report": False, "workers": 1}
ADAPT_COMMON = {"model": "cnn-small", "image_size": 16, "batch_size": 32, "epochs": 6, "seed": 0, "mu": 1,
                "report": False, "workers": 1}


def train(options: dict) -> tuple[Path, float]:
    from foveal.config import resolve
    from foveal.progress import quiet
    from foveal.runs.pipeline import run_training

    started = time.perf_counter()
    with quiet():
        result = run_training(resolve(None, options))
    return result.bundle, time.perf_counter() - started


def accuracy(bundle: Path, data) -> float:
    from foveal.evaluation.run import evaluate_bundle

    return evaluate_bundle(bundle, data, "test")["metrics"]["accuracy"]


def semi(root: Path, per_class: int = 10, threshold: float = 0.95, datasets=tuple(SEMI),
         epochs: int | None = None) -> list[dict]:
    from foveal.data.export import export_dataset
    from foveal.data.load import load_dataset
    from foveal.fewer.split import few_labels, write_images

    rows = []
    for name in datasets:
        options = {**SEMI[name], **({"epochs": epochs} if epochs else {})}
        labelled, unlabelled = few_labels(load_dataset(name), per_class, seed=0)
        data, pool = root / name / "labelled", root / name / "unlabelled"
        export_dataset(labelled, data, "folder")
        write_images(unlabelled, pool)
        runs = {"supervised-only": {}, "pseudo-label": {"semi": "pseudo-label", "unlabeled": str(pool)},
                "fixmatch": {"semi": "fixmatch", "unlabeled": str(pool)}}
        if name == "digits":  # a classical pair too: logistic regression on raw pixels
            runs["classical supervised"] = {"model": "logistic", "features": "pixels", "image_size": 8}
            runs["classical self-training"] = {**runs["classical supervised"], "semi": "pseudo-label",
                                               "unlabeled": str(pool)}
        for method, extra in runs.items():
            opts = {**SEMI_COMMON, **options, **extra, "data": str(data), "out": str(root / name / method),
                    "pseudo_threshold": threshold}
            if extra.get("model") == "logistic":
                opts = {k: v for k, v in opts.items() if k not in ("mu", "batch_size", "epochs", "workers")}
            bundle, seconds = train(opts)
            rows.append({"part": "semi", "data": f"{name} ({len(labelled.select('train'))} labels + "
                         f"{len(unlabelled)} unlabelled)", "method": method, "threshold": threshold,
                         "accuracy": accuracy(bundle, data),
                         "seconds": seconds})
            print_row(rows[-1])
    return rows


def inverted_digits(root: Path):
    """digits with inverted contrast (and blur, noise): the test split as a Dataset, the rest as a folder."""
    from foveal.data.builtin_shifted import shift_images
    from foveal.data.load import load_dataset
    from foveal.fewer.split import write_images

    ds = load_dataset("digits")
    shifted = replace(ds, images=shift_images(ds.images, invert=True), name="digits-inverted")
    write_images(shifted.subset([i for i, s in enumerate(ds.split) if s != "test"]), root / "inverted")
    return shifted, str(root / "inverted")


def adapt(root: Path) -> list[dict]:
    rows = []
    inverted, pool = inverted_digits(root)
    for target, data, source in (("digits-shifted", "digits-shifted", "digits-shifted"),
                                 ("digits-inverted", inverted, pool)):
        for method in ("source-only", "adabn", "dann", "coral"):
            extra = {} if method == "source-only" else {"adapt": method, "target_unlabeled": source}
            bundle, seconds = train({**ADAPT_COMMON, **extra, "data": "digits", "out": str(root / target / method)})
            rows.append({"part": "adapt", "data": f"digits → {target}", "method": method,
                         "accuracy": accuracy(bundle, data), "source_accuracy": accuracy(bundle, "digits"),
                         "seconds": seconds})
            print_row(rows[-1])
    return rows


def print_row(row: dict) -> None:
    source = f"  (source test {row['source_accuracy']:.3f})" if "source_accuracy" in row else ""
    print(f"{row['data']:<42} {row['method']:<24} test accuracy {row['accuracy']:.3f}{source}  "
          f"{row['seconds']:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("semi", "adapt", "all"), default="all")
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument("--labels", type=int, default=10, help="labels per class (semi-supervised part)")
    parser.add_argument("--threshold", type=float, default=0.95, help="--pseudo-threshold (semi-supervised part)")
    parser.add_argument("--data", nargs="+", default=list(SEMI), help="datasets (semi-supervised part)")
    parser.add_argument("--epochs", type=int, help="epochs of the semi-supervised runs [default: per dataset]")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.part in ("semi", "all"):
            rows += semi(Path(tmp) / "semi", args.labels, args.threshold, args.data, args.epochs)
        if args.part in ("adapt", "all"):
            rows += adapt(Path(tmp) / "adapt")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
