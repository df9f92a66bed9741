"""Stratified, seeded splits; an existing split (folders or a ``split`` column) always wins."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from foveal.data.dataset import Dataset
from foveal.errors import ConfigError, DataError


def _check_fraction(fraction: float) -> None:
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"--val-fraction must be between 0 and 1, got {fraction}", "use e.g. 0.2")


def stratified_holdout(keys: list[str], fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (keep, held_out): ``fraction`` of every stratum held out, seeded.

    Strata with a single sample stay in ``keep``, so every class is trained on.
    """
    _check_fraction(fraction)
    rng = np.random.default_rng(seed)
    strata: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        strata[key].append(i)
    keep, held = [], []
    for key in sorted(strata):
        members = np.array(strata[key])
        rng.shuffle(members)
        n_held = int(round(len(members) * fraction)) if len(members) > 1 else 0
        n_held = min(max(n_held, 1 if len(members) > 1 else 0), len(members) - 1)
        held.extend(members[:n_held])
        keep.extend(members[n_held:])
    return np.sort(np.array(keep, dtype=int)), np.sort(np.array(held, dtype=int))


def grouped_holdout(keys: list[str], groups: list[str | None], fraction: float,
                    seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`stratified_holdout`, but every group (a patient, a camera, …) lands
    wholly on one side; groups are stratified by their most common key.

    Samples without a group are groups of one.
    """
    members: dict[str, list[int]] = defaultdict(list)
    for i, group in enumerate(groups):
        members[f"g:{group}" if group else f"i:{i}"].append(i)
    names = sorted(members)
    group_keys = [max(sorted({keys[i] for i in members[n]}), key=[keys[i] for i in members[n]].count)
                  for n in names]
    keep_g, held_g = stratified_holdout(group_keys, fraction, seed)
    keep = [i for g in keep_g for i in members[names[g]]]
    held = [i for g in held_g for i in members[names[g]]]
    return np.sort(np.array(keep, dtype=int)), np.sort(np.array(held, dtype=int))


def _rare_merged(keys: list[str]) -> list[str]:
    """Multi-label key combinations seen once are pooled so they can still be split."""
    counts: dict[str, int] = defaultdict(int)
    for k in keys:
        counts[k] += 1
    return [k if counts[k] > 1 else "<rare>" for k in keys]


def train_val(ds: Dataset, val_fraction: float, seed: int) -> tuple[Dataset, Dataset]:
    """The training and validation parts of ``ds`` (its ``test`` split is never used).

    With a ``val`` split present it is used as is; otherwise ``val_fraction`` of
    the training pool (samples marked ``train`` or unmarked) is held out,
    stratified by label, and never splitting a ``group``.
    """
    _check_fraction(val_fraction)  # a bad option is an error even when a val split makes it unused
    pool = [i for i, s in enumerate(ds.split) if s in (None, "train")]
    if not pool:
        raise DataError(f"{ds.name} has no training samples (only {', '.join(ds.splits)} splits)",
                        "mark some samples as train, or leave the split empty")
    if "val" in ds.splits:
        val = [i for i, s in enumerate(ds.split) if s == "val"]
        return ds.subset(pool), ds.subset(val)
    train_part = ds.subset(pool)
    keys = ds.task.stratify_keys(train_part.labels)
    if ds.task.type == "multilabel":
        keys = _rare_merged(keys)
    if train_part.group and any(train_part.group):
        keep, held = grouped_holdout(keys, train_part.group, val_fraction, seed)
    else:
        keep, held = stratified_holdout(keys, val_fraction, seed)
    if len(held) == 0:
        raise DataError(f"{ds.name} is too small to hold out a validation split",
                        "add images, or give a val split (folder or split column)")
    return train_part.subset(keep), train_part.subset(held)
