"""Transfer learning: --pretrained really is used, weights-only .pth files, --init-from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from deep_helpers import run_cli, train_deep
from foveal.deep.transfer import transfer_summary

PROBE = ["--model", "cnn-small", "--epochs", "4", "--lr", "1e-2", "--freeze-backbone", "--augment", "none",
         "--warmup-epochs", "0"]


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory, digits_folder) -> Path:
    """cnn-small trained on digits 0-9: the 'pretrained' network for the shape-family task."""
    out = tmp_path_factory.mktemp("pre") / "run"
    from foveal.cli import main

    code = main(["-q", "train", str(digits_folder), "--out", str(out), "--model", "cnn-small", "--epochs", "6",
                 "--lr", "3e-3", "--image-size", "16", "--batch-size", "32", "--no-report", "--workers", "1"])
    assert code == 0
    return out


def val_accuracy(run: Path) -> float:
    return json.loads((run / "metrics.json").read_text())["metrics"]["accuracy"]


def test_frozen_pretrained_backbone_beats_frozen_random_one(capsys, tmp_path, digits_run, families_folder):
    from safetensors.torch import save_file

    from foveal.deep.models import build_model

    weights = digits_run / "model" / "weights.safetensors"
    random_weights = tmp_path / "random.safetensors"  # the same network, never trained
    torch.manual_seed(0)
    save_file(build_model("cnn-small", 1, 10, {"drop_rate": 0.1}).state_dict(), str(random_weights))
    pre = train_deep(capsys, tmp_path / "pre", families_folder, *PROBE, "--pretrained", weights)
    rand = train_deep(capsys, tmp_path / "rand", families_folder, *PROBE, "--pretrained", random_weights)
    assert val_accuracy(pre) > val_accuracy(rand) + 0.1, (val_accuracy(pre), val_accuracy(rand))
    transfer = json.loads((pre / "model" / "foveal.json").read_text())["training"]["transfer"]
    assert transfer["reinitialised"] == ["fc.bias", "fc.weight"] and transfer["unexpected"] == []
    assert transfer["skipped"] == [] and transfer["missing"] == [] and transfer["loaded"] == transfer["total"] - 2
    assert transfer_summary(transfer) == (f"pretrained weights: {transfer['total'] - 2} of {transfer['total']} "
                                          "tensors loaded, 2 re-initialised (fc.bias, fc.weight), 0 skipped")
    # the frozen backbone is untouched: every non-head tensor equals the pretrained file's
    before, after = load_file(str(weights)), load_file(str(pre / "model" / "weights.safetensors"))
    assert all(torch.equal(before[k], after[k]) for k in before if not k.startswith("fc."))


def test_weights_only_state_dict_with_prefixes_and_pickles_refused(capsys, tmp_path, digits_run, faces_folder):
    state = {f"module.{k}": v for k, v in load_file(str(digits_run / "model" / "weights.safetensors")).items()}
    pth = tmp_path / "weights.pth"
    torch.save({"state_dict": state}, pth)
    run = train_deep(capsys, tmp_path / "run", faces_folder, "--model", "cnn-small", "--epochs", "1",
                     "--pretrained", pth, "--unfreeze-after", "1")
    transfer = json.loads((run / "model" / "foveal.json").read_text())["training"]["transfer"]
    assert transfer["missing"] == [] and transfer["reinitialised"] == ["fc.bias", "fc.weight"]

    evil = tmp_path / "evil.pth"
    torch.save({"state_dict": state, "payload": Path("x")}, evil)  # an arbitrary object: needs unpickling
    code, _, err = run_cli(capsys, "train", faces_folder, "--model", "cnn-small", "--out", tmp_path / "r2",
                           "--pretrained", evil)
    assert code == 2 and "not a weights-only state dict" in err and len(err.strip().splitlines()) == 1


def test_weights_of_another_architecture_are_refused(capsys, tmp_path, digits_run, faces_folder):
    weights = digits_run / "model" / "weights.safetensors"  # cnn-small weights
    code, _, err = run_cli(capsys, "--quiet", "train", faces_folder, "--out", tmp_path / "run",
                           "--model", "mobilenetv3_small_050", "--epochs", "1", "--pretrained", weights,
                           "--image-size", "32", "--no-report", "--workers", "1")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "fits only 0 of the model's" in err and "same architecture (mobilenetv3_small_050)" in err
    assert not (tmp_path / "run" / "model").exists()


def test_init_from_bundle_on_a_new_label_set(capsys, tmp_path, digits_run, families_folder):
    run = train_deep(capsys, tmp_path / "run", families_folder, "--init-from", digits_run, "--epochs", "2",
                     "--lr", "3e-3", "--warmup-epochs", "0")
    manifest = json.loads((run / "model" / "foveal.json").read_text())
    assert manifest["model"]["architecture"] == "cnn-small"
    assert manifest["task"]["classes"] == ["curves", "lines", "loops"]
    assert manifest["lineage"]["parent"]["path"].endswith("model")
    assert manifest["lineage"]["parent"]["operation"] == "init-from"
    assert manifest["training"]["transfer"]["reinitialised"] == ["fc.bias", "fc.weight"]
    parent = json.loads((digits_run / "model" / "foveal.json").read_text())
    assert manifest["preprocessing"]["mean"] == parent["preprocessing"]["mean"]
    assert val_accuracy(run) > 0.75
