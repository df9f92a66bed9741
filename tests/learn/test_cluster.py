"""Clustering: metrics against scikit-learn on known labels, k picked automatically, the CLI's outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

from helpers import run_cli

from foveal.csvio import read_csv
from foveal.learn.cluster import agreement, cluster, purity


def blobs(k: int = 3, per: int = 30, d: int = 8, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=10, size=(k, d))
    x = np.concatenate([c + rng.normal(size=(per, d)) for c in centres])
    return x.astype(np.float32), [f"c{i}" for i in range(k) for _ in range(per)]


def test_metrics_match_scikit_learn_on_known_labels():
    labels = ["a"] * 5 + ["b"] * 5 + ["c"] * 4
    assignments = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 0])
    got = agreement(labels, assignments)
    assert got["adjusted_rand"] == pytest.approx(adjusted_rand_score(labels, assignments))
    assert got["nmi"] == pytest.approx(normalized_mutual_info_score(labels, assignments))
    table = contingency_matrix(labels, assignments)
    assert got["purity"] == pytest.approx(table.max(axis=0).sum() / table.sum())
    assert purity(labels, assignments) == pytest.approx(11 / 14)
    assert agreement(labels, np.array([0] * 5 + [1] * 5 + [2] * 4)) == {"adjusted_rand": 1.0, "nmi": 1.0, "purity": 1.0}


@pytest.mark.parametrize("method", ["kmeans", "agglomerative", "gmm"])
def test_k_auto_finds_three_separated_groups(method):
    x, labels = blobs()
    result = cluster(x, method, "auto")
    assert result.k == 3 and len(result.scan) == 11
    assert agreement(labels, result.assignments)["adjusted_rand"] == pytest.approx(1.0)
    assert result.silhouette > 0.7


def test_cluster_cli_writes_assignments_json_and_page(capsys, tmp_path, tiny_digits):
    code, _, err = run_cli(capsys, "--quiet", "cluster", tiny_digits, "--features", "hog", "--method", "kmeans",
                           "--k", "10", "--out", tmp_path / "a.csv", "--json", tmp_path / "c.json",
                           "--report", tmp_path / "c.html")
    assert code == 0, err
    result = json.loads((tmp_path / "c.json").read_text())
    rows = read_csv(tmp_path / "a.csv")
    assert result["k"] == 10 and result["n"] == len(rows) == 120
    assert set(result) >= {"k", "silhouette", "adjusted_rand", "nmi", "purity"}
    labels, clusters = [r["label"] for r in rows], np.array([int(r["cluster"]) for r in rows])
    assert result["nmi"] == pytest.approx(normalized_mutual_info_score(labels, clusters))
    assert result["purity"] > 0.3  # HOG on 8×8 digits groups them far better than chance (0.1)
    page = (tmp_path / "c.html").read_text()
    shown = sum(min(12, n) for n in result["sizes"].values())  # up to 12 members per cluster
    assert page.count("<h3>cluster ") == 10 and page.count("<img") == 1 + shown  # the map, then the galleries


def test_cluster_refuses_two_sources_and_bad_k(capsys, tmp_path, tiny_digits):
    code, _, err = run_cli(capsys, "cluster", tiny_digits, "--features", "hog", "--backbone", "cnn-small")
    assert code == 2 and "both given" in err
    code, _, err = run_cli(capsys, "cluster", tiny_digits, "--k", "many")
    assert code == 2 and "--k 'many' is not a number or auto" in err
    code, _, err = run_cli(capsys, "cluster", tiny_digits, "--k", "500")
    assert code == 2 and "must be between 2 and 119" in err
