"""``foveal.ImageClassifier`` behaves as a scikit-learn estimator, classical and deep."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score

import foveal
from foveal.data.builtin import load_builtin
from foveal.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def digits():
    d = load_builtin("digits")
    idx = np.random.default_rng(0).permutation(len(d.images))[:240]
    return d.images[idx], np.array(d.labels)[idx].astype(int)


def test_classical_inside_cross_val_score(digits):
    X, y = digits
    clf = foveal.ImageClassifier(model="svm", features="pixels")
    scores = cross_val_score(clf, X, y, cv=3)
    assert scores.mean() > 0.85
    twin = clone(clf).set_params(features="hog")
    assert twin.get_params()["features"] == "hog" and clf.get_params()["features"] == "pixels"


def test_deep_on_image_paths_keeps_label_types(digits_folder):
    paths = sorted((digits_folder / "train").rglob("*.png"))
    labels = [p.parent.name for p in paths]
    clf = foveal.ImageClassifier(model="cnn-small", epochs=5, batch_size=16, image_size=16)
    clf.fit([str(p) for p in paths], labels)
    test = sorted((digits_folder / "test").rglob("*.png"))
    predicted = clf.predict([str(p) for p in test])
    assert set(predicted) <= set(labels) and isinstance(predicted[0], str)
    assert clf.score([str(p) for p in test], [p.parent.name for p in test]) > 0.6
    proba = clf.predict_proba([str(p) for p in test[:3]])
    assert proba.shape == (3, 10) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)


def test_bad_input_is_a_clear_error(digits):
    X, y = digits
    with pytest.raises(ConfigError, match="unknown option"):
        foveal.ImageClassifier(model="svm", options={"epochz": 3}).fit(X, y)
    with pytest.raises(DataError, match="single class"):
        foveal.ImageClassifier(model="svm").fit(X[:5], [1] * 5)
