"""Query strategies of active learning: which unlabelled images a person should label next.

Every strategy maps the model's view of the unlabelled pool (calibrated probabilities, embeddings)
and of the labelled set (embeddings) to ``n`` distinct row indices into the unlabelled pool, with a
score per pick (higher: picked for a stronger reason). Pure numpy; nothing here reads files.

- ``entropy`` / ``margin`` / ``least-confidence``: uncertainty of the probabilities.
- ``coreset``: k-center greedy on embeddings (Sener & Savarese 2018), relative to the labelled set.
- ``badge``: k-means++ seeding on gradient embeddings (p − onehot(ŷ)) ⊗ h (Ash et al. 2020).
- ``hybrid`` (default): the ``prefilter`` × n most uncertain by margin (the most robust of the three
  uncertainty scores from a small start: entropy favours images spread over many classes, which early
  models produce for outliers), then k-center greedy among them.
- ``random``: a uniform sample (the baseline every strategy must beat).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from foveal.errors import ConfigError

STRATEGIES = ("hybrid", "entropy", "margin", "least-confidence", "coreset", "badge", "random")
UNCERTAINTY = ("entropy", "margin", "least-confidence")
NEEDS_EMBEDDINGS = ("coreset", "badge", "hybrid")
PREFILTER = 5  # hybrid: candidates kept per requested image before the diversity step
HYBRID_UNCERTAINTY = "margin"
CHUNK = 2048  # rows per block when computing distances (bounded memory)


@dataclass
class Selection:
    """Picked row indices into the unlabelled pool, in pick order, with one score each."""

    indices: np.ndarray
    scores: np.ndarray


def check_strategy(name: str) -> str:
    if name not in STRATEGIES:
        raise ConfigError(f"unknown strategy {name!r}", f"use one of {', '.join(STRATEGIES)}")
    return name


def entropy(proba: np.ndarray) -> np.ndarray:
    """Shannon entropy of each row (nats)."""
    p = np.clip(np.asarray(proba, dtype=np.float64), 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1)


def margin(proba: np.ndarray) -> np.ndarray:
    """1 − (top-1 − top-2 probability): high when the two best classes are close."""
    p = np.sort(np.asarray(proba, dtype=np.float64), axis=1)
    second = p[:, -2] if p.shape[1] > 1 else np.zeros(len(p))
    return 1.0 - (p[:, -1] - second)


def least_confidence(proba: np.ndarray) -> np.ndarray:
    """1 − the top probability."""
    return 1.0 - np.asarray(proba, dtype=np.float64).max(axis=1)


UNCERTAINTY_SCORES = {"entropy": entropy, "margin": margin, "least-confidence": least_confidence}


def top_uncertain(proba: np.ndarray, n: int, kind: str = "entropy") -> Selection:
    """The ``n`` most uncertain rows, most uncertain first (ties broken by row order)."""
    score = UNCERTAINTY_SCORES[kind](proba)
    order = np.argsort(-score, kind="stable")[:n]
    return Selection(order, score[order])


def min_sq_distances(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared Euclidean distance from each row of ``x`` to its nearest row of ``centers`` (inf if none)."""
    out = np.full(len(x), np.inf)
    if len(centers) == 0:
        return out
    c = np.asarray(centers, dtype=np.float64)
    c_sq = (c * c).sum(axis=1)
    for start in range(0, len(x), CHUNK):
        block = np.asarray(x[start:start + CHUNK], dtype=np.float64)
        for c_start in range(0, len(c), CHUNK):
            cb = c[c_start:c_start + CHUNK]
            d = (block * block).sum(axis=1)[:, None] - 2.0 * block @ cb.T + c_sq[None, c_start:c_start + CHUNK]
            out[start:start + CHUNK] = np.minimum(out[start:start + CHUNK], np.maximum(d, 0.0).min(axis=1))
    return out


def k_center_greedy(pool: np.ndarray, labelled: np.ndarray, n: int, seed: int = 0) -> Selection:
    """Pick ``n`` rows of ``pool`` one at a time, each the farthest from the labelled set and the picks
    so far (a 2-approximation of the k-center cover). With nothing labelled the first pick is random.
    Scores are the distance of each pick to its nearest center when it was picked."""
    pool = np.asarray(pool, dtype=np.float64)
    dist = min_sq_distances(pool, labelled)
    picks, scores = [], []
    if not np.isfinite(dist).any() and n > 0:
        first = int(np.random.default_rng(seed).integers(len(pool)))
        dist = np.full(len(pool), np.inf)
        dist[first] = -1.0  # marked below as picked; its score is recorded as 0
        picks.append(first)
        scores.append(0.0)
        dist = np.minimum(dist, ((pool - pool[first]) ** 2).sum(axis=1))
    while len(picks) < n:
        dist[picks] = -1.0
        best = int(np.argmax(dist))
        picks.append(best)
        scores.append(float(np.sqrt(max(dist[best], 0.0))))
        dist = np.minimum(dist, ((pool - pool[best]) ** 2).sum(axis=1))
    return Selection(np.array(picks, dtype=int), np.array(scores))


def gradient_embeddings(proba: np.ndarray, features: np.ndarray) -> np.ndarray:
    """BADGE's gradient embedding of the last layer's loss at the predicted label: (p − onehot(ŷ)) ⊗ h."""
    p = np.asarray(proba, dtype=np.float64)
    residual = p.copy()
    residual[np.arange(len(p)), p.argmax(axis=1)] -= 1.0
    h = np.asarray(features, dtype=np.float64)
    return (residual[:, :, None] * h[:, None, :]).reshape(len(p), -1)


def kmeans_pp(x: np.ndarray, n: int, seed: int = 0) -> Selection:
    """k-means++ seeding: the first the largest-norm row, each next one drawn with probability ∝ its
    squared distance to the nearest pick (rows already picked have distance 0 and are never drawn again)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=np.float64)
    first = int(np.argmax((x * x).sum(axis=1)))
    picks, scores = [first], [float(np.sqrt((x[first] ** 2).sum()))]
    dist = ((x - x[first]) ** 2).sum(axis=1)
    while len(picks) < n:
        dist[picks] = 0.0
        total = dist.sum()
        if total <= 0:  # every remaining row coincides with a pick: fill uniformly
            rest = np.setdiff1d(np.arange(len(x)), picks)
            best = int(rng.choice(rest))
        else:
            best = int(rng.choice(len(x), p=dist / total))
        picks.append(best)
        scores.append(float(np.sqrt(dist[best])))
        dist = np.minimum(dist, ((x - x[best]) ** 2).sum(axis=1))
    return Selection(np.array(picks, dtype=int), np.array(scores))


def unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def select(strategy: str, n: int, proba: np.ndarray, pool_emb: np.ndarray | None = None,
           labelled_emb: np.ndarray | None = None, seed: int = 0, prefilter: int = PREFILTER) -> Selection:
    """``n`` distinct rows of the unlabelled pool chosen by ``strategy`` (see the module docstring)."""
    check_strategy(strategy)
    size = len(proba)
    if not 0 < n <= size:
        raise ConfigError(f"cannot pick {n} images from an unlabelled pool of {size}",
                          f"ask for between 1 and {size} (--n)")
    if strategy in UNCERTAINTY:
        return top_uncertain(proba, n, strategy)
    if strategy == "random":
        picks = np.random.default_rng(seed).permutation(size)[:n]
        return Selection(picks, np.zeros(n))
    if pool_emb is None or len(pool_emb) != size:
        raise ValueError(f"strategy {strategy} needs one embedding per unlabelled image")
    if strategy == "badge":  # the gradient embedding's magnitude carries the uncertainty: not normalised
        return kmeans_pp(gradient_embeddings(proba, pool_emb), n, seed)
    pool_emb = unit_rows(pool_emb)  # distances on the unit sphere (cosine), as foveal's search uses
    labelled_emb = np.zeros((0, pool_emb.shape[1])) if labelled_emb is None else unit_rows(labelled_emb)
    if strategy == "coreset":
        return k_center_greedy(pool_emb, labelled_emb, n, seed)
    candidates = top_uncertain(proba, min(size, max(n, prefilter * n)), HYBRID_UNCERTAINTY).indices
    chosen = k_center_greedy(pool_emb[candidates], labelled_emb, n, seed)
    return Selection(candidates[chosen.indices], margin(proba[candidates[chosen.indices]]))
