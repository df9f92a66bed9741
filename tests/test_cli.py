"""End-to-end: the real CLI on real image files, for every task type."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import assert_consistent_paths, tree_hashes
from helpers import run_cli


def train(capsys, tmp_path, data, *extra) -> Path:
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(capsys, "--quiet", "train", data, "--out", out, *extra)
    assert code == 0, stderr
    assert "run folder" in stdout
    return out


def test_multiclass_folder_train_eval_predict(capsys, tmp_path, digits_folder):
    run = train(capsys, tmp_path, digits_folder, "--model", "svm", "--features", "pixels")
    assert {p.name for p in run.iterdir()} >= {"config.yaml", "metrics.json", "model"}
    assert {p.name for p in (run / "model").iterdir()} == {"foveal.json", "estimator.skops"}
    manifest = json.loads((run / "model" / "foveal.json").read_text())
    assert manifest["task"]["classes"] == [str(d) for d in range(10)]
    assert manifest["preprocessing"]["size"] == [8, 8] and manifest["preprocessing"]["channels"] == 1
    assert len(manifest["lineage"]["data_fingerprint"]) == 64

    code, out, _ = run_cli(capsys, "eval", run / "model", digits_folder, "--json", tmp_path / "eval.json")
    assert code == 0 and "confusion matrix" in out
    result = json.loads((tmp_path / "eval.json").read_text())
    assert result["task"] == "multiclass" and result["split"] == "test"
    assert result["n"] == len(list((digits_folder / "test").rglob("*.png")))
    assert result["metrics"]["accuracy"] > 0.85
    assert {"macro_f1", "weighted_f1", "balanced_accuracy"} <= set(result["metrics"])

    files = sorted((digits_folder / "test" / "7").glob("*.png"))[:3]
    code, out, _ = run_cli(capsys, "predict", run, *files, "--format", "json", "--top-k", "3")
    rows = json.loads(out)
    assert [r["path"] for r in rows] == [str(f) for f in files]
    assert all(r["prediction"] in manifest["task"]["classes"] for r in rows)
    assert sum(r["prediction"] == "7" for r in rows) >= 2
    assert all(len(r["top_k"]) == 3 and len(r["scores"]) == 10 for r in rows)
    assert all(abs(sum(r["scores"].values()) - 1) < 1e-6 for r in rows)


def test_predict_folder_glob_csv_and_bad_inputs(capsys, tmp_path, digits_folder, dirty_folder):
    run = train(capsys, tmp_path, digits_folder, "--features", "pixels")
    pattern = str(digits_folder / "test" / "1" / "*.png")
    code, out, _ = run_cli(capsys, "predict", run, dirty_folder / "5", pattern, "--format", "json")
    assert code == 0
    rows = {Path(r["path"]).name: r for r in json.loads(out)}
    for name in ("empty.jpg", "not_an_image.png", "truncated.jpg", "oversized_header.png"):
        assert rows[name]["prediction"] is None and rows[name]["error"]
    assert rows["cmyk.jpg"]["error"] is None
    assert rows["gray16.png"]["prediction"] in [str(d) for d in range(10)]
    csv_file = tmp_path / "out.csv"
    code, _, _ = run_cli(capsys, "predict", run, pattern, "--format", "csv", "--top-k", "2", "--output", csv_file)
    lines = csv_file.read_text().splitlines()
    assert lines[0] == "path,prediction,error,label_1,score_1,label_2,score_2"
    assert len(lines) == 1 + len(list((digits_folder / "test" / "1").glob("*.png")))
    code, _, err = run_cli(capsys, "predict", run, tmp_path / "nope.png")
    assert code == 2 and "does not exist" in err


def test_binary_faces_hog(capsys, tmp_path, faces_folder):
    run = train(capsys, tmp_path, faces_folder, "--model", "svm", "--features", "hog")
    code, _, _ = run_cli(capsys, "eval", run, faces_folder, "--json", tmp_path / "e.json")
    result = json.loads((tmp_path / "e.json").read_text())
    assert result["task"] == "binary" and result["classes"] == ["background", "face"]
    assert result["metrics"]["accuracy"] > 0.8 and 0.8 < result["metrics"]["roc_auc"] <= 1.0


def test_multilabel_manifest(capsys, tmp_path, multidigits_manifest):
    run = train(capsys, tmp_path, multidigits_manifest, "--model", "logistic", "--features", "pixels")
    code, _, _ = run_cli(capsys, "eval", run, multidigits_manifest, "--json", tmp_path / "e.json")
    result = json.loads((tmp_path / "e.json").read_text())
    assert result["task"] == "multilabel"
    m = result["metrics"]
    assert 0.5 < m["map"] <= 1 and 0 <= m["hamming_loss"] < 0.3 and 0 <= m["subset_accuracy"] <= 1
    images = sorted((multidigits_manifest.parent / "images").glob("*.png"))[:4]
    code, out, _ = run_cli(capsys, "predict", run, *images, "--format", "json")
    for row in json.loads(out):
        assert isinstance(row["prediction"], list)
        assert all(row["scores"][label] >= 0.5 for label in row["prediction"])


def test_hierarchical_nested_folders(capsys, tmp_path, taxonomy_folder):
    run = train(capsys, tmp_path, taxonomy_folder, "--features", "pixels")
    manifest = json.loads((run / "model" / "foveal.json").read_text())
    assert manifest["task"]["type"] == "hierarchical"
    assert set(manifest["task"]["taxonomy"]) == {"curves", "lines", "loops"}
    code, _, _ = run_cli(capsys, "eval", run, taxonomy_folder, "--json", tmp_path / "e.json")
    m = json.loads((tmp_path / "e.json").read_text())["metrics"]
    assert m["level_1_accuracy"] >= m["level_2_accuracy"] > 0.7
    files = sorted((taxonomy_folder / "test").rglob("*.png"))[:5]
    code, out, _ = run_cli(capsys, "predict", run, *files, "--format", "json")
    assert_consistent_paths(json.loads(out), manifest["task"]["classes"])


def test_dirty_data_is_skipped_reported_and_untouched(capsys, tmp_path, dirty_folder):
    before = tree_hashes(dirty_folder)
    run = train(capsys, tmp_path, dirty_folder, "--features", "pixels", "--image-size", "16")
    skipped = (run / "skipped.csv").read_text()
    for name in ("empty.jpg", "not_an_image.png", "truncated.jpg", "oversized_header.png"):
        assert name in skipped
    assert "cmyk.jpg" not in skipped and "gray16.png" not in skipped
    code, _, err = run_cli(capsys, "train", dirty_folder, "--out", tmp_path / "r2", "--max-skip-ratio", "0.05")
    assert code == 2 and "could not be decoded" in err and "--max-skip-ratio" in err
    assert not (tmp_path / "r2" / "model").exists()
    code, _, _ = run_cli(capsys, "data", "check", dirty_folder, "--strict", "--json", tmp_path / "c.json")
    assert code == 1
    report = json.loads((tmp_path / "c.json").read_text())
    assert {u["path"] for u in report["undecodable"]} == {
        "5/empty.jpg", "5/not_an_image.png", "5/truncated.jpg", "5/oversized_header.png"}
    run_cli(capsys, "predict", run, dirty_folder, "--format", "json")
    run_cli(capsys, "eval", run, dirty_folder)
    assert tree_hashes(dirty_folder) == before


def test_config_file_and_flag_override(capsys, tmp_path, digits_folder):
    cfg = tmp_path / "train.yaml"
    cfg.write_text(yaml.safe_dump({"model": "knn", "features": "hog", "params": {"n_neighbors": 3}, "seed": 7}))
    run = train(capsys, tmp_path, digits_folder, "--config", cfg, "--features", "pixels")
    resolved = yaml.safe_load((run / "config.yaml").read_text())
    assert resolved["model"] == "knn" and resolved["features"] == "pixels" and resolved["seed"] == 7
    assert resolved["params"] == {"n_neighbors": 3}
    bad = tmp_path / "bad.yaml"
    bad.write_text("modle: svm\n")
    code, _, err = run_cli(capsys, "train", digits_folder, "--config", bad)
    assert code == 2 and "unknown option 'modle'" in err


def test_run_folders_are_numbered(capsys, tmp_path, faces_folder):
    for expected in ("svm-1", "svm-2"):
        code, out, _ = run_cli(capsys, "-q", "train", faces_folder, "--features", "pixels", "--project", tmp_path)
        assert code == 0 and (tmp_path / expected / "model" / "foveal.json").is_file()


@pytest.mark.parametrize("args, message", [
    (["train", "no-such-data"], "no folder, manifest or built-in dataset named 'no-such-data'"),
    (["train", "digits", "--model", "svn"], "unknown model 'svn' — did you mean 'svm'?"),
    (["train", "digits", "--features", "hogg"], "hogg"),
    (["eval", "not-a-bundle", "digits"], "is not a foveal bundle"),
    (["predict", "not-a-bundle", "x.png", "--format", "xml"], "unknown --format 'xml'"),
])
def test_user_errors_are_one_line(capsys, tmp_path, args, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, *args)
    assert code == 2
    assert err.startswith("foveal: error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_real_entry_point_and_debug_traceback(tmp_path):
    exe = [sys.executable, "-m", "foveal"]
    done = subprocess.run([*exe, "train", "no-such-data"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("foveal: error:") and "Traceback" not in done.stderr
    done = subprocess.run([*exe, "--debug", "train", "no-such-data"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode != 0 and "Traceback" in done.stderr
    done = subprocess.run([*exe, "datasets"], capture_output=True, text=True)
    assert done.returncode == 0 and "digit-taxonomy" in done.stdout


def test_data_export_and_models_listing(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "data", "export", "faces", tmp_path / "faces")
    assert code == 0 and "200 PNG images" in out
    assert sorted(p.name for p in (tmp_path / "faces").iterdir()) == ["dataset.json", "test", "train", "val"]
    assert len(list((tmp_path / "faces" / "train" / "face").glob("*.png"))) == 70
    code, out, _ = run_cli(capsys, "data", "export", "multidigits", tmp_path / "multi")
    assert code == 0 and (tmp_path / "multi" / "manifest.csv").read_text().startswith("path,labels,split")
    code, _, err = run_cli(capsys, "data", "export", "faces", tmp_path / "faces")
    assert code == 2 and "not empty" in err
    code, out, _ = run_cli(capsys, "models")
    assert code == 0 and "random-forest" in out and "sift-bow" in out


@pytest.mark.parametrize("args, message", [
    (["train", "digits", "--no-such-flag"], "No such option: --no-such-flag"),
    (["trian", "digits"], "No such command 'trian'"),
    (["train"], "give DATA"),
])
def test_usage_errors_exit_2_without_traceback(capsys, args, message):
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_the_console_exit_keeps_exit_codes_and_exit_handlers(tmp_path, digits_folder):
    """Once torch is loaded `foveal` leaves without the interpreter's teardown (cli.leave): the exit code,
    the error line and registered exit handlers must survive that."""
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    script = ("import atexit, pathlib, sys\n"
              f"atexit.register(lambda: pathlib.Path({str(tmp_path / 'handler-ran')!r})"
              ".write_text(str('torch' in sys.modules)))\n"
              "from foveal.cli import run\n"
              "sys.argv = ['foveal', 'train', sys.argv[1], '-m', 'cnn-small', '--out', sys.argv[2]]\n"
              "run()\n")
    done = subprocess.run([sys.executable, "-c", script, str(digits_folder), str(taken)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "exists and is not empty" in done.stderr
    assert (tmp_path / "handler-ran").read_text() == "True"  # the torch-loaded path of cli.leave ran
    assert (taken / "keep.txt").read_text() == "mine"
