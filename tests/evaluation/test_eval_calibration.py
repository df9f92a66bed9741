"""Temperature scaling: lowers NLL, keeps decisions, and writes a new bundle without touching the input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import log_loss

from foveal.bundle import load_bundle
from foveal.cli import main
from foveal.evaluation.calibration import ece, fit_temperature, nll
from foveal.probability import apply_temperature
from helpers import tree_hashes

RNG = np.random.default_rng(3)


def _overconfident(n: int = 600, k: int = 5):
    """Labels drawn from softmax(z), reported as softmax(3 z): the right answer is T = 3."""
    z = RNG.normal(0, 1.5, (n, k))
    true = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    y = np.array([RNG.choice(k, p=row) for row in true])
    sharp = np.exp(3 * z)
    return y, sharp / sharp.sum(1, keepdims=True)


def test_temperature_lowers_nll_and_keeps_argmax():
    y, proba = _overconfident()
    t = fit_temperature(y, proba)
    after = apply_temperature(proba, t)
    assert t == pytest.approx(3.0, rel=0.25)  # it undoes the sharpening
    assert nll(y, after) < nll(y, proba) and ece(y, after) < ece(y, proba)
    assert nll(y, after) == pytest.approx(log_loss(y, after))
    assert (after.argmax(1) == proba.argmax(1)).all()
    assert np.allclose(after.sum(1), 1)
    assert np.allclose(apply_temperature(proba, 1.0), proba, atol=1e-9)
    # tempering twice is tempering once by the product (what a re-calibrated bundle stores)
    assert np.allclose(apply_temperature(apply_temperature(proba, 2.0), 1.5), apply_temperature(proba, 3.0))


def test_multilabel_temperature():
    y = (RNG.uniform(size=(300, 4)) < 0.5).astype(int)
    z = (2 * y - 1) * 0.8 + RNG.normal(0, 1, y.shape)
    proba = 1 / (1 + np.exp(-4 * z))  # overconfident per label
    t = fit_temperature(y, proba, multilabel=True)
    after = apply_temperature(proba, t, multilabel=True)
    assert t > 2 and nll(y, after, True) < nll(y, proba, True)
    assert ((after >= 0.5) == (proba >= 0.5)).all()


def test_calibrate_writes_child_bundle_and_leaves_input_untouched(capsys, tmp_path, digits_run, digits_folder):
    before = tree_hashes(digits_run)
    out = tmp_path / "calibrated"
    code = main(["calibrate", str(digits_run), str(digits_folder), "--out", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0 and "temperature" in stdout and "NLL" in stdout
    assert tree_hashes(digits_run) == before
    manifest = json.loads((out / "foveal.json").read_text())
    parent = manifest["lineage"]["parent"]
    assert parent["path"] == str((digits_run / "model").resolve()) and parent["operation"] == "calibrate"
    assert len(parent["manifest_sha256"]) == 64
    cal = manifest["calibration"]
    assert cal["method"] == "temperature" and cal["fitted_on"]["split"] == "val" and cal["temperature"] > 0
    assert cal["after"]["nll"] <= cal["before"]["nll"] + 1e-9
    images = np.stack([load_bundle(digits_run).preprocessing.decode(p)
                       for p in sorted((digits_folder / "test").rglob("*.png"))[:20]])
    raw, tempered = load_bundle(digits_run).predict_proba(images), load_bundle(out).predict_proba(images)
    assert np.allclose(tempered, apply_temperature(raw, cal["temperature"]))
    assert (raw.argmax(1) == tempered.argmax(1)).all()
    assert main(["calibrate", str(digits_run), str(digits_folder), "--out", str(out)]) == 2  # never overwrites
    assert "already exists" in capsys.readouterr().err


def test_calibrate_refuses_a_split_without_mistakes(capsys, tmp_path, faces_runs, faces_folder):
    code = main(["calibrate", str(faces_runs["svm+hog"]), str(faces_folder), "--split", "train",
                 "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2 and "no mistake" in err and "--split" in err and not (tmp_path / "c").exists()
