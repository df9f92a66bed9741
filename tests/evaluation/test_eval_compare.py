"""`foveal compare`: three classical models side by side on the same faces images."""

from __future__ import annotations

import json

from foveal.cli import main
from foveal.evaluation.compare import compare_bundles, comparison_json
from foveal.evaluation.run import evaluate_bundle


def test_compare_three_classical_models(capsys, tmp_path, faces_runs, faces_folder):
    runs = list(faces_runs.values())
    code = main(["compare", *map(str, runs), "--data", str(faces_folder), "--json", str(tmp_path / "c.json"),
                 "--report", str(tmp_path / "c.html")])
    out = capsys.readouterr().out
    assert code == 0
    for name in faces_runs:
        assert name in out
    for row in ("accuracy", "roc_auc", "ece", "size (MB)", "ms / image"):
        assert row in out
    result = json.loads((tmp_path / "c.json").read_text())
    assert result["task"] == "binary" and result["split"] == "test"
    assert [m["name"] for m in result["models"]] == list(faces_runs)
    for model, run in zip(result["models"], runs):
        alone = evaluate_bundle(run, faces_folder)  # the same numbers as evaluating it on its own
        assert model["metrics"] == alone["metrics"] and result["n"] == alone["n"]
        assert model["size_bytes"] > 0 and model["inference_ms_per_image"] > 0
    html = (tmp_path / "c.html").read_text()
    assert "<h2>Side by side</h2>" in html and "<h2>ROC curves</h2>" in html and html.count("<img ") == 2


def test_compare_uses_training_data_by_default_and_shares_decoding(faces_runs, faces_folder):
    entries = compare_bundles(list(faces_runs.values())[:2])  # both trained on faces_folder
    assert entries[0].evaluation.data_name == faces_folder.name
    assert entries[0].evaluation.loaded is entries[1].evaluation.loaded  # same preprocessing → decoded once
    assert len(comparison_json(entries)["models"]) == 2


def test_compare_refuses_mismatched_tasks(capsys, faces_runs, digits_run):
    code = main(["compare", str(faces_runs["svm+hog"]), str(digits_run)])
    err = capsys.readouterr().err
    assert code == 2 and "same classes" in err
    code = main(["compare", str(digits_run)])
    assert code == 2 and "at least two" in capsys.readouterr().err


def test_evaluate_bundle_keeps_samples(faces_runs, faces_folder):
    result = evaluate_bundle(faces_runs["svm+hog"], faces_folder, keep_samples=True)
    samples = result["samples"]
    assert len(samples) == result["n"] and set(samples[0]) == {"path", "true", "predicted", "confidence", "correct"}
    assert sum(s["correct"] for s in samples) / len(samples) == result["metrics"]["accuracy"]
    assert all(0.5 <= s["confidence"] <= 1 for s in samples)
