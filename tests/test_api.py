"""The Python API mirrors the CLI, and classical models are real scikit-learn Pipelines."""

from __future__ import annotations

from sklearn.model_selection import GridSearchCV, cross_val_score

import foveal
from helpers import small
from foveal.classical.pipeline import build_pipeline
from foveal.data.images import infer_preprocessing, load_images


def test_train_api_returns_bundle_and_metrics(tmp_path):
    ds = small("textures", 20)
    result = foveal.train(ds, model="random-forest", features="lbp", out=str(tmp_path / "run"),
                          params={"n_estimators": 50})
    assert result.bundle.is_dir() and result.task == "multiclass"
    assert result.metrics["metrics"]["accuracy"] > 0.7
    evaluated = foveal.evaluate(result.bundle, ds)
    assert evaluated["split"] == "test" and evaluated["n"] == len(ds.select("test"))


def test_pipeline_works_with_sklearn_model_selection():
    ds = small("digits", 15)
    prep = infer_preprocessing(ds)
    loaded = load_images(ds, prep)
    y = ds.task.encode(ds.labels)
    pipe = build_pipeline("pixels", "logistic", ds.task)
    scores = cross_val_score(pipe, loaded.images, y, cv=3)
    assert scores.mean() > 0.8
    # C reaches the classifier: a vanishing C (all regularisation) scores far lower than C=1
    search = GridSearchCV(build_pipeline("pixels", "logistic", ds.task), {"clf__C": [1e-6, 1.0]}, cv=2)
    search.fit(loaded.images, y)
    scores = dict(zip(search.cv_results_["param_clf__C"], search.cv_results_["mean_test_score"]))
    assert search.best_params_["clf__C"] == 1.0 and scores[1.0] > scores[1e-6] + 0.15, scores
