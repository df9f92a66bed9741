"""Small real-data checks that each main extractor still separates classes."""

from __future__ import annotations

import numpy as np
import pytest
import skops.io as sio
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from foveal.features import create_features


def _pipeline(spec: str, **svc_params: object) -> Pipeline:
    return Pipeline([("features", create_features(spec)), ("scale", StandardScaler()), ("clf", SVC(**svc_params))])


def _held_out_accuracy(spec: str, X: np.ndarray, y: np.ndarray) -> float:
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    return _pipeline(spec).fit(X_train, y_train).score(X_test, y_test)


def test_digits_pixels(digits):
    X, y = digits
    assert _held_out_accuracy("pixels", X[:300], y[:300]) > 0.9


def test_faces_hog(faces):
    assert _held_out_accuracy("hog", *faces) > 0.9


def test_textures_lbp(textures):
    X_train, y_train, X_test, y_test = textures
    assert _pipeline("lbp").fit(X_train, y_train).score(X_test, y_test) > 0.9


def test_cross_val_score_on_pipeline(faces):
    X, y = faces
    scores = cross_val_score(_pipeline("hog,lbp"), X[::2], y[::2], cv=3)
    assert scores.mean() > 0.85


@pytest.mark.filterwarnings("ignore:The `probability` parameter:FutureWarning")  # deprecated in sklearn 1.9
def test_fitted_pipeline_survives_skops(faces):
    X, y = faces
    model = _pipeline("hog,lbp", probability=True).fit(X, y)
    blob = sio.dumps(model)
    loaded = sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))
    np.testing.assert_array_equal(model.predict_proba(X[:20]), loaded.predict_proba(X[:20]))
