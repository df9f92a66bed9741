"""`foveal robustness`, test-time augmentation and the `robust` augmentation preset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import foveal
from foveal.audit.robustness import Scored, mce, run_robustness
from foveal.audit.tta import apply_view, views, with_tta
from foveal.progress import quiet
from helpers import run_cli, small


@pytest.fixture(scope="module")
def textures_bundles(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("textures")
    data = small("textures", 30)
    with quiet():
        svm = foveal.train(data, model="svm", features="hog", out=str(root / "svm"), report=False)
        knn = foveal.train(data, model="knn", features="pixels", out=str(root / "knn"), report=False)
    return svm.bundle, knn.bundle


def test_robustness_cli_json_and_report(capsys, tmp_path, textures_bundles) -> None:
    svm, knn = textures_bundles
    code, stdout, err = run_cli(capsys, "robustness", svm, "textures", "--corruptions", "gaussian_noise,jpeg,contrast,"
                                "saturate", "--severities", "1,5", "--baseline", knn, "--json", tmp_path / "r.json",
                                "--report", tmp_path / "r.html")
    assert code == 0, err
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["metric"] == "accuracy" and r["split"] == "test"
    assert r["n"] == len(foveal.load_dataset("textures").select("test"))
    assert set(r["corruptions"]) == {"gaussian_noise", "jpeg", "contrast"} and r["not_applicable"] == ["saturate"]
    assert set(r["corruptions"]["jpeg"]) == {"1", "5"}
    values = [v for per in r["corruptions"].values() for v in per.values()]
    assert r["mean_corruption"] == pytest.approx(np.mean(values))
    assert r["relative_drop"] == pytest.approx((r["clean"] - r["mean_corruption"]) / r["clean"])
    assert r["baseline"]["clean"] > 0 and set(r["ce"]) == set(r["corruptions"]) and r["mce"] > 0
    assert r["tta"] is None
    html = (tmp_path / "r.html").read_text()
    assert html.count('alt="jpeg ') == 2 and "mCE" in html


def test_mce_follows_hendrycks_and_dietterich() -> None:
    model = Scored(0.9, {"a": {1: 0.8, 2: 0.6}, "b": {1: 0.9, 2: 0.9}})
    base = Scored(0.8, {"a": {1: 0.6, 2: 0.4}, "b": {1: 0.7, 2: 0.5}})
    out = mce(model, base)
    assert out["ce"] == {"a": pytest.approx(0.6 / 1.0), "b": pytest.approx(0.2 / 0.8)}
    assert out["mce"] == pytest.approx((0.6 + 0.25) / 2)
    assert out["relative_mce"] == pytest.approx(((0.6 - 0.2) / (1.0 - 0.4) + 0.0 / (0.8 - 0.4)) / 2)


def test_robustness_refuses_unknown_corruptions(capsys, textures_bundles) -> None:
    code, _, err = run_cli(capsys, "robustness", textures_bundles[0], "textures", "--corruptions", "fog")
    assert code == 2 and "unknown corruption 'fog'" in err
    code, _, err = run_cli(capsys, "robustness", textures_bundles[0], "textures", "--severities", "0,9")
    assert code == 2 and "severities must be among 1-5" in err


def test_tta_averages_the_views(textures_bundles) -> None:
    predictor = foveal.load_bundle(textures_bundles[0])
    images = foveal.load_dataset("textures").images[:5]
    tta = with_tta(predictor)
    assert tta.manifest["tta"] == views((32, 32), flips=False) and "hflip" not in tta.manifest["tta"]
    expected = np.mean([predictor.predict_proba(apply_view(images, v)) for v in tta.manifest["tta"]], axis=0)
    assert np.allclose(tta.predict_proba(images), expected)
    assert "hflip" in with_tta(predictor, flips=True).manifest["tta"]
    shifted = apply_view(images, "shift(0,+2)")
    assert np.array_equal(shifted[:, :, 2:], images[:, :, :-2]) and np.array_equal(shifted[:, :, 0], images[:, :, 0])
    result = run_robustness(predictor, "textures", corruptions=["jpeg"], severities=[1], tta=True).result
    assert result["tta"] == tta.manifest["tta"]


def test_eval_with_tta_lists_the_views(capsys, tmp_path, textures_bundles) -> None:
    code, _, err = run_cli(capsys, "eval", textures_bundles[0], "textures", "--tta", "--json", tmp_path / "e.json")
    assert code == 0, err
    assert json.loads((tmp_path / "e.json").read_text())["tta"] == views((32, 32), flips=False)
    code, _, err = run_cli(capsys, "eval", textures_bundles[0], "textures", "--tta", "--save-threshold", "0.5",
                           "--out", tmp_path / "t")
    assert code == 2 and "drop --tta" in err


def test_robust_preset_is_seeded_batched_and_trains(capsys, tmp_path) -> None:
    from foveal.deep.augment import make_augment

    augment = make_augment("robust")
    assert augment.jpeg and augment.heavy_blur and augment.heavy_noise and augment.contrast
    batch = torch.from_numpy(foveal.load_dataset("faces").images[:32].copy()).permute(0, 3, 1, 2).contiguous()
    one = augment(batch, torch.Generator().manual_seed(5))
    assert torch.equal(one, augment(batch, torch.Generator().manual_seed(5)))
    assert not torch.equal(one, augment(batch, torch.Generator().manual_seed(6)))
    assert one.shape == batch.shape and 0 <= one.min() and one.max() <= 1
    code, _, err = run_cli(capsys, "--quiet", "train", small("faces", 10).name, "--model", "cnn-small",
                           "--augment", "robust", "--epochs", "1", "--image-size", "16", "--out", tmp_path / "run",
                           "--no-report", "--workers", "1")
    assert code == 0, err
    manifest = json.loads((tmp_path / "run" / "model" / "foveal.json").read_text())
    assert "JPEG" in manifest["training"]["augmentation"]
