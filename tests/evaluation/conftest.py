"""Trained bundles shared by the evaluation tests (built once per session on the PNG fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

import foveal


def _train(tmp_path_factory, data: Path, name: str, **options) -> Path:
    out = tmp_path_factory.mktemp("runs") / name
    return foveal.train(str(data), out=str(out), report=False, **options).run_dir


@pytest.fixture(scope="session")
def faces_runs(tmp_path_factory, faces_folder) -> dict[str, Path]:
    """Three classical binary models on the faces folder."""
    return {
        "svm+hog": _train(tmp_path_factory, faces_folder, "svm-hog", model="svm", features="hog"),
        "random-forest+lbp": _train(tmp_path_factory, faces_folder, "rf-lbp", model="random-forest",
                                    features="lbp", params={"n_estimators": 60, "n_jobs": 1}),
        "knn+pixels": _train(tmp_path_factory, faces_folder, "knn-pixels", model="knn", features="pixels"),
    }


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory, digits_folder) -> Path:
    return _train(tmp_path_factory, digits_folder, "svm-pixels", model="svm", features="pixels")


@pytest.fixture(scope="session")
def multi_run(tmp_path_factory, multidigits_manifest) -> Path:
    return _train(tmp_path_factory, multidigits_manifest, "logistic", model="logistic", features="pixels")
