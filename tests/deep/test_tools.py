"""fit_deep without a run folder, bundle round trip, lr-find, data preview, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from deep_helpers import run_cli, train_deep
from foveal.config import TrainConfig
from foveal.data.task import MulticlassTask


def test_fit_deep_api_and_bundle_round_trip(tmp_path):
    from foveal.bundle import load_bundle
    from foveal.bundle.format import save_bundle
    from foveal.deep.trainer import fit_deep

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    x = (rng.random((90, 12, 12, 1)) * 60 + y[:, None, None, None] * 60).astype(np.uint8)  # brightness = class
    cfg = TrainConfig(model="cnn-small", epochs=3, batch_size=16, lr=3e-3, augment="none")
    model, history = fit_deep(cfg, x[:60], y[:60], x[60:], y[60:], MulticlassTask(["a", "b", "c"]))
    assert [h["epoch"] for h in history] == [1, 2, 3] and history[-1]["accuracy"] > 0.5
    proba = model.predict_proba(x[60:])
    assert proba.shape == (30, 3) and np.allclose(proba.sum(axis=1), 1)
    manifest = {"kind": "deep", "task": MulticlassTask(["a", "b", "c"]).to_json(), "model": model.spec,
                "preprocessing": {"size": [12, 12], "channels": 1, "mean": model.mean.tolist(),
                                  "std": model.std.tolist()}}
    bundle = save_bundle(tmp_path / "model", manifest, model.files())
    predictor = load_bundle(bundle)
    assert predictor.kind == "deep"
    assert np.array_equal(predictor.predict_proba(x[60:]), proba)


def test_lr_find_writes_plot_and_suggestion(capsys, tmp_path, faces_folder):
    out = tmp_path / "lr.png"
    code, stdout, err = run_cli(capsys, "lr-find", faces_folder, "--model", "cnn-small", "--steps", "30",
                                "--out", out, "--image-size", "16", "--batch-size", "16")
    assert code == 0, err
    result = json.loads(out.with_suffix(".json").read_text())
    assert 1e-6 <= result["suggested"] <= 1 and len(result["lrs"]) == len(result["losses"]) >= 10
    assert "suggested learning rate" in stdout
    assert Image.open(out).format == "PNG"


def test_data_preview_writes_a_grid(capsys, tmp_path, digits_folder):
    out = tmp_path / "preview.png"
    code, _, err = run_cli(capsys, "data", "preview", digits_folder, "--augment", "standard", "--out", out,
                           "--n", "4", "--copies", "5")
    assert code == 0, err
    image = Image.open(out)
    assert image.format == "PNG" and image.mode == "L"
    # 32 px model input (8 px digits scaled up), 2 px padding, shown 3× so tiles are at least 96 px
    assert image.size == (3 * (5 * 34 + 2), 3 * (4 * 34 + 2))


@pytest.mark.parametrize("args, message", [
    (["--optimizer", "adamx"], "unknown --optimizer 'adamx'"),
    (["--schedule", "linear"], "unknown --schedule 'linear'"),
    (["--augment", "extreme"], "unknown --augment 'extreme'"),
    (["--loss", "hinge"], "unknown --loss 'hinge'"),
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--mixup", "0.2", "--loss", "focal"], "--loss focal cannot take Mixup"),
    (["--hierarchical-softmax"], "--hierarchical-softmax needs a hierarchical task"),
    (["--pretrained", "missing.safetensors"], "--pretrained missing.safetensors does not exist"),
    (["--image-size", "huge"], "--image-size 'huge' is not a number"),
])
def test_bad_deep_options_are_one_line_errors(capsys, tmp_path, monkeypatch, faces_folder, args, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "train", faces_folder, "--model", "cnn-small", "--out", tmp_path / "r", *args)
    assert code == 2, err
    assert err.startswith("foveal: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_mixup_on_multilabel_and_unknown_model_are_refused(capsys, tmp_path, multidigits_manifest):
    code, _, err = run_cli(capsys, "train", multidigits_manifest, "--model", "cnn-small", "--mixup", "0.2",
                           "--out", tmp_path / "r")
    assert code == 2 and "single-label tasks, not multilabel" in err
    code, _, err = run_cli(capsys, "lr-find", multidigits_manifest, "--model", "resnet-huge")
    assert code == 2 and "unknown model 'resnet-huge'" in err


def test_mixup_cutmix_and_amp_train(capsys, tmp_path, faces_folder):
    run = train_deep(capsys, tmp_path / "run", faces_folder, "--model", "cnn-small", "--epochs", "1",
                     "--mixup", "0.2", "--cutmix", "1.0", "--amp", "--channels-last", "--augment", "strong")
    assert (run / "model" / "weights.safetensors").is_file()


def test_python_api_trains_deep_models(tmp_path, faces_folder):
    import foveal

    result = foveal.train(faces_folder, model="cnn-small", epochs=1, image_size=16, out=str(tmp_path / "run"),
                          report=False, workers=1)
    predictor = foveal.load_bundle(result.bundle)
    assert predictor.kind == "deep" and result.task == "binary" and result.preprocessing["size"] == [16, 16]
    assert foveal.evaluate(result.bundle, faces_folder)["n"] > 0


def test_diverging_training_stops_with_a_one_line_error(capsys, tmp_path, digits_folder):
    code, _, err = run_cli(capsys, "-q", "train", digits_folder, "--model", "cnn-small", "--epochs", "2",
                           "--lr", "1e30", "--batch-size", "16", "--out", tmp_path / "run", "--no-report")
    assert code == 2 and "the training loss became nan at epoch 1" in err and "Traceback" not in err
    assert not (tmp_path / "run" / "model").exists()
