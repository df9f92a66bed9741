"""K-fold assignment: stratified for single-label tasks (group-aware when groups are given),
iterative stratification (Sechidis et al., 2011) for multi-label tasks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from foveal.data.task import Task
from foveal.errors import ConfigError


def assign_folds(task: Task, labels: Sequence, k: int, seed: int = 0,
                 groups: Sequence[str | None] | None = None) -> np.ndarray:
    """Fold number (0..k-1) per sample; every sample lands in exactly one validation fold."""
    n = len(labels)
    if k < 2:
        raise ConfigError(f"--folds must be at least 2, got {k}", "use e.g. --folds 5")
    if k > n:
        raise ConfigError(f"--folds {k} is more than the {n} samples", "use fewer folds")
    if task.type == "multilabel":
        return iterative_stratification(task.encode(labels), k, seed)
    return _single_label(task.stratify_keys(labels), k, seed, groups)


def _single_label(keys: list[str], k: int, seed: int, groups) -> np.ndarray:
    import warnings

    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    fold = np.full(len(keys), -1)
    x = np.zeros((len(keys), 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "least populated class has fewer than k members"
        if groups is not None and any(g is not None for g in groups):
            named = [g if g is not None else f"\0sample{i}" for i, g in enumerate(groups)]
            if len(set(named)) < k:
                raise ConfigError(f"only {len(set(named))} groups for {k} folds", "use fewer --folds")
            splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(x, keys, named)
        else:
            if max(np.unique(keys, return_counts=True)[1]) < k:
                raise ConfigError(f"every class has fewer than {k} samples", "use fewer --folds")
            splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(x, keys)
        for f, (_, val) in enumerate(splitter):
            fold[val] = f
    return fold


def iterative_stratification(y: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Folds that keep every label's positives spread evenly, rarest label first.

    Repeatedly take the label with the fewest unassigned positives and deal its
    samples to the folds that still want most of that label (ties: the fold that
    wants most samples, then random). Samples without labels fill the emptiest folds.
    """
    rng = np.random.default_rng(seed)
    n = len(y)
    fold = np.full(n, -1)
    want = np.full(k, n / k)
    want_label = np.tile(y.sum(axis=0) / k, (k, 1)).astype(float)
    remaining = y.astype(bool).copy()
    while remaining.any():
        counts = remaining.sum(axis=0)
        label = int(np.argmin(np.where(counts > 0, counts, np.inf)))
        for i in rng.permutation(np.flatnonzero(remaining[:, label])):
            f = _pick(want_label[:, label], want, rng)
            fold[i] = f
            want_label[f] -= y[i]
            want[f] -= 1
            remaining[i] = False
    for i in rng.permutation(np.flatnonzero(fold < 0)):
        f = _pick(want, want, rng)
        fold[i] = f
        want[f] -= 1
    return fold


def _pick(primary: np.ndarray, secondary: np.ndarray, rng) -> int:
    best = np.flatnonzero(primary == primary.max())
    if len(best) > 1:
        best = best[secondary[best] == secondary[best].max()]
    return int(rng.choice(best))
