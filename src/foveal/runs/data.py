"""A run's data: the dataset loaded, its training pool decoded once, then split so that identical
images (and ``group`` members) stay on one side of the hold-out.

Decoding happens before splitting because a split on content needs every file's hash; each
image is still decoded exactly once (the pixels of ``--cache none`` runs are the exception:
only a sample is kept in RAM and the validation part is decoded again).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import numpy as np

from foveal.data.dataset import Dataset
from foveal.data.images import LoadedImages, Preprocessing, check_skip_ratio, load_images
from foveal.errors import ConfigError, DataError, warn

CACHE_NONE_SAMPLE = 512  # images kept in RAM under --cache none (shapes and normalisation statistics)
SHOWN = 3  # paths named per warning


@dataclass
class Part:
    """The training or validation samples: ``loaded`` rows follow ``loaded.kept`` (indices into ``ds``)."""

    ds: Dataset
    loaded: LoadedImages

    def labels(self) -> list:
        return [self.ds.labels[i] for i in self.loaded.kept]

    def targets(self) -> np.ndarray:
        return self.ds.task.encode(self.labels())

    def reweighting(self, column: str | None) -> np.ndarray | None:
        """``--reweight COLUMN``: per-sample weights (kept rows) balancing COLUMN values × classes."""
        if not column:
            return None
        from foveal.data.reweight import balancing_weights

        values = self.ds.column(column)
        labels = self.labels()
        multi = self.ds.task.type == "multilabel"
        return balancing_weights([values[i] for i in self.loaded.kept], None if multi else labels)

    @property
    def in_ram(self) -> bool:
        """Whether every kept image's pixels are in ``loaded.images`` (not only a sample)."""
        return self.loaded.rows is None


@dataclass
class RunData:
    ds: Dataset
    prep: Preprocessing
    train: Part
    val: Part
    skipped: list[dict] = field(default_factory=list)

    @property
    def task(self):
        return self.ds.task

    def fingerprint(self) -> str:
        """A hash of the training images' contents and labels, independent of file names and order."""
        rows = sorted(f"{h}\t{label}" for h, label in zip(self.train.loaded.hashes, self.train.labels()))
        return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def training_pool(ds: Dataset) -> Dataset:
    """Everything but the test split: what training and validation may use."""
    pool = ds.subset([i for i, s in enumerate(ds.split) if s != "test"])
    if not len(pool):
        raise DataError(f"{ds.name} holds only a test split", "add training images (a train split or unsplit images)")
    return pool


def resolve_cache(mode: str, n: int, size: tuple[int, int], channels: int, from_files: bool) -> str:
    """``auto`` keeps images in RAM unless they would take more than a quarter of the memory."""
    if mode != "auto":
        return mode if from_files else "ram"  # in-memory data sets are in RAM already
    need = n * size[0] * size[1] * channels
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "ram"
    return "none" if from_files and need > total // 4 else "ram"


def decode_ahead(cfg) -> Dataset | None:
    """For a plain deep run on image files whose size needs no library to pick: load the dataset and
    start decoding its training pool in the background (:mod:`foveal.data.ahead`); the run's own
    ``load_images`` later takes the result. None, with nothing started, for every other run and on any
    error (the run then meets it where it always did, after its checks)."""
    from foveal.data import ahead
    from foveal.data.load import load_dataset
    from foveal.runs.deep import deep_preprocessing
    from foveal.runs.engines import plain_deep

    if not cfg.data or cfg.image_size == "model" or not plain_deep(cfg):
        return None
    try:
        ds = load_dataset(cfg.data, cfg.task)
        pool = training_pool(ds)
        prep = deep_preprocessing(cfg, pool, None)
        if ds.images is not None or resolve_cache(cfg.cache, len(pool), prep.size, prep.channels, True) != "ram":
            return None
        check_memory(len(pool), prep, "")
    except Exception:  # noqa: BLE001 - reported by the run itself, in its usual place
        return None
    ahead.decode_ahead(pool, prep)
    return ds


def check_memory(n: int, prep: Preprocessing, what: str) -> None:
    """Refuse, before decoding, a RAM cache that cannot fit in the memory available now."""
    h, w = prep.size
    need = n * h * w * prep.channels
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return
    if need > 0.8 * free:
        raise ConfigError(f"{n} images at {h}×{w}×{prep.channels} need {need / 2**30:.1f} GiB of RAM, "
                          f"{free / 2**30:.1f} GiB are free", f"lower --image-size{what}")


def load_run_data(cfg, ds: Dataset, prep: Preprocessing, cache: str = "ram", validation: bool = True) -> RunData:
    """Decode the training pool once, then split it (``cache``: ``ram`` or ``none``; without
    ``validation`` every sample trains)."""
    from foveal.data.split import train_val_indices

    pool = training_pool(ds)
    if getattr(cfg, "reweight", None):
        pool.column(cfg.reweight)  # a missing column fails now, before anything is decoded
    sample = CACHE_NONE_SAMPLE if cache == "none" else None
    if sample is None:
        check_memory(len(pool), prep, " or train with --cache none (deep models)")
    loaded = load_images(pool, prep, 1.0, "Decoding", sample=sample)
    check_skip_ratio(pool.name, len(pool), loaded.skipped, cfg.max_skip_ratio)
    keys = content_keys(len(pool), loaded)
    if validation:
        train_idx, val_idx = train_val_indices(pool, cfg.val_fraction, cfg.seed, same=keys)
    else:
        train_idx, val_idx = np.arange(len(pool)), np.arange(0)
    train = Part(pool.subset(train_idx), _take(loaded, train_idx))
    val = Part(pool.subset(val_idx), _take(loaded, val_idx))
    if sample is not None:  # validation pixels are needed in full
        val = Part(val.ds, load_images(val.ds, prep, 1.0, "Decoding val"))
    for note in duplicate_notes(pool, keys, train_idx, val_idx, explicit="val" in pool.splits):
        warn(note)
    return RunData(ds=ds, prep=prep, train=train, val=val, skipped=loaded.skipped)


def content_keys(n: int, loaded: LoadedImages) -> list[str]:
    """One key per pool sample: its content hash, or a unique key when it could not be decoded."""
    keys = [f"undecoded:{i}" for i in range(n)]
    for i, digest in zip(loaded.kept, loaded.hashes):
        keys[int(i)] = digest
    return keys


def _take(loaded: LoadedImages, idx: np.ndarray) -> LoadedImages:
    """The rows of ``loaded`` whose pool index is in ``idx`` (sorted), re-indexed within the part
    (of a sampled decode, the part's share of the sample)."""
    mask = np.isin(loaded.kept, idx)
    kept = np.searchsorted(idx, loaded.kept[mask])
    hashes = [h for h, m in zip(loaded.hashes, mask) if m]
    if loaded.rows is None:
        return LoadedImages(images=loaded.images[mask], kept=kept.astype(int), hashes=hashes)
    in_part = np.isin(loaded.rows, idx)
    return LoadedImages(images=loaded.images[in_part], kept=kept.astype(int), hashes=hashes,
                        rows=np.searchsorted(idx, loaded.rows[in_part]).astype(int))


def duplicate_notes(pool: Dataset, keys: list[str], train_idx, val_idx, explicit: bool) -> list[str]:
    """Warnings about identical images: with different labels, and (given splits) across train/val."""
    from foveal.data.duplicates import conflicting_labels

    notes = []
    conflicts = conflicting_labels(pool, keys)
    if conflicts:
        shown = "; ".join(" = ".join(pool.describe(i) for i in g[:2]) for g in conflicts[:SHOWN])
        notes.append(f"{len(conflicts)} group(s) of identical images carry different labels ({shown}"
                     f"{' …' if len(conflicts) > SHOWN else ''}); fix the labels — `foveal data check` lists them all")
    if explicit:
        train_keys = {keys[i] for i in train_idx}
        leaked = [i for i in val_idx if keys[i] in train_keys]
        if leaked:
            shown = ", ".join(pool.describe(i) for i in leaked[:SHOWN])
            notes.append(f"{len(leaked)} validation image(s) are identical to training images ({shown}"
                         f"{' …' if len(leaked) > SHOWN else ''}): validation scores are optimistic; remove the copies")
    return notes
