"""fit_deep without a run folder, bundle round trip, lr-find, data preview, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from deep_helpers import run_cli, train_deep
from foveal.data.task import MulticlassTask


def test_in_memory_fit_and_bundle_round_trip(tmp_path):
    from foveal.bundle import load_bundle
    from foveal.bundle.format import save_bundle
    from foveal.config import resolve
    from foveal.data.dataset import Dataset
    from foveal.runs.pipeline import fit_model

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    x = (rng.random((90, 12, 12, 1)) * 60 + y[:, None, None, None] * 60).astype(np.uint8)  # brightness = class
    task = MulticlassTask(["a", "b", "c"])
    ds = Dataset(name="bright", source="array", task=task, labels=[task.classes[i] for i in y],
                 split=["train"] * 60 + ["val"] * 30, images=x)
    cfg = resolve(None, dict(model="cnn-small", epochs=6, batch_size=16, lr=3e-3, augment="none"))
    fitted, data = fit_model(cfg, ds)
    assert fitted.summary["epochs"] == 6 and fitted.summary["metric"] == "accuracy"
    proba = fitted.model.predict_proba(data.val.loaded.images)
    assert proba.shape == (30, 3) and np.allclose(proba.sum(axis=1), 1)
    assert (proba.argmax(1) == data.val.targets()).mean() > 0.5
    manifest = {"family": "deep", "runtime": "torch", "task": task.to_json(), "model": fitted.spec,
                "preprocessing": data.prep.to_json()}
    bundle = save_bundle(tmp_path / "model", manifest, fitted.model.files())
    predictor = load_bundle(bundle)
    assert predictor.family == "deep"
    assert np.array_equal(predictor.predict_proba(data.val.loaded.images), proba)


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
    # 32 px model input (8 px digits scaled up), 2 px padding, shown 3× so tiles are at least 96 px;
    # each row: a class-name strip at the left, the original, then 5 augmented copies
    assert image.height == 3 * (4 * 34 + 2)
    assert image.width > 3 * (6 * 34 + 2)


@pytest.mark.parametrize("args, message", [
    (["--optimizer", "adamx"], "unknown --optimizer 'adamx'"),
    (["--schedule", "linear"], "unknown --schedule 'linear'"),
    (["--augment", "extreme"], "unknown --augment 'extreme'"),
    (["--loss", "hinge"], "unknown --loss 'hinge'"),
    (["--epochs", "0"], "--epochs must be at least 1, got 0"),
    (["--lr", "abc"], "--lr 'abc' is not a number"),
    (["--seed", "-5"], "--seed must be at least 0, got -5"),
    (["--image-size", "100000"], "--image-size must be at most 2048, got 100000"),
    (["--max-skip-ratio", "2"], "--max-skip-ratio must be at most 1, got 2"),
    (["--dropout", "1"], "--dropout must be below 1, got 1"),
    (["--freeze-backbone"], "--freeze-backbone freezes a backbone, but no trained backbone is given"),
    (["--unfreeze-after", "2"], "--unfreeze-after freezes a backbone, but no trained backbone is given"),
    (["--features", "lbp"], "--features applies to classical models, not cnn-small (a deep model)"),
    (["--mixup", "0.2", "--loss", "focal"], "--loss focal cannot take Mixup"),
    (["--hierarchical-softmax"], "--hierarchical-softmax needs a hierarchical task"),
    (["--pretrained", "missing.safetensors"], "--pretrained missing.safetensors does not exist"),
    (["--image-size", "huge"], "--image-size 'huge' is not a whole number or auto or model"),
    (["--zoom", "0.9"], "--zoom needs two numbers MIN,MAX"),
    (["--hflip", "1.5"], "--hflip must be at most 1, got 1.5"),
])
def test_bad_deep_options_are_one_line_errors(capsys, tmp_path, monkeypatch, faces_folder, args, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "train", faces_folder, "--model", "cnn-small", "--out", tmp_path / "r", *args)
    assert code == 2, err
    assert err.startswith("foveal: error: ") and message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists() and not (tmp_path / "runs").exists()  # a rejected command leaves nothing


def test_mixup_on_multilabel_and_unknown_model_are_refused(capsys, tmp_path, multidigits_manifest):
    code, _, err = run_cli(capsys, "train", multidigits_manifest, "--model", "cnn-small", "--mixup", "0.2",
                           "--out", tmp_path / "r")
    assert code == 2 and "single-label tasks, not multilabel" in err
    code, _, err = run_cli(capsys, "lr-find", multidigits_manifest, "--model", "resnet-huge")
    assert code == 2 and "unknown model 'resnet-huge'" in err


def test_mixup_cutmix_amp_and_channels_last_through_the_cli(capsys, tmp_path, faces_folder):
    """The options reach the run (their effects are proven in test_trainer_behaviour); the model it ships
    predicts proper distributions."""
    import foveal

    run = train_deep(capsys, tmp_path / "run", faces_folder, "--model", "cnn-small", "--epochs", "2",
                     "--mixup", "0.2", "--cutmix", "1.0", "--amp", "--channels-last", "--augment", "strong")
    manifest = json.loads((run / "model" / "foveal.json").read_text())
    config = manifest["lineage"]["config"]
    assert (config["mixup"], config["cutmix"], config["amp"], config["channels_last"]) == (0.2, 1.0, True, True)
    assert manifest["training"]["updates"] > 0 and "erase" in manifest["training"]["augmentation"]
    predictor = foveal.load_bundle(run)
    images = np.stack([predictor.preprocessing.decode(p) for p in sorted(faces_folder.rglob("*.png"))[:4]])
    proba = predictor.predict_proba(images)
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1, atol=1e-5)


def test_python_api_trains_deep_models(tmp_path, faces_folder):
    import foveal

    result = foveal.train(faces_folder, model="cnn-small", epochs=1, image_size=16, out=str(tmp_path / "run"),
                          report=False, workers=1)
    predictor = foveal.load_bundle(result.bundle)
    assert predictor.family == "deep" and result.task == "binary" and result.preprocessing["size"] == [16, 16]
    assert foveal.evaluate(result.bundle, faces_folder)["n"] > 0


def test_diverging_training_stops_with_a_one_line_error(capsys, tmp_path, digits_folder):
    code, _, err = run_cli(capsys, "-q", "train", digits_folder, "--model", "cnn-small", "--epochs", "2",
                           "--lr", "1e30", "--batch-size", "16", "--out", tmp_path / "run", "--no-report")
    assert code == 2 and "the training loss became nan at epoch 1" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()  # nothing was saved, so the folder is gone again


@pytest.mark.parametrize("data, model, side", [
    ("digits", "cnn-small", 16),  # 8 px, one object: cnn-small's 2×2 final map is enough
    ("digit-taxonomy", "cnn-small", 16),
    ("faces", "cnn-small", 25),  # already above 16: its own size
    ("multidigits", "cnn-small", 32),  # several objects per image keep 32
    ("digits", "resnet18", 32),  # timm networks downsample 32×
])
def test_auto_image_size_depends_on_model_and_task(data, model, side):
    from foveal.config import resolve
    from foveal.data.load import load_dataset
    from foveal.runs.data import training_pool
    from foveal.runs.deep import deep_preprocessing

    cfg = resolve(None, {"data": data, "model": model})
    prep = deep_preprocessing(cfg, training_pool(load_dataset(data, "auto")), None)
    assert prep.size == (side, side)
    assert deep_preprocessing(cfg, training_pool(load_dataset(data, "auto")), None, supervised=False).size \
        == (max(side, 32),) * 2  # pretraining keeps 32
    tuned = resolve(None, {"data": data, "model": model, "pretrained": "backbone.safetensors"})
    assert deep_preprocessing(tuned, training_pool(load_dataset(data, "auto")), None).size == (max(side, 32),) * 2
