"""`foveal train --unlabeled DIR --semi pseudo-label|fixmatch` on few-label digits (real PNG files)."""

from __future__ import annotations

import json

from helpers import run_cli

FAST = ["--image-size", "8", "--batch-size", "16", "--no-report", "--workers", "1", "--deterministic"]


def _train(capsys, out, data, *extra):
    code, stdout, stderr = run_cli(capsys, "--quiet", "train", data, "--out", out, "-m", "cnn-small", *FAST, *extra)
    assert code == 0, stderr
    return json.loads((out / "model" / "foveal.json").read_text())


def _test_accuracy(bundle, data) -> float:
    from foveal.evaluation.run import evaluate_bundle

    return evaluate_bundle(bundle, data, "test")["metrics"]["accuracy"]


def test_fixmatch_beats_supervised_only_over_three_seeds(tmp_path, capsys, few_digits):
    """3 labels per class + 400 unlabelled digits, same epochs and seeds, scored on the 269 test images.
    Measured (8 px, 40 epochs, μ 4, threshold 0.8, channels-last): supervised 0.844 / 0.855 / 0.836 vs FixMatch
    0.851 / 0.885 / 0.855 for seeds 0 / 1 / 2 (+0.7 / +3.0 / +1.9 points; in the other memory layout +2.6 /
    +4.5 / +3.7). One seed's gain can be 2 images, so the assertion is on the mean: at least 1 point."""
    labelled, unlabelled = few_digits
    supervised, fixmatch = [], []
    for seed in ("0", "1", "2"):
        common = ["--epochs", "40", "--seed", seed]
        _train(capsys, tmp_path / f"sup{seed}", labelled, *common)
        manifest = _train(capsys, tmp_path / f"fm{seed}", labelled, *common, "--unlabeled", unlabelled, "--semi",
                          "fixmatch", "--mu", "4", "--pseudo-threshold", "0.8")
        supervised.append(_test_accuracy(tmp_path / f"sup{seed}" / "model", labelled))
        fixmatch.append(_test_accuracy(tmp_path / f"fm{seed}" / "model", labelled))
    assert sum(fixmatch) / 3 >= sum(supervised) / 3 + 0.01, (supervised, fixmatch)
    semi = manifest["training"]["semi_supervised"]
    assert semi["method"] == "fixmatch" and semi["n_unlabeled"] == 400 and semi["mu"] == 4
    assert 0 < semi["pseudo_labels_accepted"] <= semi["pseudo_labels_seen"]


def test_pseudo_label_run_records_what_was_used(tmp_path, capsys, few_digits):
    labelled, unlabelled = few_digits
    manifest = _train(capsys, tmp_path / "pl", labelled, "--epochs", "3", "--unlabeled", unlabelled, "--semi",
                      "pseudo-label", "--pseudo-threshold", "0.5", "--mu", "2")
    semi = manifest["training"]["semi_supervised"]
    assert semi["method"] == "pseudo-label" and semi["threshold"] == 0.5 and semi["n_unlabeled"] == 400
    assert semi["pseudo_labels_seen"] == 3 * (16 + 14) * 2  # epochs × labelled images per epoch × mu
    assert semi["accepted_share"] == round(semi["pseudo_labels_accepted"] / semi["pseudo_labels_seen"], 4)
    config = (tmp_path / "pl" / "config.yaml").read_text()
    assert "semi: pseudo-label" in config and str(unlabelled) in config
    from foveal.bundle import load_bundle

    predictor = load_bundle(tmp_path / "pl" / "model")  # an ordinary deep bundle
    assert predictor.family == "deep" and predictor.predict_files(sorted(unlabelled.glob("*.png"))[:2])


def test_classical_model_self_trains(tmp_path, capsys, few_digits):
    labelled, unlabelled = few_digits
    code, _, err = run_cli(capsys, "--quiet", "train", labelled, "--out", tmp_path / "st", "-m", "knn",
                           "--features", "pixels", "--no-report", "--unlabeled", unlabelled, "--semi", "pseudo-label",
                           "--pseudo-threshold", "0.6")
    assert code == 0, err
    manifest = json.loads((tmp_path / "st" / "model" / "foveal.json").read_text())
    semi = manifest["training"]["semi_supervised"]
    assert semi["method"] == "self-training" and semi["n_unlabeled"] == 400 and semi["pseudo_labels_accepted"] > 0
    assert manifest["model"]["pipeline"][-1] == "clf"
    assert _test_accuracy(tmp_path / "st" / "model", labelled) > 0.5
