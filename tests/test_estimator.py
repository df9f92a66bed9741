"""``foveal.ImageClassifier`` is a scikit-learn estimator: scikit-learn's own checks pass, every
training option is a constructor parameter (with `foveal train`'s defaults), classical and deep."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score

import foveal
from foveal.config import TrainConfig
from foveal.data.builtin import load_builtin
from foveal.errors import ConfigError


@pytest.fixture(scope="module")
def digits():
    d = load_builtin("digits")
    idx = np.random.default_rng(0).permutation(len(d.images))[:240]
    return d.images[idx], np.array(d.labels)[idx].astype(int)


def test_scikit_learn_estimator_checks_pass():
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(foveal.ImageClassifier(), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    ran = [r for r in results if r["status"] == "passed"]
    assert not failed and len(ran) >= 50, failed
    names = {r["check_name"] for r in ran}
    assert {"check_classifiers_regression_target", "check_supervised_y_no_nan", "check_classifiers_one_label",
            "check_estimator_sparse_array", "check_estimators_pickle", "check_fit_idempotent",
            "check_estimators_nan_inf", "check_n_features_in_after_fitting"} <= names


def test_defaults_and_parameters_are_foveal_trains():
    params = foveal.ImageClassifier().get_params()
    cfg = TrainConfig()
    for name in ("model", "features", "epochs", "lr", "batch_size", "augment", "optimizer", "val_fraction"):
        assert params[name] == getattr(cfg, name), name
    assert {"out", "name", "project", "report", "data"}.isdisjoint(params)  # run-folder options are not parameters
    with pytest.raises(TypeError, match="unexpected parameter"):
        foveal.ImageClassifier(epochz=3)


def test_classical_inside_cross_val_score_on_flattened_digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)  # (n, 64) rows of 8×8 images, values 0..16
    clf = foveal.ImageClassifier(model="svm", features="pixels")
    scores = cross_val_score(clf, X[:400], y[:400], cv=3)
    assert scores.mean() > 0.9
    twin = clone(clf).set_params(features="hog")
    assert twin.get_params()["features"] == "hog" and clf.get_params()["features"] == "pixels"


def test_grid_search_reaches_deep_training_options(digits):
    X, y = digits
    search = GridSearchCV(foveal.ImageClassifier(model="cnn-small", epochs=8, batch_size=16, image_size=16,
                                                 workers=1), {"lr": [1e-7, 3e-3]}, cv=2)
    search.fit(X[:160], y[:160])
    scores = dict(zip(search.cv_results_["param_lr"], search.cv_results_["mean_test_score"]))
    assert search.best_params_["lr"] == 3e-3 and scores[3e-3] > scores[1e-7] + 0.3, scores


def test_deep_on_image_paths_keeps_label_types(digits_folder):
    paths = sorted((digits_folder / "train").rglob("*.png"))
    labels = [p.parent.name for p in paths]
    clf = foveal.ImageClassifier(model="cnn-small", epochs=8, batch_size=16, image_size=16, workers=1)
    clf.fit([str(p) for p in paths], labels)
    test = sorted((digits_folder / "test").rglob("*.png"))
    predicted = clf.predict([str(p) for p in test])
    assert set(predicted) <= set(labels) and isinstance(predicted[0], str)
    assert clf.score([str(p) for p in test], [p.parent.name for p in test]) > 0.6
    proba = clf.predict_proba([str(p) for p in test[:3]])
    assert proba.shape == (3, 10) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)


def test_bad_input_and_options_that_do_not_apply(digits):
    X, y = digits
    with pytest.raises(ValueError, match="one class"):
        foveal.ImageClassifier(model="svm").fit(X[:5], [1] * 5)
    with pytest.raises(ValueError, match="Unknown label type"):
        foveal.ImageClassifier(model="svm").fit(X[:20], np.linspace(0, 1, 20))
    with pytest.raises(ConfigError, match="--lr must be above 0"):
        foveal.ImageClassifier(model="cnn-small", lr=0).fit(X[:20], y[:20])
    with pytest.warns(UserWarning, match="--epochs applies to deep models, not svm"):
        foveal.ImageClassifier(model="svm", features="pixels", epochs=3).fit(X[:60], y[:60])
