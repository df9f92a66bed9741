"""Learning without labels, measured: the closing-note table of issue 11.

On digits and textures at 32 px: linear-probe and k-NN accuracy with 10 and 50 labels per class for
each self-supervised method (cnn-small pretrained on every non-test image, labels ignored), for the
same network randomly initialised, and for classical HOG / LBP features; fine-tuning accuracy from
the best backbone vs from scratch; precision@10 of same-class neighbours; recall@10 of the
approximate indexes against the exact one. Probe numbers are means over 3 label samples.

    python bench/learn.py                     # about 30-45 min on 2 busy cores
    python bench/learn.py --epochs 3 --quick  # a smoke run
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

SIDE = 32
METHODS = ("simclr", "byol", "rotation", "inpainting", "autoencoder")  # colorization needs colour images
EPOCHS = {"digits": 5, "textures": 12}  # about 8 000 / 4 600 images seen: what 2 shared cores allow
LABELS = (10, 50)
SEEDS = (0, 1, 2)


def pretrain(dataset: str, method: str, epochs: int, root: Path) -> tuple[Path, float]:
    from foveal.config import resolve
    from foveal.runs.pipeline import run_training

    started = time.perf_counter()
    cfg = resolve(None, {"data": dataset, "model": "cnn-small", "method": method, "epochs": epochs,
                         "image_size": SIDE, "batch_size": 64, "lr": 2e-3, "out": str(root / f"{dataset}-{method}")})
    return run_training(cfg, engine="pretrain").bundle, time.perf_counter() - started


def vectors(embedder, ds):
    from foveal.learn.embeddings import embed_dataset

    table = embed_dataset(embedder, ds)
    return table.vectors, table.kept(table.labels)


def probes(train, test, seeds=SEEDS) -> dict:
    """Mean linear / k-NN accuracy per labels-per-class over ``seeds`` label samples."""
    from foveal.learn.probe import score_vectors

    x, y = train
    out = {}
    for n in LABELS:
        runs = []
        for seed in seeds:
            rng = np.random.default_rng(seed)
            rows = [i for label in sorted(set(y)) for i in rng.permutation([j for j, v in enumerate(y) if v == label])[:n]]
            runs.append(score_vectors(x[rows], [y[i] for i in rows], test[0], test[1], seed))
        out[n] = {kind: float(np.mean([r[kind]["accuracy"] for r in runs])) for kind in ("linear", "knn")}
    return out


def precision_at_10(train, test) -> float:
    from foveal.learn import index as ix

    index, _ = ix.build(train[0], "flat")
    _, rows = index.search(test[0], 10)
    return ix.precision_at_k(rows, train[1], test[1])


def classical(ds, features: str):
    from foveal.learn.embeddings import classical_table

    table = classical_table(ds, features)
    return table.vectors, table.kept(table.labels)


def finetune(dataset: str, n: int, bundle: Path | None, root: Path, epochs: int) -> float:
    """Test accuracy of cnn-small trained on ``n`` labels per class (validation: 10 per class), from
    ``bundle``'s backbone or from scratch."""
    import foveal
    from foveal.data.load import load_dataset
    from foveal.learn.probe import per_class

    ds = load_dataset(dataset)
    train = per_class(ds.select("train"), n)
    val = per_class(ds.select("val"), 10)
    keep = [i for i, s in enumerate(ds.split) if s == "test"]
    picked = sorted(set(_rows(ds, train, "train")) | set(_rows(ds, val, "val")) | set(keep))
    data = ds.subset(picked)
    options = {"model": "cnn-small", "epochs": epochs, "image_size": SIDE, "batch_size": 16, "report": False,
               "out": str(root / f"ft-{dataset}-{n}-{'pre' if bundle else 'scratch'}")}
    if bundle is not None:
        options["pretrained"] = str(bundle)
    result = foveal.train(data, **options)
    test = data.select("test")
    predictor = foveal.load_bundle(result.bundle)
    proba, loaded = predictor.predict_dataset(test)
    truth = np.asarray(test.task.encode([test.labels[i] for i in loaded.kept]))
    return float((proba.argmax(axis=1) == truth).mean())


def _rows(ds, part, split: str) -> list[int]:
    """Indices in ``ds`` of ``part``'s samples (built-in datasets: matched by image content)."""
    wanted = {part.images[i].tobytes() for i in range(len(part))}
    return [i for i, s in enumerate(ds.split) if s == split and ds.images[i].tobytes() in wanted]


def recall_rows() -> dict:
    from foveal.learn import index as ix
    from foveal.learn.embeddings import l2_normalise

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(50, 64))
    make = lambda n: l2_normalise(centres[rng.integers(0, 50, n)] + 0.6 * rng.normal(size=(n, 64)))  # noqa: E731
    data, queries = make(10_000), make(500)
    _, truth = ix.build(data, "flat")[0].search(queries, 10)
    return {kind: ix.recall_at_k(truth, ix.build(data, kind)[0].search(queries, 10)[1]) for kind in ("hnsw", "ivf")}


def bench_dataset(dataset: str, epochs: int, ft_epochs: int, root: Path, quick: bool) -> dict:
    from foveal.data.load import load_dataset
    from foveal.learn.embeddings import backbone_embedder, backbone_preprocessing, bundle_embedder

    ds = load_dataset(dataset)
    train_ds, test_ds = ds.subset([i for i, s in enumerate(ds.split) if s != "test"]), ds.select("test")
    rows, bundles = {}, {}
    embedder = backbone_embedder("cnn-small", None, backbone_preprocessing("cnn-small", ds, SIDE))
    rows["random init"] = _score(embedder, train_ds, test_ds)
    for features in ("hog", "lbp"):
        train, test = classical(train_ds, features), classical(test_ds, features)
        rows[features.upper()] = {"probe": probes(train, test), "precision@10": precision_at_10(train, test)}
    for method in METHODS[:2] if quick else METHODS:
        bundle, seconds = pretrain(dataset, method, epochs, root)
        bundles[method] = bundle
        rows[method] = {**_score(bundle_embedder(bundle), train_ds, test_ds), "pretrain_s": round(seconds, 1)}
        print(f"  {dataset} {method}: {rows[method]}", flush=True)
    best = max(bundles, key=lambda m: rows[m]["probe"][10]["linear"])
    tuned = {n: {"from " + best: finetune(dataset, n, bundles[best], root, ft_epochs),
                 "from scratch": finetune(dataset, n, None, root, ft_epochs)} for n in LABELS}
    return {"probes": rows, "best": best, "finetune": tuned, "epochs": epochs}


def _score(embedder, train_ds, test_ds) -> dict:
    train, test = vectors(embedder, train_ds), vectors(embedder, test_ds)
    return {"probe": probes(train, test), "precision@10": precision_at_10(train, test)}


def table(results: dict) -> str:
    lines = ["| dataset | features | linear 10/cl | linear 50/cl | k-NN 10/cl | k-NN 50/cl | precision@10 |",
             "|---|---|---|---|---|---|---|"]
    for dataset, result in results["datasets"].items():
        for name, row in result["probes"].items():
            p = row["probe"]
            lines.append(f"| {dataset} | {name} | {p[10]['linear']:.3f} | {p[50]['linear']:.3f} | {p[10]['knn']:.3f} | "
                         f"{p[50]['knn']:.3f} | {row['precision@10']:.3f} |")
    lines += ["", "| dataset | labels/class | fine-tuned from the best backbone | from scratch |", "|---|---|---|---|"]
    for dataset, result in results["datasets"].items():
        for n, pair in result["finetune"].items():
            (a_name, a), (_, b) = pair.items()
            lines.append(f"| {dataset} | {n} | {a:.3f} ({a_name[5:]}) | {b:.3f} |")
    recall = results["recall@10"]
    lines.append(f"\nrecall@10 against the exact index, 10k clustered 64-d vectors: HNSW {recall['hnsw']:.3f}, "
                 f"IVF {recall['ivf']:.3f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="digits,textures")
    parser.add_argument("--epochs", type=int, help="pretraining epochs (default: 15 digits, 40 textures)")
    parser.add_argument("--finetune-epochs", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="two methods only")
    parser.add_argument("--json", type=Path, help="write the numbers here")
    args = parser.parse_args()
    import warnings

    from foveal.errors import FovealWarning
    from foveal.progress import quiet

    warnings.simplefilter("ignore", FovealWarning)  # e.g. the few-updates advice of 10-label runs
    results = {"datasets": {}, "recall@10": recall_rows()}
    with tempfile.TemporaryDirectory() as tmp, quiet():
        for dataset in args.datasets.split(","):
            started = time.perf_counter()
            results["datasets"][dataset] = bench_dataset(dataset, args.epochs or EPOCHS[dataset], args.finetune_epochs,
                                                         Path(tmp), args.quick)
            print(f"{dataset}: {time.perf_counter() - started:.0f} s", flush=True)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
