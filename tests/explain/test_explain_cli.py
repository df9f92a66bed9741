"""`foveal explain`, `predict --explain` and the report's heat maps, on real image files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import run_cli, tree_hashes


@pytest.fixture(scope="module")
def clutter_files(tmp_path_factory, clutter_test) -> Path:
    """Three PNGs at 32 px, one JPEG enlarged to 80×64 (maps come back at that size), one broken file."""
    root = tmp_path_factory.mktemp("inputs")
    images = clutter_test[0]
    for i in range(3):
        Image.fromarray(images[i, :, :, 0]).save(root / f"digit-{i}.png")
    Image.fromarray(images[3, :, :, 0]).resize((64, 80)).save(root / "big.jpg", quality=95)
    (root / "broken.png").write_bytes(b"\x89PNG not really")
    return root


def test_explain_writes_overlays_maps_and_an_index(capsys, tmp_path, clutter_bundle, clutter_files) -> None:
    before = tree_hashes(clutter_files)
    out = tmp_path / "maps"
    code, stdout, err = run_cli(capsys, "explain", clutter_bundle, clutter_files, "--out", out,
                                "--method", "gradcam", "--report", tmp_path / "maps.html")
    assert code == 0, err
    rows = [json.loads(line) for line in (out / "explanations.jsonl").read_text().splitlines()]
    good = [r for r in rows if "error" not in r]
    assert len(good) == 4 and sum("error" in r for r in rows) == 1
    for row in good:
        assert set(row) == {"path", "target", "method", "score", "overlay", "map"}
        assert row["method"] == "gradcam" and 0 <= row["score"] <= 1
        assert Image.open(out / row["overlay"]).format == "PNG"
    big = next(r for r in good if r["path"].endswith("big.jpg"))
    assert np.load(out / big["map"]).shape == (80, 64)  # the original size, not the model's 32×32
    assert big["overlay"] == "big.png"
    assert np.load(out / next(r for r in good if r["path"].endswith("digit-0.png"))["map"]).shape == (32, 32)
    assert "data:image/png;base64," in (tmp_path / "maps.html").read_text()
    assert tree_hashes(clutter_files) == before  # inputs untouched


def test_explain_refuses_bad_requests_before_writing(capsys, tmp_path, clutter_bundle, clutter_files) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    code, _, err = run_cli(capsys, "explain", clutter_bundle, clutter_files, "--out", taken)
    assert code == 2 and "not an empty folder" in err
    assert [p.name for p in taken.iterdir()] == ["keep.txt"]
    code, _, err = run_cli(capsys, "explain", clutter_bundle, clutter_files, "--out", tmp_path / "a", "--method", "lime")
    assert code == 2 and "unknown explanation method 'lime'" in err and not (tmp_path / "a").exists()
    code, _, err = run_cli(capsys, "explain", clutter_bundle, clutter_files, "--out", tmp_path / "b", "--method",
                           "attention")
    assert code == 2 and "vision-transformer" in err
    code, _, err = run_cli(capsys, "explain", clutter_bundle, clutter_files, "--out", tmp_path / "c", "--target", "x")
    assert code == 2 and "--target 'x' is not a class" in err


def test_explain_a_chosen_target(capsys, tmp_path, clutter_bundle, clutter_files) -> None:
    code, _, err = run_cli(capsys, "explain", clutter_bundle, clutter_files / "digit-0.png", "--out", tmp_path / "m",
                           "--target", "7", "--method", "saliency")
    assert code == 0, err
    row = json.loads((tmp_path / "m" / "explanations.jsonl").read_text())
    assert row["target"] == "7" and row["method"] == "saliency"


def test_predict_adds_explanations_and_tta(capsys, tmp_path, clutter_bundle, clutter_files) -> None:
    out = tmp_path / "why"
    code, stdout, err = run_cli(capsys, "predict", clutter_bundle, clutter_files / "digit-1.png",
                                clutter_files / "digit-2.png", "--format", "json", "--tta", "--explain", "gradcam",
                                "--explain-out", out)
    assert code == 0, err
    rows = json.loads(stdout[stdout.index("["):])
    for row in rows:
        assert row["tta"][0] == "identity" and "hflip" not in row["tta"]  # digits: trained without flips
        (explanation,) = row["explanations"]
        assert explanation["target"] == row["prediction"] and Path(explanation["overlay"]).is_file()


def test_report_gallery_shows_heat_maps(capsys, tmp_path, clutter_bundle, clutter_files, clutter_test) -> None:
    wrong = [str((int(y) + 1) % 10) for y in clutter_test[2][:4]]  # every image a mistake: the gallery fills
    rows = [[f"digit-{i}.png", wrong[i]] for i in range(3)] + [["big.jpg", wrong[3]]]
    (clutter_files / "labels.csv").write_text("path,label\n" + "".join(f"{p},{y}\n" for p, y in rows))
    code, _, err = run_cli(capsys, "eval", clutter_bundle, clutter_files / "labels.csv", "--report", tmp_path / "r.html")
    assert code == 0, err
    html = (tmp_path / "r.html").read_text()
    assert "Grad-CAM for the predicted class" in html and 'alt="heat map"' in html
