"""The model surface every consumer uses: embed, predict_bytes, the differentiable view, format 2
(family + runtime) with version 1 still loading, and the class list checked against the model."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import foveal
from foveal.bundle.format import sha256
from foveal.errors import BundleError

V1 = Path(__file__).parent / "fixtures" / "bundle_v1"  # written by foveal 0.1.0 (bundle format 1)


@pytest.fixture(scope="module")
def classical(tmp_path_factory, digits_folder) -> Path:
    return foveal.train(digits_folder, model="logistic", features="hog", out=str(tmp_path_factory.mktemp("c") / "run"),
                        report=False).bundle


@pytest.fixture(scope="module")
def deep(tmp_path_factory, digits_folder) -> Path:
    return foveal.train(digits_folder, model="cnn-small", epochs=2, image_size=16, batch_size=32, workers=1,
                        out=str(tmp_path_factory.mktemp("d") / "run"), report=False).bundle


def test_version_1_bundles_load_and_predict_as_before():
    expected = json.loads((V1 / "expected.json").read_text())
    for name in ("classical", "deep"):
        predictor = foveal.load_bundle(V1 / name)
        assert predictor.family == name and predictor.runtime == {"classical": "sklearn", "deep": "torch"}[name]
        files = [V1 / f for f in expected[name]["files"]]
        images = np.stack([predictor.preprocessing.decode(f) for f in files])
        assert np.allclose(predictor.predict_proba(images), expected[name]["proba"], atol=1e-6)
        assert predictor.embed(images).shape[0] == len(files)


def test_new_bundles_are_format_2_with_family_and_runtime(classical, deep):
    for path, family, runtime in ((classical, "classical", "sklearn"), (deep, "deep", "torch")):
        manifest = json.loads((path / "foveal.json").read_text())
        assert manifest["format_version"] == 2 and "kind" not in manifest
        assert (manifest["family"], manifest["runtime"]) == (family, runtime)


def _images(predictor, folder: Path, n: int = 6) -> tuple[list[Path], np.ndarray]:
    files = sorted(folder.rglob("*.png"))[:n]
    return files, np.stack([predictor.preprocessing.decode(f) for f in files])


def test_embed_is_what_the_classifier_sees(classical, deep, digits_folder):
    c = foveal.load_bundle(classical)
    files, images = _images(c, digits_folder / "test")
    features = c.embed(images)
    expected = c.model.pipeline[:-1].transform(images)
    assert features.dtype == np.float32 and np.allclose(features, expected, atol=1e-5)
    assert np.allclose(c.model.pipeline.steps[-1][1].predict_proba(features), c.predict_proba(images), atol=1e-5)

    d = foveal.load_bundle(deep)
    _, images = _images(d, digits_folder / "test")
    features = d.embed(images)
    assert features.shape == (len(images), d.model.net.num_features)
    logits = d.model.net.get_classifier()(__import__("torch").from_numpy(features)).detach()
    assert np.allclose(d.model.head.proba(logits).numpy(), d.predict_proba(images), atol=1e-5)


def test_predict_bytes_is_thread_safe_and_matches_a_single_call(classical, deep, digits_folder):
    files = sorted((digits_folder / "test").rglob("*.png"))[:16]
    blobs = [f.read_bytes() for f in files] + [b"not an image", b""]
    for bundle in (classical, deep):
        predictor = foveal.load_bundle(bundle)
        single = [predictor.predict_bytes(b, top_k=2, name=str(i)).to_json() for i, b in enumerate(blobs)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(3):
                many = list(pool.map(lambda ib: predictor.predict_bytes(ib[1], top_k=2, name=str(ib[0])).to_json(),
                                     enumerate(blobs * 1)))
                assert many == single
        assert single[-1]["error"] and single[-1]["top_k"] == [] and single[-2]["prediction"] is None
        by_file = predictor.predict_files(files, top_k=2)
        assert [r.to_json()["prediction"] for r in by_file] == [s["prediction"] for s in single[:16]]


def test_differentiable_view_gives_scores_and_a_target_layer(deep, classical, digits_folder):
    import torch

    d = foveal.load_bundle(deep)
    view = d.differentiable()
    _, images = _images(d, digits_folder / "test", 4)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255).requires_grad_(True)
    captured = {}
    view.target_layer.module.register_forward_hook(lambda m, i, o: captured.setdefault("act", o))
    scores = view.module(x)
    assert scores.shape == (4, len(view.classes)) and view.classes == d.classes and view.size == (16, 16)
    assert np.allclose(scores.softmax(1).detach().numpy(), d.predict_proba(images), atol=1e-5)
    scores[:, 0].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    act = view.target_layer.to_map(captured["act"])
    assert act.ndim == 4 and act.shape[-1] >= 2  # a spatial map, not a pooled vector
    with pytest.raises(BundleError, match="no differentiable view"):
        foveal.load_bundle(classical).differentiable()


def test_vit_target_layer_is_laid_out_as_a_grid():
    import torch

    from foveal.deep.models import build_model
    from foveal.deep.views import default_target_layer

    net = build_model("vit_tiny_patch16_224", 3, 4, {"img_size": [32, 32]}).eval()
    layer = default_target_layer(net)
    assert layer.tokens and layer.grid == (2, 2) and layer.prefix_tokens == net.num_prefix_tokens
    seen = {}
    layer.module.register_forward_hook(lambda m, i, o: seen.setdefault("a", o))
    net(torch.zeros(1, 3, 32, 32))
    assert layer.to_map(seen["a"]).shape == (1, net.embed_dim, 2, 2)


def _edited(bundle: Path, dest: Path, edit) -> Path:
    shutil.copytree(bundle, dest)
    manifest = json.loads((dest / "foveal.json").read_text())
    edit(manifest)
    (dest / "foveal.json").write_text(json.dumps(manifest))
    return dest


@pytest.mark.parametrize("which", ["classical", "deep"])
def test_a_class_list_that_does_not_fit_the_model_is_refused(which, classical, deep, tmp_path):
    bundle = {"classical": classical, "deep": deep}[which]
    added = _edited(bundle, tmp_path / "added", lambda m: m["task"]["classes"].append("extra"))
    with pytest.raises(BundleError, match="edited or damaged"):
        foveal.load_bundle(added)
    fewer = _edited(bundle, tmp_path / "fewer", lambda m: m["task"].update(classes=m["task"]["classes"][:3]))
    with pytest.raises(BundleError, match="edited or damaged"):
        foveal.load_bundle(fewer)


def test_damaged_weights_are_called_damaged(deep, tmp_path, capsys):
    from foveal.cli import main

    bad = tmp_path / "bad"
    shutil.copytree(deep, bad)
    data = b"\xff" * 64 + (bad / "weights.safetensors").read_bytes()[64:]
    (bad / "weights.safetensors").write_bytes(data)
    manifest = json.loads((bad / "foveal.json").read_text())
    manifest["files"]["weights.safetensors"] = sha256(data)
    (bad / "foveal.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="is damaged"):
        foveal.load_bundle(bad)
    code = main(["-q", "train", "faces", "--init-from", str(bad), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "is damaged" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_derived_bundles_can_add_replace_and_drop_artifacts(classical, tmp_path):
    from foveal.bundle.derive import derive_bundle

    parent = foveal.load_bundle(classical)
    child = derive_bundle(parent, tmp_path / "child", {"note": "test"}, "export",
                          files={"extra.bin": b"123"}, drop=("estimator.skops",))
    manifest = json.loads((child / "foveal.json").read_text())
    assert set(manifest["files"]) == {"extra.bin"} and (child / "extra.bin").read_bytes() == b"123"
    assert not (child / "estimator.skops").exists()
    assert manifest["lineage"]["parent"]["operation"] == "export" and manifest["note"] == "test"
