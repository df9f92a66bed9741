"""`foveal train --target-unlabeled DIR --adapt adabn|dann|coral`: digits (source) → digits-shifted (target:
blurred, faded, noisy), scored on the target's test split; per-domain metrics in `foveal eval`."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from helpers import run_cli

FAST = ["-m", "cnn-small", "--image-size", "8", "--batch-size", "32", "--no-report", "--workers", "1"]


def _train(capsys, out, data, *extra) -> dict:
    code, _, err = run_cli(capsys, "--quiet", "train", data, "--out", out, *FAST, *extra)
    assert code == 0, err
    return json.loads((out / "model" / "foveal.json").read_text())


def _target_accuracy(bundle) -> float:
    from foveal.evaluation.run import evaluate_bundle

    return evaluate_bundle(bundle, "digits-shifted", "test")["metrics"]["accuracy"]


def test_adabn_improves_the_shifted_target_on_a_fixed_seed(tmp_path, capsys, digits_folder):
    """Measured (300 source images, 8 px, 4 epochs) on the 270 shifted test images: source-only 0.097 / 0.123 /
    0.238, AdaBN 0.907 / 0.903 / 0.900 for seeds 0 / 1 / 2; the assertion asks for half the smallest gap."""
    common = ["--epochs", "4", "--seed", "0"]
    _train(capsys, tmp_path / "source", digits_folder, *common)
    manifest = _train(capsys, tmp_path / "adabn", digits_folder, *common, "--target-unlabeled", "digits-shifted",
                      "--adapt", "adabn")
    before, after = _target_accuracy(tmp_path / "source" / "model"), _target_accuracy(tmp_path / "adabn" / "model")
    assert after >= before + 0.3, (before, after)
    adaptation = manifest["training"]["adaptation"]
    assert adaptation["method"] == "adabn" and adaptation["bundle_domain"] == "target"
    assert adaptation["n_unlabeled"] == 1528 and adaptation["batch_norm_layers"] == 6


@pytest.mark.parametrize("method", ["dann", "coral"])
def test_feature_alignment_methods_train_and_record(tmp_path, capsys, digits_folder, method):
    manifest = _train(capsys, tmp_path / method, digits_folder, "--epochs", "2", "--target-unlabeled",
                      "digits-shifted", "--adapt", method, "--mu", "1", "--adapt-weight", "0.5")
    adaptation = manifest["training"]["adaptation"]
    assert adaptation == {**adaptation, "method": method, "mu": 1, "weight": 0.5, "n_unlabeled": 1528}
    assert "inner" not in json.dumps(manifest["model"])  # the bundle's head is the plain one
    assert 0.0 <= _target_accuracy(tmp_path / method / "model") <= 1.0


def _write_domains_manifest(root, n: int = 60) -> None:
    from PIL import Image

    from foveal.data.load import load_dataset

    rows = []
    for domain in ("digits", "digits-shifted"):
        ds = load_dataset(domain).select("test")
        for i in range(n):
            name = f"{domain}-{i}.png"
            Image.fromarray(ds.images[i][:, :, 0]).save(root / name)
            rows.append([name, ds.labels[i], "source" if domain == "digits" else "target"])
    with open(root / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows([["path", "label", "domain"], *rows])


def test_eval_reports_per_domain_metrics(tmp_path, capsys, digits_folder):
    _train(capsys, tmp_path / "run", digits_folder, "--epochs", "4")
    (tmp_path / "mixed").mkdir()
    _write_domains_manifest(tmp_path / "mixed")
    out = tmp_path / "eval.json"
    code, stdout, err = run_cli(capsys, "eval", tmp_path / "run" / "model", tmp_path / "mixed" / "manifest.csv",
                                "--json", out, "--report", tmp_path / "eval.html")
    assert code == 0, err
    result = json.loads(out.read_text())
    domains = result["domains"]
    assert sorted(domains) == ["source", "target"] and all(d["n"] == 60 for d in domains.values())
    weighted = np.mean([d["metrics"]["accuracy"] for d in domains.values()])
    assert abs(weighted - result["metrics"]["accuracy"]) < 1e-9
    assert domains["source"]["metrics"]["accuracy"] > domains["target"]["metrics"]["accuracy"]
    assert "domain target (60 images)" in stdout
    assert "Per domain" in (tmp_path / "eval.html").read_text()
