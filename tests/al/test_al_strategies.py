"""Query strategies on constructed cases: what each picks, and the properties they promise."""

from __future__ import annotations

import numpy as np
import pytest

from foveal.al.strategies import (STRATEGIES, entropy, gradient_embeddings, k_center_greedy, kmeans_pp,
                                  margin, min_sq_distances, select)
from foveal.errors import ConfigError


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture()
def case():
    rng = np.random.default_rng(0)
    proba = softmax(rng.normal(size=(200, 5)) * 3)
    return proba, rng.normal(size=(200, 8)), rng.normal(size=(30, 8))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_returns_n_distinct_rows(case, strategy):
    proba, pool, labelled = case
    for n in (1, 17, 200):
        chosen = select(strategy, n, proba, pool, labelled, seed=3)
        assert len(chosen.indices) == n == len(set(chosen.indices.tolist())) == len(chosen.scores)
        assert chosen.indices.min() >= 0 and chosen.indices.max() < len(proba)
    again = select(strategy, 17, proba, pool, labelled, seed=3)
    assert np.array_equal(again.indices, select(strategy, 17, proba, pool, labelled, seed=3).indices)  # seeded


def test_uncertainty_strategies_pick_the_most_uncertain():
    proba = np.array([[0.98, 0.01, 0.01],   # confident
                      [0.34, 0.33, 0.33],   # most uncertain by every measure
                      [0.50, 0.49, 0.01],   # a near tie of two classes: margin's favourite after row 1
                      [0.60, 0.20, 0.20],
                      [0.90, 0.05, 0.05]])
    assert select("entropy", 2, proba).indices.tolist() == [1, 3]
    assert select("margin", 2, proba).indices.tolist() == [1, 2]
    assert select("least-confidence", 3, proba).indices.tolist() == [1, 2, 3]
    assert np.isclose(entropy(proba[1:2])[0], -np.sum(proba[1] * np.log(proba[1])))


def test_k_center_greedy_covers_the_pool():
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10], [5, 5]], dtype=float)
    pool = np.concatenate([c + rng.normal(scale=0.3, size=(40, 2)) for c in centres])
    labelled = centres[:1] + 0.1  # the first cluster is already covered
    chosen = k_center_greedy(pool, labelled, 4, seed=0)
    clusters = {int(i) // 40 for i in chosen.indices}
    assert clusters == {1, 2, 3, 4}  # one pick in each uncovered cluster, none in the covered one
    assert np.all(np.diff(chosen.scores) <= 1e-9)  # each pick is no farther than the one before
    radius = np.sqrt(min_sq_distances(pool, np.concatenate([labelled, pool[chosen.indices]])).max())
    assert radius <= chosen.scores[-1] + 1e-9  # the cover radius never exceeds the last pick's distance
    first = np.argmax(min_sq_distances(pool, labelled))
    assert chosen.indices[0] == first  # the first pick is the farthest from the labelled set


def test_k_center_greedy_without_labels_and_with_duplicates():
    pool = np.array([[0.0, 0.0]] * 3 + [[1.0, 0.0]] * 3)
    chosen = k_center_greedy(pool, np.zeros((0, 2)), 5, seed=0)
    assert len(set(chosen.indices.tolist())) == 5
    assert {int(i) // 3 for i in chosen.indices[:2]} == {0, 1}  # both distinct points before any duplicate


def test_badge_gradient_embeddings_and_seeding():
    proba = np.array([[0.7, 0.3], [0.5, 0.5], [1.0, 0.0]])
    h = np.array([[1.0, 2.0], [3.0, 0.0], [1.0, 1.0]])
    g = gradient_embeddings(proba, h)
    assert g.shape == (3, 4)
    assert np.allclose(g[0], [(0.7 - 1) * 1, (0.7 - 1) * 2, 0.3 * 1, 0.3 * 2])
    assert np.allclose(g[2], 0)  # a certain prediction has no gradient
    chosen = kmeans_pp(g, 2, seed=0)
    assert chosen.indices[0] == np.argmax((g * g).sum(1))  # starts from the largest gradient
    assert chosen.indices[0] == 1 and chosen.indices[1] in (0, 2)
    draws = [kmeans_pp(g, 2, seed=s).indices[1] for s in range(200)]
    assert 0.3 < np.mean(np.array(draws) == 2) < 0.8  # drawn ∝ squared distance: 4.5 / (4.5 + 3.6) ≈ 0.56


def test_hybrid_stays_within_the_uncertain_candidates(case):
    proba, pool, labelled = case
    chosen = select("hybrid", 10, proba, pool, labelled, prefilter=3)
    top = set(np.argsort(-margin(proba), kind="stable")[:30].tolist())
    assert set(chosen.indices.tolist()) <= top


def test_bad_requests_are_one_line_errors(case):
    proba, pool, labelled = case
    with pytest.raises(ConfigError, match="unknown strategy 'bald'"):
        select("bald", 5, proba, pool)
    with pytest.raises(ConfigError, match="cannot pick 201 images from an unlabelled pool of 200"):
        select("entropy", 201, proba)
