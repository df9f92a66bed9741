"""`foveal eval --save-threshold`: a new binary bundle that decides with the chosen threshold."""

from __future__ import annotations

import json

import pytest

from foveal.bundle import load_bundle
from foveal.evaluation.run import evaluate_bundle
from helpers import tree_hashes
from helpers import run_cli


@pytest.mark.parametrize("choice", ["best-f1", "youden", "0.9"])
def test_save_threshold_writes_child_bundle(capsys, tmp_path, faces_runs, faces_folder, choice):
    run = faces_runs["knn+pixels"]
    before = tree_hashes(run)
    out = tmp_path / "thresholded"
    code, stdout, _ = run_cli(capsys, "eval", run, faces_folder, "--split", "val", "--save-threshold", choice,
                              "--out", out)
    assert code == 0 and "decision threshold" in stdout
    assert tree_hashes(run) == before
    manifest = json.loads((out / "foveal.json").read_text())
    t = manifest["task"]["decision_threshold"]
    assert manifest["decision"]["method"] == choice and manifest["decision"]["fitted_on"]["split"] == "val"
    assert manifest["lineage"]["parent"]["operation"] == "save-threshold"
    if choice == "0.9":
        assert t == 0.9
    child, parent = load_bundle(out), load_bundle(run)
    files = sorted((faces_folder / "test").rglob("*.png"))
    for a, b in zip(child.predict_files(files), parent.predict_files(files)):
        assert a.prediction.scores == b.prediction.scores  # same probabilities …
        assert a.prediction.label == ("face" if a.prediction.scores["face"] >= t else "background")  # … new rule
    assert evaluate_bundle(out, faces_folder)["decision_threshold"] == t


def test_binary_predict_json_scores_hold_every_class(capsys, faces_runs, faces_folder):
    files = sorted((faces_folder / "test" / "face").glob("*.png"))[:3]
    code, out, _ = run_cli(capsys, "predict", faces_runs["svm+hog"], *files, "--format", "json")
    rows = json.loads(out)
    assert code == 0 and all(set(r["scores"]) == {"background", "face"} for r in rows)
    assert all(abs(sum(r["scores"].values()) - 1) < 1e-6 for r in rows)


def test_save_threshold_errors_are_one_line(capsys, tmp_path, faces_runs, faces_folder, digits_run, digits_folder):
    code, _, err = run_cli(capsys, "eval", faces_runs["svm+hog"], faces_folder, "--save-threshold", "best-f1")
    assert code == 2 and "--out" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(capsys, "eval", faces_runs["svm+hog"], faces_folder, "--save-threshold", "1.5",
                           "--out", tmp_path / "x")
    assert code == 2 and "outside (0, 1)" in err
    code, _, err = run_cli(capsys, "eval", digits_run, digits_folder, "--save-threshold", "0.5",
                           "--out", tmp_path / "y")
    assert code == 2 and "binary" in err and not (tmp_path / "y").exists()
