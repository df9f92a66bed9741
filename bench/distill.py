"""Distillation numbers, measured on the digits test split in one run:

1. a cnn-small student distilled from a resnet18 teacher vs the same student trained alone
   (same epochs, seed, options);
2. a decision-tree student (pixels) of a cnn-small teacher: fidelity (agreement with the teacher) and
   accuracy, next to the same tree fitted to the true labels.
Run with `python bench/distill.py` (part of `make bench`).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def test_accuracy(bundle) -> float:
    import foveal

    return foveal.evaluate(bundle, "digits")["metrics"]["accuracy"]


def fidelity_on_test(student, teacher) -> float:
    import foveal
    from foveal.compress.distill import agreement
    from foveal.data.load import load_dataset

    s, t = foveal.load_bundle(student), foveal.load_bundle(teacher)
    test = load_dataset("digits", t.task).select("test")
    proba_t, loaded = t.predict_dataset(test)
    return agreement(t.task, proba_t, s.predict_proba(loaded.images))  # the student uses the teacher's preprocessing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--student-epochs", type=int, default=4)
    args = parser.parse_args()
    import foveal
    from foveal.config import resolve
    from foveal.progress import quiet
    from foveal.runs.pipeline import run_training

    with tempfile.TemporaryDirectory() as tmp, quiet():
        root = Path(tmp)
        teacher = foveal.train("digits", model="resnet18", image_size=32, epochs=args.epochs, out=str(root / "t"),
                               report=False).bundle
        common = {"data": "digits", "model": "cnn-small", "epochs": args.student_epochs, "seed": 0,
                  "report": False, "image_size": 32}
        alone = run_training(resolve(None, {**common, "out": str(root / "alone")})).bundle
        distilled = run_training(resolve(None, {**common, "image_size": None, "teacher": str(teacher),
                                                "out": str(root / "kd")})).bundle
        print(f"teacher resnet18 (32 px, {args.epochs} epochs): test accuracy {test_accuracy(teacher):.4f}", flush=True)
        print(f"cnn-small student, {args.student_epochs} epochs, seed 0: alone {test_accuracy(alone):.4f} · "
              f"distilled (T 4, alpha 0.5) {test_accuracy(distilled):.4f} · fidelity "
              f"{fidelity_on_test(distilled, teacher):.4f}", flush=True)
        cnn = foveal.train("digits", model="cnn-small", epochs=20, out=str(root / "cnn"), report=False).bundle
        tree = run_training(resolve(None, {"data": "digits", "model": "decision-tree", "features": "pixels",
                                           "teacher": str(cnn), "report": False, "out": str(root / "tree")})).bundle
        plain = foveal.train("digits", model="decision-tree", features="pixels", image_size=32,
                             out=str(root / "plain-tree"), report=False).bundle
        print(f"cnn-small teacher (20 epochs): test accuracy {test_accuracy(cnn):.4f}", flush=True)
        print(f"decision-tree student on pixels: test accuracy {test_accuracy(tree):.4f}, fidelity "
              f"{fidelity_on_test(tree, cnn):.4f} · the same tree on the true labels {test_accuracy(plain):.4f}",
              flush=True)


if __name__ == "__main__":
    main()
