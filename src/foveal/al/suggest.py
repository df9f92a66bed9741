"""``foveal al suggest``: score the unlabelled pool with a bundle and queue the next images to label."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foveal.al.pool import Pool, open_pool
from foveal.al.strategies import NEEDS_EMBEDDINGS, PREFILTER, check_strategy, entropy, select
from foveal.data.dataset import Dataset
from foveal.data.task import UnlabeledTask
from foveal.errors import BundleError, ConfigError, warn

OUTPUT_COLUMNS = ("rank", "path", "source", "score", "predicted", "confidence", "entropy")


@dataclass
class Suggestions:
    round: int
    strategy: str
    rows: list[dict]
    out: Path


def pool_dataset(pool: Pool, items: list[dict]) -> Dataset:
    """Pool items as a file dataset rooted at the pool folder (labels unknown to the loader)."""
    for item in items:
        pool.image_file(item["path"])  # refuses paths leaving the pool
    return Dataset(name=pool.folder.name, source="manifest", task=UnlabeledTask(), labels=[None] * len(items),
                   split=[None] * len(items), paths=[i["path"] for i in items], root=pool.folder)


def decoded(pool: Pool, items: list[dict], predictor, what: str) -> tuple[list[dict], np.ndarray]:
    """The items that decode at the bundle's preprocessing, and their images."""
    from foveal.data.images import load_images

    if not items:
        h, w = predictor.preprocessing.size
        return [], np.zeros((0, h, w, predictor.preprocessing.channels), dtype=np.uint8)
    loaded = load_images(pool_dataset(pool, items), predictor.preprocessing, max_skip_ratio=1.0,
                         description=f"Decoding {what}")
    if loaded.skipped:
        warn(f"{len(loaded.skipped)} {what} images could not be decoded and are left out "
             f"(first: {loaded.skipped[0]['path']}: {loaded.skipped[0]['reason']})")
    return [items[int(i)] for i in loaded.kept], loaded.images


def check_bundle(pool: Pool, predictor) -> None:
    if predictor.purpose != "classifier":
        raise BundleError(f"{predictor.path} is a backbone bundle without a classifier",
                          "train one on the pool with `foveal al train POOL`")
    if sorted(predictor.classes) != sorted(pool.classes):
        raise BundleError(f"the bundle's classes ({', '.join(predictor.classes)}) differ from the pool's "
                          f"({', '.join(pool.classes)})", "use a bundle trained on this pool (`foveal al train POOL`)")


def suggest(pool_dir: Path, bundle: str | Path, n: int, strategy: str = "hybrid", seed: int = 0,
            out: Path | None = None, prefilter: int = PREFILTER) -> Suggestions:
    """Pick ``n`` unlabelled images with ``strategy``, write them to ``out`` (CSV or JSON) and queue them
    as a new round of the pool."""
    from foveal.bundle import load_bundle

    check_strategy(strategy)
    if n < 1 or prefilter < 1:
        raise ConfigError(f"--n and --prefilter must be at least 1, got {n} and {prefilter}", "e.g. --n 50")
    if out is not None and Path(out).suffix.lower() not in (".csv", ".json"):
        raise ConfigError(f"--out {out} must end in .csv or .json", "e.g. --out next.csv")
    pool = open_pool(pool_dir)
    unlabelled = pool.items("WHERE status = 'unlabelled'")
    if n > len(unlabelled):
        raise ConfigError(f"--n {n} is more than the {len(unlabelled)} unlabelled images in the pool",
                          f"ask for at most {len(unlabelled)}")
    predictor = load_bundle(bundle)
    check_bundle(pool, predictor)
    items, images = decoded(pool, unlabelled, predictor, "unlabelled")
    if n > len(items):
        raise ConfigError(f"--n {n} is more than the {len(items)} decodable unlabelled images",
                          f"ask for at most {len(items)}")
    proba = predictor.predict_proba(images)
    pool_emb = labelled_emb = None
    if strategy in NEEDS_EMBEDDINGS:
        pool_emb = predictor.embed(images)
        if strategy != "badge":
            _, labelled_images = decoded(pool, pool.items("WHERE status = 'labelled'"), predictor, "labelled")
            labelled_emb = predictor.embed(labelled_images) if len(labelled_images) else None
    chosen = select(strategy, n, proba, pool_emb, labelled_emb, seed, prefilter)
    picks = [(items[int(i)]["id"], float(s)) for i, s in zip(chosen.indices, chosen.scores)]
    r = pool.start_round(strategy, str(predictor.path.resolve()), picks)
    rows = _rows(items, chosen, proba, predictor.classes)
    target = Path(out) if out is not None else pool.folder / "suggestions" / f"round-{r}.csv"
    write_suggestions(target, rows)
    return Suggestions(r, strategy, rows, target)


def _rows(items: list[dict], chosen, proba: np.ndarray, classes: list[str]) -> list[dict]:
    ent = entropy(proba)
    out = []
    for rank, (i, score) in enumerate(zip(chosen.indices, chosen.scores), 1):
        item = items[int(i)]
        out.append({"rank": rank, "path": item["path"], "source": item["source"], "score": round(float(score), 6),
                    "predicted": classes[int(proba[i].argmax())], "confidence": round(float(proba[i].max()), 6),
                    "entropy": round(float(ent[i]), 6)})
    return out


def write_suggestions(target: Path, rows: list[dict]) -> Path:
    from foveal.csvio import csv_text
    from foveal.files import atomic_write_text, write_json

    if target.suffix.lower() == ".json":
        return write_json(target, {"suggestions": rows})
    return atomic_write_text(target, csv_text(OUTPUT_COLUMNS, [[r[c] for c in OUTPUT_COLUMNS] for r in rows]))
