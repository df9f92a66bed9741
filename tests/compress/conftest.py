"""Session bundles for the compression tests: a tiny cnn-small on the digits PNG folder (16 px),
its ONNX export, and a logistic-on-pixels classical bundle."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def deep_bundle(tmp_path_factory, digits_folder) -> Path:
    from foveal.config import resolve
    from foveal.progress import quiet
    from foveal.runs.pipeline import run_training

    out = tmp_path_factory.mktemp("compress") / "teacher"
    cfg = resolve(None, {"data": str(digits_folder), "model": "cnn-small", "image_size": 16, "epochs": 4,
                         "batch_size": 32, "report": False, "workers": 1, "out": str(out)})
    with quiet():
        return run_training(cfg).bundle


@pytest.fixture(scope="session")
def onnx_bundle(tmp_path_factory, deep_bundle) -> Path:
    from foveal.compress.export import export_bundle

    return export_bundle(deep_bundle, tmp_path_factory.mktemp("exported") / "onnx").bundle


@pytest.fixture(scope="session")
def classical_bundle(tmp_path_factory, digits_folder) -> Path:
    from foveal.config import resolve
    from foveal.progress import quiet
    from foveal.runs.pipeline import run_training

    out = tmp_path_factory.mktemp("classical") / "logistic"
    cfg = resolve(None, {"data": str(digits_folder), "model": "logistic", "features": "pixels", "report": False,
                         "out": str(out)})
    with quiet():
        return run_training(cfg).bundle
