"""``foveal al train``: the ordinary training run on the pool's labelled images, recorded as the round's model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from foveal.al.pool import Pool, open_pool
from foveal.errors import ConfigError

LAST = "last"  # --init-from last: the bundle trained in the latest round that has one


def write_labelled_manifest(pool: Pool, round_: int) -> tuple[Path, int]:
    """``POOL/labelled-round-<r>.csv`` (path,label of every labelled image; paths under the pool folder)."""
    from foveal.csvio import csv_text
    from foveal.files import atomic_write_text

    rows = pool.items("WHERE status = 'labelled'")
    present = {r["label"] for r in rows}
    if len(present) < 2:
        raise ConfigError(f"the pool has {len(rows)} labelled images of {len(present)} class(es); training needs "
                          "at least two classes", "label more images with `foveal al label POOL`")
    target = pool.folder / f"labelled-round-{round_}.csv"
    atomic_write_text(target, csv_text(["path", "label"], [[r["path"], r["label"]] for r in rows]))
    return target, len(rows)


def last_bundle(pool: Pool) -> str:
    trained = [r for r in pool.rounds() if r["bundle"]]
    if not trained:
        raise ConfigError("--init-from last: no round of this pool has a trained bundle yet",
                          "train once without --init-from, or give a bundle path")
    return trained[-1]["bundle"]


def run_folder(pool: Pool, round_: int) -> Path:
    """``POOL/runs/round-<r>`` (``-2``, ``-3``… when a round is trained again)."""
    base = pool.folder / "runs" / f"round-{round_}"
    candidate, k = base, 1
    while candidate.exists():
        k += 1
        candidate = base.with_name(f"{base.name}-{k}")
    return candidate


def train_pool(pool_dir: Path, config: Path | None, overrides: dict):
    """Train on the labelled images with the options ``config`` (YAML) < ``overrides`` (typed as
    ``foveal.config.resolve`` types them) — with the pool's classes, even those not labelled yet, so the
    bundle can score the whole pool — and record the bundle, label count and validation metrics on the
    pool's current round. Returns (TrainResult, round)."""
    from foveal.config import resolve
    from foveal.data.load import load_dataset
    from foveal.runs.pipeline import run_training

    pool = open_pool(pool_dir)
    round_ = pool.current_round()
    if overrides.get("init_from") == LAST:
        overrides = {**overrides, "init_from": last_bundle(pool)}
    if "data" in overrides:
        raise ConfigError("foveal al train takes its data from the pool", "drop the data option")
    manifest, n_labels = write_labelled_manifest(pool, round_)
    cfg = resolve(config, {**overrides, "data": str(manifest)})
    if cfg.out is None:
        cfg = replace(cfg, out=str(run_folder(pool, round_)))
    ds = load_dataset(manifest, pool.task)
    cfg = replace(cfg, data=replace(ds, name=str(manifest)))
    result = run_training(cfg)
    if result is None:  # DDP ranks other than 0
        return None, round_
    metrics = (result.metrics or {}).get("metrics", {})
    pool.record_training(str(Path(result.bundle).resolve()), n_labels, metrics)
    return result, round_
