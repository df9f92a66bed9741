"""Stratified, seeded splits; an existing split (folders or a ``split`` column) always wins."""

from __future__ import annotations

from collections import Counter, defaultdict

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


def linked_units(columns: list[list[str | None]]) -> list[int]:
    """For each sample, the smallest index of its unit: samples sharing a non-empty value
    in any of ``columns`` (all of the same length) are joined, transitively (union-find)."""
    n = len(columns[0]) if columns else 0
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving
            i = parent[i]
        return i

    for column in columns:
        first: dict[str, int] = {}
        for i, value in enumerate(column):
            if value:
                a, b = root(i), root(first.setdefault(value, i))
                parent[max(a, b)] = min(a, b)  # the smaller index stays the root
    return [root(i) for i in range(n)]


def _merged_groups(groups: list[str | None] | None, same: list[str | None]) -> list[str | None] | None:
    """Group names with content-identical samples joined into one group (None: no groups at all).

    A unit holding named groups keeps the smallest of their names, so identical content
    that links nothing new leaves the groups (and the split they give) unchanged.
    """
    groups = groups or [None] * len(same)
    units = linked_units([groups, same])
    names: dict[int, str] = {}
    for i, unit in enumerate(units):
        if groups[i] is not None and (unit not in names or groups[i] < names[unit]):
            names[unit] = groups[i]
    sizes = Counter(units)
    merged = [names.get(u) or (f"\x00same:{u}" if sizes[u] > 1 else None) for u in units]
    return merged if any(merged) else None


def _pool_groups(part: Dataset, same: list[str | None] | None) -> list[str | None] | None:
    """The groups the hold-out must keep whole: ``part``'s groups, joined by identical content."""
    if same is not None:
        return _merged_groups(part.group, same)
    return part.group if part.group and any(part.group) else None


def train_val(ds: Dataset, val_fraction: float, seed: int, *,
              same: list[str | None] | None = None) -> tuple[Dataset, Dataset]:
    """The training and validation parts of ``ds`` (its ``test`` split is never used).

    With a ``val`` split present it is used as is; otherwise ``val_fraction`` of
    the training pool (samples marked ``train`` or unmarked) is held out,
    stratified by label, and never splitting a ``group``. ``same`` gives one content
    key per sample of ``ds`` (e.g. the sha256 of its file): samples sharing a key
    stay on one side of the hold-out, joined with their groups.
    """
    train, val = train_val_indices(ds, val_fraction, seed, same=same)
    return ds.subset(train), ds.subset(val)


def train_val_indices(ds: Dataset, val_fraction: float, seed: int, *,
                      same: list[str | None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`train_val` as sorted indices into ``ds`` (training, validation)."""
    _check_fraction(val_fraction)  # a bad option is an error even when a val split makes it unused
    if same is not None and len(same) != len(ds):
        raise ConfigError(f"{len(same)} content keys for the {len(ds)} samples of {ds.name}",
                          "give one key per sample (None where unknown)")
    pool = np.array([i for i, s in enumerate(ds.split) if s in (None, "train")], dtype=int)
    if not len(pool):
        raise DataError(f"{ds.name} has no training samples (only {', '.join(ds.splits)} splits)",
                        "mark some samples as train, or leave the split empty")
    if "val" in ds.splits:
        return pool, np.array([i for i, s in enumerate(ds.split) if s == "val"], dtype=int)
    train_part = ds.subset(pool)
    keys = ds.task.stratify_keys(train_part.labels)
    if ds.task.type == "multilabel":
        keys = _rare_merged(keys)
    groups = _pool_groups(train_part, None if same is None else [same[i] for i in pool])
    if groups is not None:
        keep, held = grouped_holdout(keys, groups, val_fraction, seed)
    else:
        keep, held = stratified_holdout(keys, val_fraction, seed)
    if len(held) == 0:
        raise DataError(f"{ds.name} is too small to hold out a validation split",
                        "add images, or give a val split (folder or split column)")
    return np.sort(pool[keep]), np.sort(pool[held])
