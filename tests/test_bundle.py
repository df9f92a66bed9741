"""Bundles: written atomically, loaded safely, never unpickled."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

import foveal
from foveal.bundle.format import sha256
from foveal.errors import BundleError

SENTINEL = "foveal-pickle-ran"


class Exploit:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (Path.touch, (Path(self.target),))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, digits_folder) -> Path:
    result = foveal.train(digits_folder, model="svm", features="pixels",
                          out=str(tmp_path_factory.mktemp("b") / "run"))
    return result.bundle


def copy_with(bundle: Path, dest: Path, name: str, data: bytes) -> Path:
    """A copy of ``bundle`` whose file ``name`` is replaced, with the manifest hash updated to match."""
    shutil.copytree(bundle, dest)
    (dest / name).write_bytes(data)
    manifest = json.loads((dest / "foveal.json").read_text())
    manifest["files"][name] = sha256(data)
    (dest / "foveal.json").write_text(json.dumps(manifest))
    return dest


def test_load_from_bundle_run_folder_and_manifest(bundle, digits_folder):
    for where in (bundle, bundle.parent, bundle / "foveal.json"):
        predictor = foveal.load_bundle(where)
        assert (predictor.family, predictor.runtime) == ("classical", "sklearn") and predictor.classes == [str(d) for d in range(10)]
    images = np.stack([predictor.preprocessing.decode(p) for p in sorted((digits_folder / "test" / "4").glob("*.png"))])
    proba = predictor.predict_proba(images)
    assert proba.shape == (len(images), 10) and np.allclose(proba.sum(axis=1), 1)
    assert sum(p.label == "4" for p in predictor.predict(images)) >= len(images) - 2


def test_pickle_is_refused_and_never_runs(bundle, tmp_path):
    target = tmp_path / SENTINEL
    bad = copy_with(bundle, tmp_path / "bad", "estimator.skops", pickle.dumps(Exploit(str(target))))
    with pytest.raises(BundleError, match="not a skops file"):
        foveal.load_bundle(bad)
    assert not target.exists()


def test_untrusted_type_is_refused_and_never_runs(bundle, tmp_path):
    from sklearn.preprocessing import FunctionTransformer

    target = tmp_path / SENTINEL
    evil = FunctionTransformer(func=os.system, kw_args={"command": f"touch {target}"})
    bad = copy_with(bundle, tmp_path / "bad", "estimator.skops", sio.dumps(evil))
    with pytest.raises(BundleError, match="not trusted"):
        foveal.load_bundle(bad)
    assert not target.exists()


def test_tampered_file_is_refused(bundle, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(bundle, bad)
    data = bytearray((bad / "estimator.skops").read_bytes())
    data[-10] ^= 0xFF
    (bad / "estimator.skops").write_bytes(bytes(data))
    with pytest.raises(BundleError, match="does not match the hash"):
        foveal.load_bundle(bad)


@pytest.mark.parametrize("mutate, message", [
    (lambda m: m.update(format="other"), "not a foveal bundle manifest"),
    (lambda m: m.update(format_version=99), "newer than this foveal"),
    (lambda m: m.update(family="quantum"), "names model family 'quantum'"),
    (lambda m: m.update(runtime="tpu-magic"), "has no 'tpu-magic' runtime"),
])
def test_bad_manifests(bundle, tmp_path, mutate, message):
    bad = tmp_path / "bad"
    shutil.copytree(bundle, bad)
    manifest = json.loads((bad / "foveal.json").read_text())
    mutate(manifest)
    (bad / "foveal.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=message):
        foveal.load_bundle(bad)


def test_save_is_atomic_and_never_overwrites(tmp_path):
    from foveal.bundle.format import save_bundle

    kind = {"family": "classical", "runtime": "sklearn"}
    dest = save_bundle(tmp_path / "model", kind, {"a.bin": b"1"})
    with pytest.raises(BundleError, match="already exists"):
        save_bundle(dest, kind, {"a.bin": b"2"})
    assert (dest / "a.bin").read_bytes() == b"1"
    with pytest.raises(TypeError):
        save_bundle(tmp_path / "other", kind, {"a.bin": object()})  # type: ignore[dict-item]
    with pytest.raises(BundleError, match="cannot be written"):
        save_bundle(tmp_path / "other", kind, {"../escape.bin": b"1"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_lineage_and_metrics_recorded(bundle):
    manifest = json.loads((bundle / "foveal.json").read_text())
    lineage = manifest["lineage"]
    assert lineage["parent"] is None and lineage["config"]["model"] == "svm"
    assert {"python", "foveal", "scikit-learn", "numpy"} <= set(lineage["versions"])
    assert manifest["metrics"]["val"]["accuracy"] > 0.8
    assert manifest["files"]["estimator.skops"] == sha256((bundle / "estimator.skops").read_bytes())
