"""Clustering of embeddings or classical features: k-means, agglomerative (Ward) and Gaussian mixtures,
with ``k`` picked by silhouette (k-means, agglomerative) or BIC (mixtures), and agreement with known
labels (adjusted Rand index, normalised mutual information, purity)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from foveal.errors import ConfigError, DataError

METHODS = ("kmeans", "agglomerative", "gmm")
K_RANGE = (2, 12)
SILHOUETTE_SAMPLE = 5000  # silhouette is O(n²): scored on a seeded sample beyond this


@dataclass
class Clustering:
    method: str
    k: int
    assignments: np.ndarray
    silhouette: float
    scan: list[dict] = field(default_factory=list)  # --k auto: {"k", "silhouette" or "bic"} per candidate


def fit_assign(x: np.ndarray, method: str, k: int, seed: int = 0) -> tuple[np.ndarray, object]:
    """Cluster labels (n,) and the fitted model."""
    if method == "kmeans":
        from sklearn.cluster import KMeans

        model = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x)
        return model.labels_, model
    if method == "agglomerative":
        from sklearn.cluster import AgglomerativeClustering

        model = AgglomerativeClustering(n_clusters=k, linkage="ward").fit(x)
        return model.labels_, model
    if method == "gmm":
        from sklearn.mixture import GaussianMixture

        model = GaussianMixture(n_components=k, covariance_type="diag", reg_covar=1e-4, n_init=2,
                                random_state=seed).fit(x)
        return model.predict(x), model
    raise ConfigError(f"unknown --method {method!r}", f"use one of {', '.join(METHODS)}")


def silhouette(x: np.ndarray, assignments: np.ndarray, seed: int = 0) -> float:
    from sklearn.metrics import silhouette_score

    if len(set(assignments.tolist())) < 2:
        return float("nan")
    sample = min(len(x), SILHOUETTE_SAMPLE)
    return float(silhouette_score(x, assignments, sample_size=sample if sample < len(x) else None, random_state=seed))


def cluster(x: np.ndarray, method: str, k: int | str, seed: int = 0, k_range: tuple[int, int] = K_RANGE) -> Clustering:
    """Cluster ``x``; ``k="auto"`` scans ``k_range`` (best silhouette, or lowest BIC for ``gmm``)."""
    n = len(x)
    if n < 3:
        raise DataError(f"only {n} vectors to cluster", "give at least 3 images")
    if k != "auto":
        k = int(k)
        if not 2 <= k < n:
            raise ConfigError(f"--k {k} must be between 2 and {n - 1} (the number of images - 1)", "use a smaller --k or auto")
        labels, _ = fit_assign(x, method, k, seed)
        return Clustering(method, k, labels, silhouette(x, labels, seed))
    low, high = k_range[0], min(k_range[1], n - 1)
    scan, best = [], None
    for candidate in range(low, high + 1):
        labels, model = fit_assign(x, method, candidate, seed)
        if method == "gmm":
            score = -float(model.bic(x))
            scan.append({"k": candidate, "bic": -score})
        else:
            score = silhouette(x, labels, seed)
            scan.append({"k": candidate, "silhouette": score})
        if best is None or score > best[0]:
            best = (score, candidate, labels)
    _, k, labels = best
    return Clustering(method, k, labels, silhouette(x, labels, seed), scan)


def purity(labels: list, assignments: np.ndarray) -> float:
    """Share of samples whose label is their cluster's most common label."""
    total = 0
    for c in np.unique(assignments):
        members = [labels[i] for i in np.flatnonzero(assignments == c)]
        total += max(members.count(v) for v in set(members))
    return total / len(labels)


def agreement(labels: list, assignments: np.ndarray) -> dict:
    """ARI, NMI and purity against known labels (samples without a label left out)."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    keep = [i for i, v in enumerate(labels) if v is not None]
    if not keep:
        return {}
    y = [labels[i] for i in keep]
    a = assignments[keep]
    return {"adjusted_rand": float(adjusted_rand_score(y, a)), "nmi": float(normalized_mutual_info_score(y, a)),
            "purity": float(purity(y, a))}


def representatives(x: np.ndarray, assignments: np.ndarray, per_cluster: int) -> dict[int, list[int]]:
    """Per cluster, its members closest to the cluster's mean first (the gallery's order)."""
    out = {}
    for c in np.unique(assignments):
        members = np.flatnonzero(assignments == c)
        centre = x[members].mean(axis=0)
        order = np.argsort(((x[members] - centre) ** 2).sum(axis=1), kind="stable")
        out[int(c)] = members[order[:per_cluster]].tolist()
    return out


def map_2d(x: np.ndarray, seed: int = 0, limit: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """A t-SNE map of (a seeded sample of at most ``limit``) rows: (rows, coordinates)."""
    from sklearn.manifold import TSNE

    rows = np.arange(len(x))
    if len(x) > limit:
        rows = np.sort(np.random.default_rng(seed).choice(len(x), limit, replace=False))
    data = x[rows]
    if data.shape[1] > 50:
        from sklearn.decomposition import PCA

        data = PCA(n_components=50, random_state=seed).fit_transform(data)
    perplexity = float(max(2.0, min(30.0, (len(rows) - 1) / 3)))
    coords = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(data)
    return rows, coords
