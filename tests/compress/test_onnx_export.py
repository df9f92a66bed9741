"""foveal export and the onnx runtime: parity on real images, refusal, torch-free prediction."""

from __future__ import annotations

import json

import numpy as np
import pytest

from compress_helpers import cli_without_torch, manifest
from foveal.errors import BundleError
from helpers import run_cli


def test_export_records_parity_and_predicts_like_torch(deep_bundle, onnx_bundle, digits_folder):
    import foveal
    from foveal.data.load import load_dataset

    m = manifest(onnx_bundle)
    assert m["runtime"] == "onnx" and set(m["files"]) == {"model.onnx"}
    assert m["export"]["opset"] == 17 and m["export"]["input"]["dtype"] == "uint8"
    parity = m["export"]["parity"]
    assert parity["passed"] and parity["decisions_identical"] and parity["max_abs_diff"] <= 1e-4 and parity["n"] > 50
    assert m["lineage"]["parent"]["operation"] == "export"
    torch_p, onnx_p = foveal.load_bundle(deep_bundle), foveal.load_bundle(onnx_bundle)
    test = load_dataset(digits_folder, torch_p.task).select("test")
    a, loaded = torch_p.predict_dataset(test)
    b = onnx_p.predict_proba(loaded.images)
    assert np.abs(a - b).max() <= 1e-4
    assert (a.argmax(1) == b.argmax(1)).all()
    ea, eb = torch_p.embed(loaded.images[:8]), onnx_p.embed(loaded.images[:8])
    assert ea.shape == eb.shape and np.allclose(ea, eb, atol=1e-4)
    assert onnx_p.predict_proba(loaded.images[:1]).shape == (1, 10)  # dynamic batch
    with pytest.raises(BundleError, match="no differentiable view"):
        onnx_p.differentiable()


def test_export_refuses_when_parity_fails(capsys, monkeypatch, deep_bundle, tmp_path):
    import torch

    from foveal.compress import export
    from foveal.compress.graph import export_onnx
    from foveal.deep.heads import SoftmaxHead
    from foveal.deep.models import CnnSmall

    def other_network(predictor, opset=17):  # a network that is not the bundle's: parity must catch it
        torch.manual_seed(1)
        prep = predictor.preprocessing
        return export_onnx(CnnSmall(1, 10), SoftmaxHead(10), [0.5], [0.25], prep.size, prep.channels, opset)

    monkeypatch.setattr(export, "graph_bytes", other_network)
    code, out, err = run_cli(capsys, "export", deep_bundle, "--out", tmp_path / "bad")
    assert code == 1
    assert "fails parity" in err and "no bundle written" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()


def test_predict_with_onnx_bundle_never_imports_torch(onnx_bundle, digits_folder):
    done = cli_without_torch("predict", onnx_bundle, digits_folder / "test" / "3", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert len(rows) > 2 and sum(r["prediction"] == "3" for r in rows) >= len(rows) - 1
    assert "TORCH-MODULES []" in done.stderr
    blocked = cli_without_torch("eval", onnx_bundle, digits_folder)
    assert blocked.returncode == 0 and "accuracy" in blocked.stdout and "TORCH-MODULES []" in blocked.stderr


def test_runtime_option_picks_the_back_end(capsys, deep_bundle, onnx_bundle, digits_folder, tmp_path):
    code, _, err = run_cli(capsys, "eval", deep_bundle, digits_folder, "--runtime", "onnx", "--json", tmp_path / "a.json")
    assert code == 0, err
    code, _, _ = run_cli(capsys, "eval", deep_bundle, digits_folder, "--json", tmp_path / "b.json")
    a, b = (json.loads((tmp_path / n).read_text())["metrics"]["accuracy"] for n in ("a.json", "b.json"))
    assert a == b
    code, _, err = run_cli(capsys, "predict", onnx_bundle, digits_folder / "test" / "3", "--runtime", "torch")
    assert code == 2 and "holds no torch model" in err and "parent" in err


def test_classical_export_pixels_logistic(capsys, classical_bundle, tmp_path, digits_folder):
    code, out, err = run_cli(capsys, "export", classical_bundle, "--out", tmp_path / "clf")
    assert code == 0, err
    m = manifest(tmp_path / "clf")
    assert m["runtime"] == "onnx" and m["family"] == "classical" and m["export"]["parity"]["passed"]
    done = cli_without_torch("predict", tmp_path / "clf", digits_folder / "test" / "7", "--format", "csv")
    assert done.returncode == 0 and "TORCH-MODULES []" in done.stderr


def test_classical_export_refuses_features_onnx_cannot_express(capsys, digits_folder, tmp_path):
    code, _, err = run_cli(capsys, "--quiet", "train", digits_folder, "--model", "knn", "--features", "hog",
                           "--out", tmp_path / "hog", "--no-report")
    assert code == 0
    code, _, err = run_cli(capsys, "export", tmp_path / "hog", "--out", tmp_path / "x")
    assert code == 2 and "'hog' features" in err and not (tmp_path / "x").exists()


@pytest.mark.parametrize("task_kind", ["hierarchical", "multilabel"])
def test_graph_holds_every_head(task_kind):
    import torch

    from foveal.bundle.onnx import OnnxModel
    from foveal.compress.graph import export_onnx
    from foveal.data.task import HierarchicalTask, MultilabelTask
    from foveal.deep.heads import make_head
    from foveal.deep.models import CnnSmall

    task = HierarchicalTask(["a/x", "a/y", "b/z"]) if task_kind == "hierarchical" else MultilabelTask(["p", "q"])
    head = make_head(task)
    torch.manual_seed(0)
    net = CnnSmall(3, head.n_outputs).eval()
    model = OnnxModel(export_onnx(net, head, [0.4, 0.5, 0.6], [0.2, 0.25, 0.3], (16, 16), 3))
    images = np.random.default_rng(0).integers(0, 256, size=(5, 16, 16, 3), dtype=np.uint8)
    x = (torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 - torch.tensor([0.4, 0.5, 0.6]).view(1, 3, 1, 1)) \
        / torch.tensor([0.2, 0.25, 0.3]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = head.proba(net(x)).numpy()
    assert np.abs(model.predict_proba(images) - expected).max() <= 1e-5
    assert model.embed(images).shape == (5, 128)
