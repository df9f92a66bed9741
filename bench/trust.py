"""Closing-note numbers of the trust tools (explanations, robustness, fairness, label errors).

    .venv/bin/python bench/trust.py [--epochs 15] [--json trust.json] [--only robustness,fairness,labels,pointing]

- robustness: cnn-small trained with --augment light and robust on digits and textures; clean and mean
  corruption accuracy (13 corruptions × 5 severities, test split), with and without TTA;
- fairness: faces-biased (a rare, mostly-background dark subgroup in training), accuracy by tone before
  and after --reweight tone, for a classical (random forest on pixels) and a deep (cnn-small) model;
- labels: 5 % of digits labels flipped at random; precision and recall of the flagged set (5-fold
  logistic regression on pixels, out of fold);
- pointing: Grad-CAM (and the other methods) on a cnn-small trained on digits-in-clutter: the share of
  test maps whose peak lies in the digit's box; the randomisation and deletion checks.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import numpy as np

import foveal
from foveal.progress import quiet


def train(data, out: Path, **options):
    with quiet():
        return foveal.train(data, out=str(out), report=False, **options)


DATASETS = ("digits", "textures")


def robustness(work: Path, epochs: int, datasets: tuple[str, ...] = DATASETS) -> dict:
    from foveal.audit.robustness import run_robustness

    rows = {}
    for data in datasets:
        for preset in ("light", "robust"):
            started = time.perf_counter()
            run = train(data, work / f"{data}-{preset}", model="cnn-small", augment=preset, epochs=epochs,
                        image_size=32, seed=0)
            seconds = time.perf_counter() - started
            for tta in (False, True):
                with quiet():
                    r = run_robustness(run.bundle, data, tta=tta).result
                rows[f"{data}/{preset}/{'tta' if tta else 'plain'}"] = {
                    "clean": r["clean"], "mean_corruption": r["mean_corruption"], "train_s": round(seconds, 1)}
                print(data, preset, "TTA" if tta else "   ", f"clean {r['clean']:.4f}",
                      f"mean corrupted {r['mean_corruption']:.4f}", flush=True)
    return rows


def _tone_accuracy(bundle) -> dict:
    from foveal.audit.fairness import run_audit

    with quiet():
        a = run_audit(bundle, "faces-biased", ["tone"], n_boot=200)
    return {"dark": a["groups"]["dark"]["accuracy"], "light": a["groups"]["light"]["accuracy"],
            "gap": a["gaps"]["accuracy"]["difference"], "gap_ci": a["gaps"]["accuracy"].get("difference_ci")}


def fairness(work: Path, epochs: int) -> dict:
    rows = {}
    models = {"random-forest": {"features": "pixels"}, "cnn-small": {"epochs": epochs * 2, "image_size": 32}}
    for model, options in models.items():
        for reweight in (None, "tone"):
            extra = {"reweight": reweight} if reweight else {}
            run = train("faces-biased", work / f"faces-{model}-{reweight}", model=model, seed=0, **options, **extra)
            rows[f"{model}/{'reweight' if reweight else 'plain'}"] = result = _tone_accuracy(run.bundle)
            print(model, "reweight" if reweight else "plain   ", json.dumps(result), flush=True)
    return rows


def labels(work: Path, fraction: float = 0.05, seed: int = 0) -> dict:
    from foveal.audit.label_issues import find_issues, oof_from_cv
    from foveal.config import resolve
    from foveal.data.load import load_dataset

    ds = load_dataset("digits")
    rng = np.random.default_rng(seed)
    flipped = rng.choice(len(ds), size=int(round(fraction * len(ds))), replace=False)
    labels = list(ds.labels)
    for i in flipped:
        labels[i] = str((int(labels[i]) + int(rng.integers(1, 10))) % 10)
    noisy = dataclasses.replace(ds, labels=labels)
    cfg = resolve(None, {"data": noisy, "model": "logistic", "features": "pixels", "out": str(work / "issues-cv")})
    with quiet():
        found = find_issues(noisy, oof_from_cv(cfg, 5))
    flagged, truth = set(found.rows), {int(i) for i in flipped}
    out = {"flipped": len(truth), "flagged": len(flagged), "precision": len(flagged & truth) / max(len(flagged), 1),
           "recall": len(flagged & truth) / len(truth)}
    print("label issues", json.dumps(out), flush=True)
    return out


def pointing(work: Path, epochs: int) -> dict:
    from foveal.data.builtin import load_builtin
    from foveal.explain.explainer import check_method, maps_for
    from foveal.explain.sanity import deletion_check, pointing_game, randomisation_check
    from foveal.explain.targets import score_space

    run = train("digits-in-clutter", work / "clutter", model="cnn-small", epochs=epochs, image_size=32, seed=0)
    predictor = foveal.load_bundle(run.bundle)
    data = load_builtin("digits-in-clutter")
    test = np.array([i for i, s in enumerate(data.split) if s == "test"])
    images, boxes = data.images[test], data.boxes[test]
    space = score_space(predictor.task)
    targets = [predictor.classes.index(data.labels[i]) for i in test]
    out = {"val_accuracy": run.metrics["metrics"]["accuracy"], "n": len(test)}
    for method in ("gradcam", "gradcam++", "saliency", "integrated-gradients"):
        maps = maps_for(predictor, images, targets, check_method(predictor, method), space)
        out[method] = pointing_game(maps, boxes)
        if method == "gradcam":
            out["deletion"] = deletion_check(predictor, images, maps, targets).to_json()
    out["randomisation"] = randomisation_check(predictor, images[:100], "gradcam").to_json()
    print("pointing", json.dumps(out), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--only", default="robustness,fairness,labels,pointing")
    parser.add_argument("--datasets", default=",".join(DATASETS), help="robustness: which datasets")
    args = parser.parse_args()
    parts = {"robustness": robustness, "fairness": fairness, "labels": labels, "pointing": pointing}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only.split(","):
            started = time.perf_counter()
            fn = parts[name]
            if name == "labels":
                results[name] = fn(Path(tmp))
            elif name == "robustness":
                results[name] = fn(Path(tmp), args.epochs, tuple(args.datasets.split(",")))
            else:
                results[name] = fn(Path(tmp), args.epochs)
            print(f"[{name}: {time.perf_counter() - started:.0f} s]", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
