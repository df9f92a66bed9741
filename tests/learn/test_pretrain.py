"""foveal pretrain: every method through the CLI, resume, backbone bundles and where they are accepted."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from safetensors.torch import load_file

from helpers import run_cli
from learn_helpers import FAST, pretrain

import foveal
from foveal.errors import BundleError


@pytest.mark.parametrize("method", ["simclr", "byol", "rotation", "colorization", "inpainting", "autoencoder"])
def test_each_method_writes_a_backbone_bundle_and_run_folder(capsys, tmp_path, tiny_digits, colour_digits, method):
    data = colour_digits if method == "colorization" else tiny_digits
    run = pretrain(capsys, data, tmp_path / method, method)
    manifest = json.loads((run / "model" / "foveal.json").read_text())
    assert manifest["purpose"] == "backbone" and manifest["family"] == "deep" and manifest["runtime"] == "torch"
    assert manifest["task"]["type"] == "embedding" and manifest["model"]["num_outputs"] == 0
    assert manifest["pretraining"]["method"] == method == yaml.safe_load((run / "config.yaml").read_text())["method"]
    history = (run / "metrics.csv").read_text().splitlines()
    assert history[0].startswith("epoch,train_loss") and len(history) == 3
    assert np.isfinite([float(line.split(",")[1]) for line in history[1:]]).all()
    assert (run / "curves.png").is_file() and (run / "checkpoints" / "last.safetensors").is_file()
    weights = load_file(str(run / "model" / "weights.safetensors"))
    assert not any(k.startswith(("heads.", "target.")) for k in weights)  # the backbone only
    predictor = foveal.load_bundle(run)
    images = np.zeros((2, 16, 16, 3 if method == "colorization" else 1), dtype=np.uint8)
    assert predictor.purpose == "backbone" and predictor.embed(images).shape == (2, 128)
    with pytest.raises(BundleError, match="is a backbone bundle"):
        predictor.predict_proba(images)


def _interrupt_after_first_epoch(monkeypatch):
    from foveal.deep.callbacks import ConsoleProgress

    def stop(self, loop, record, improved):
        loop.stop.reason = "SIGTERM"

    monkeypatch.setattr(ConsoleProgress, "on_epoch_end", stop)


def test_resume_continues_byol_to_the_uninterrupted_weights(capsys, tmp_path, tiny_digits, monkeypatch):
    args = ["--method", "byol", "--epochs", "2", "--deterministic", *FAST]
    code, _, err = run_cli(capsys, "--quiet", "pretrain", tiny_digits, "--out", tmp_path / "whole", *args)
    assert code == 0, err
    with monkeypatch.context() as patch:
        _interrupt_after_first_epoch(patch)
        code, _, err = run_cli(capsys, "--quiet", "pretrain", tiny_digits, "--out", tmp_path / "cut", *args)
    assert code == 143 and not (tmp_path / "cut" / "model").exists()
    code, _, err = run_cli(capsys, "--quiet", "pretrain", "--resume", tmp_path / "cut")
    assert code == 0, err
    whole = load_file(str(tmp_path / "whole" / "model" / "weights.safetensors"))
    resumed = load_file(str(tmp_path / "cut" / "model" / "weights.safetensors"))
    assert whole.keys() == resumed.keys()
    assert all(np.array_equal(whole[k].numpy(), resumed[k].numpy()) for k in whole)
    last = load_file(str(tmp_path / "cut" / "checkpoints" / "last.safetensors"))
    assert any(k.startswith("model/target.") for k in last)  # the momentum target is checkpointed too


def test_train_pretrained_accepts_a_backbone_bundle(capsys, tmp_path, tiny_digits):
    backbone = pretrain(capsys, tiny_digits, tmp_path / "pt", "rotation", "--epochs", "1") / "model"
    code, out, err = run_cli(capsys, "train", tiny_digits, "--pretrained", backbone, "--epochs", "1", "--out",
                             tmp_path / "ft", "--no-report", *FAST)
    assert code == 0, err
    assert "pretrained weights: 30 of 32 tensors loaded, 2 re-initialised (fc.bias, fc.weight), 0 skipped" in err
    manifest = json.loads((tmp_path / "ft" / "model" / "foveal.json").read_text())
    assert manifest["model"]["architecture"] == "cnn-small" and manifest["task"]["type"] == "multiclass"
    code, _, err = run_cli(capsys, "train", tiny_digits, "--pretrained", backbone, "--model", "resnet18",
                           "--out", tmp_path / "ft2")
    assert code == 2 and "holds a cnn-small network, but --model is resnet18" in err


def test_pretrain_refusals(capsys, tmp_path, tiny_digits):
    code, _, err = run_cli(capsys, "pretrain", tiny_digits, "--method", "colorization", "--out", tmp_path / "a", *FAST)
    assert code == 2 and "the data is grayscale" in err
    code, _, err = run_cli(capsys, "pretrain", tiny_digits, "--mixup", "0.2")
    assert code == 2 and "No such option" in err
    (tmp_path / "c.yaml").write_text("mixup: 0.2\n")
    code, _, err = run_cli(capsys, "pretrain", tiny_digits, "--config", tmp_path / "c.yaml", "--out", tmp_path / "c")
    assert code == 2 and "--mixup cannot be used with foveal pretrain" in err
    code, _, err = run_cli(capsys, "train", tiny_digits, "--method", "simclr")
    assert code == 2 and "No such option" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "c").exists()
