"""Fixtures of the serve tests: a trained bundle and one real `foveal serve` process shared by the module."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

pytest.importorskip("fastapi", reason="the serve extra is not installed (pip install 'foveal[serve]')")


@pytest.fixture(scope="session")
def digits_bundle(tmp_path_factory, digits_folder) -> Path:
    """An SVM on pixels of the digits folder (about a second to train)."""
    import foveal

    out = tmp_path_factory.mktemp("serve-run") / "svm"
    result = foveal.train(str(digits_folder), model="svm", features="pixels", out=str(out), report=False)
    return Path(result.bundle)


@pytest.fixture(scope="session")
def served(tmp_path_factory, digits_bundle):
    """`foveal serve digits=BUNDLE` with feedback on and a small pixel limit, for the whole session."""
    from server_helpers import foveal_serve

    tmp = tmp_path_factory.mktemp("served")
    server = foveal_serve(tmp, f"digits={digits_bundle}", "--feedback-dir", str(tmp / "feedback"),
                          "--max-pixels", "1000000", "--max-files", "8", "--rate-limit", "0").wait_ready()
    server.feedback_dir = tmp / "feedback"
    yield server
    server.stop()
