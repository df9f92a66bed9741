"""The run pipeline as a user meets it: options checked before any work, nothing left behind by a
rejected command, what a run records, names, duplicates, warnings and spreadsheet-safe CSVs."""

from __future__ import annotations

import csv
import json
import shutil
import warnings
from pathlib import Path

import pytest
import yaml

from helpers import run_cli

FORMULAS = ("=", "+", "-", "@")


@pytest.mark.parametrize("args, message", [
    (["--model", "svm", "--param", "C=abc"], "--param for svm: The 'C' parameter of SVMClassifier must be"),
    (["--model", "svm", "--param", "C=-1"], "Got -1 instead"),
    (["--model", "svm", "--param", "Cee=1"], "bad parameter for svm"),
    (["--model", "svm", "--epochs", "3"], "--epochs applies to deep models, not svm (a classical model)"),
    (["--model", "svm", "--features", "hog,nope"], "unknown feature 'nope'"),
    (["--model", "svm", "--image-size", "model"], "--image-size model is for deep models"),
    (["--model", "resnet-huge"], "unknown model 'resnet-huge'"),
    (["--seed", "-5"], "--seed must be at least 0, got -5"),
    (["--val-fraction", "1"], "--val-fraction must be below 1, got 1"),
    (["--max-skip-ratio", "2"], "--max-skip-ratio must be at most 1, got 2"),
])
def test_rejected_commands_leave_nothing_on_disk(capsys, tmp_path, monkeypatch, digits_folder, args, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "train", digits_folder, "--out", tmp_path / "run", *args)
    assert code == 2 and err.startswith("foveal: error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no --out folder, no runs/


def test_a_typo_then_the_corrected_command_works(capsys, tmp_path, digits_folder):
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "-q", "train", digits_folder, "--out", out, "--model", "logistic", "--param", "C=x")
    assert code == 2 and not out.exists()
    code, _, err = run_cli(capsys, "train", digits_folder, "--out", out, "--model", "logistic", "--param", "C=2",
                           "--no-report", "--quiet")  # --quiet after the command, as users type it
    assert code == 0, err and err == ""
    recorded = yaml.safe_load((out / "config.yaml").read_text())
    assert recorded["params"] == {"C": 2} and "epochs" not in recorded and "augment" not in recorded
    assert recorded["features"] == "auto"
    manifest = json.loads((out / "model" / "foveal.json").read_text())
    assert manifest["model"]["features"] == "pixels"  # auto: 8 px digits are too small for HOG cells


def test_deep_runs_record_only_deep_options(capsys, tmp_path, faces_folder):
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "-q", "train", faces_folder, "--out", out, "--model", "cnn-small", "--epochs", "1",
                           "--image-size", "16", "--no-report", "--workers", "1")
    assert code == 0, err
    recorded = yaml.safe_load((out / "config.yaml").read_text())
    assert recorded["epochs"] == 1 and "features" not in recorded and "params" not in recorded
    assert Path(recorded["data"]).is_absolute()  # --resume works from any directory


def test_help_shows_every_default_in_panels(capsys):
    import re

    code, out, _ = run_cli(capsys, "train", "--help")
    text = re.sub(r"\s+", " ", out.replace("│", " "))
    for expected in ("--epochs INTEGER Training epochs. [default: 30]", "[default: svm]", "[default: 0.001]",
                     "[default: light]", "[default: 0.2]", "[default: auto]"):
        assert expected in text, expected
    for panel in ("Classical models", "Deep models", "Augmentation", "Transfer learning", "Run folder"):
        assert panel in out


def test_named_runs_are_the_name_then_numbered(capsys, tmp_path, monkeypatch, digits_folder):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        code, _, err = run_cli(capsys, "-q", "train", digits_folder, "--model", "logistic", "--name", "digits-lr",
                               "--no-report")
        assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["digits-lr", "digits-lr-2"]


def test_identical_images_stay_on_one_side_and_conflicts_are_named(tmp_path, digits_folder):
    from foveal.config import resolve
    from foveal.data.load import load_dataset
    from foveal.runs.pipeline import checked_engine

    files = sorted((digits_folder / "train").rglob("*.png"))
    rows = [f"{f.relative_to(digits_folder).as_posix()},{f.parent.name}" for f in files]
    copies = rows[:12] + [rows[0].replace(",0", ",9")]  # every one of 12 files twice, one with another label
    manifest = digits_folder / f"dup-{tmp_path.name}.csv"
    manifest.write_text("path,label\n" + "\n".join(rows + copies) + "\n")
    try:
        cfg = resolve(None, {"data": str(manifest), "model": "logistic", "val_fraction": 0.3})
        engine = checked_engine(cfg)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = engine.load(cfg, load_dataset(manifest))
        train = set(data.train.ds.paths[i] for i in data.train.loaded.kept)
        val = set(data.val.ds.paths[i] for i in data.val.loaded.kept)
        assert train and val and not train & val  # no file on both sides of the hold-out
        assert any("carry different labels" in str(w.message) and f"{manifest.name}:" in str(w.message)
                   for w in caught), [str(w.message) for w in caught]
    finally:
        manifest.unlink()


def test_a_folder_of_broken_files_says_none_could_be_decoded(capsys, tmp_path):
    for cls in ("a", "b"):
        (tmp_path / "data" / cls).mkdir(parents=True)
        for i in range(2):
            (tmp_path / "data" / cls / f"{i}.png").write_bytes(b"not a png at all")
    code, _, err = run_cli(capsys, "train", tmp_path / "data", "--out", tmp_path / "run")
    assert code == 2 and "none of the 4 images" in err and "max-skip-ratio" not in err, err
    assert not (tmp_path / "run").exists()


def test_short_runs_warn_with_the_fix(capsys, tmp_path, faces_folder):
    code, _, err = run_cli(capsys, "-q", "train", faces_folder, "--out", tmp_path / "run", "--model", "cnn-small",
                           "--epochs", "2", "--image-size", "16", "--no-report", "--workers", "1")
    assert code == 0
    assert "foveal: warning: this run makes only 4 optimizer updates" in err and "use --epochs 25" in err


def test_early_stopping_says_why_and_which_epoch_was_kept(capsys, tmp_path, faces_folder):
    code, out, err = run_cli(capsys, "train", faces_folder, "--out", tmp_path / "run", "--model", "cnn-small",
                             "--epochs", "12", "--early-stopping", "1", "--lr", "1e-6", "--image-size", "16",
                             "--no-report", "--workers", "1", "--augment", "none")
    assert code == 0, err
    manifest = json.loads((tmp_path / "run" / "model" / "foveal.json").read_text())["training"]
    assert manifest["stopped_early"] and manifest["epochs"] < 12
    assert f"stopped early after epoch {manifest['epochs']}" in out and f"kept epoch {manifest['best_epoch']}" in out
    assert "* marks a new best validation accuracy" in err


def test_target_accuracy_stops_once_reached_and_reports_the_kept_epoch(capsys, tmp_path, digits_folder):
    code, out, err = run_cli(capsys, "train", digits_folder, "--out", tmp_path / "run", "--model", "cnn-small",
                             "--epochs", "40", "--target-accuracy", "0.5", "--image-size", "16", "--batch-size", "16",
                             "--no-report", "--workers", "1")
    assert code == 0, err
    manifest = json.loads((tmp_path / "run" / "model" / "foveal.json").read_text())
    training = manifest["training"]
    assert training["reached_target"] and training["epochs"] < 40
    history = list(csv.DictReader((tmp_path / "run" / "metrics.csv").open()))
    assert len(history) == training["epochs"] and float(history[-1]["accuracy"]) >= 0.5
    assert all(float(row["accuracy"]) < 0.5 for row in history[:-1])
    # the split is also scored half-way through each epoch; this seed meets the target there, in epoch 2
    assert training["epochs"] == 2 and training["last_epoch_batches"] == 300 // 16 // 2
    said = " ".join(out.split())
    assert "reached --target-accuracy 0.5 half-way through epoch 2 (9 of its batches) of 40" in said
    assert float(history[-1]["train_seconds"]) < float(history[0]["train_seconds"])  # half an epoch trained
    assert float(history[-1]["val_seconds"]) > 0
    # the validation metrics of the bundle are those of the kept epoch (its probabilities are reused, not re-predicted)
    assert manifest["metrics"]["val"]["accuracy"] == pytest.approx(float(history[-1]["accuracy"]))


def test_a_deep_run_does_not_predict_its_validation_split_twice(capsys, tmp_path, digits_folder, monkeypatch):
    from foveal.bundle.deep import DeepModel

    def refuse(self, images):
        raise AssertionError("the validation split was predicted again after training")

    monkeypatch.setattr(DeepModel, "predict_proba", refuse)
    code, _, err = run_cli(capsys, "-q", "train", digits_folder, "--out", tmp_path / "run", "--model", "cnn-small",
                           "--epochs", "2", "--image-size", "16", "--no-report", "--workers", "1")
    assert code == 0, err


def test_target_accuracy_is_checked_before_work(capsys, tmp_path, digits_folder):
    code, _, err = run_cli(capsys, "train", digits_folder, "--out", tmp_path / "a", "--model", "svm",
                           "--target-accuracy", "0.9")
    assert code == 2 and "--target-accuracy applies to deep models" in err and not (tmp_path / "a").exists()
    code, _, err = run_cli(capsys, "train", digits_folder, "--out", tmp_path / "b", "--model", "cnn-small",
                           "--target-accuracy", "1.5")
    assert code == 2 and "--target-accuracy must be at most 1, got 1.5" in err and not (tmp_path / "b").exists()


def _formula_folder(root: Path, digits_folder: Path) -> Path:
    """Class folders and file names that a spreadsheet would run as formulas, plus a broken file."""
    for cls, digit in (("=SUM(A1)", "0"), ("+evil", "1")):
        (root / cls).mkdir(parents=True)
        for i, png in enumerate(sorted((digits_folder / "train" / digit).glob("*.png"))[:12]):
            shutil.copy(png, root / cls / (f"@cmd{i}.png" if i == 0 else f"{i}.png"))
    (root / "+evil" / "-broken.png").write_bytes(b"broken")
    return root


def _no_formula_cells(path: Path) -> list[list[str]]:
    rows = list(csv.reader(path.open()))
    assert not [c for row in rows for c in row if c.startswith(FORMULAS)], path
    return rows


def test_csv_files_never_hold_spreadsheet_formulas(capsys, tmp_path, digits_folder):
    from foveal.csvio import read_csv

    data = _formula_folder(tmp_path / "data", digits_folder)
    code, _, err = run_cli(capsys, "-q", "train", data, "--out", tmp_path / "run", "--model", "logistic",
                           "--max-skip-ratio", "0.5", "--no-report")
    assert code == 0, err
    _no_formula_cells(tmp_path / "run" / "skipped.csv")
    code, out, err = run_cli(capsys, "predict", tmp_path / "run", data / "=SUM(A1)", "--format", "csv", "--output",
                             tmp_path / "p.csv", "--top-k", "2")
    rows = _no_formula_cells(tmp_path / "p.csv")
    assert rows[0][:3] == ["path", "prediction", "error"] and len(rows) == 13
    assert {r["label_1"] for r in read_csv(tmp_path / "p.csv")} <= {"=SUM(A1)", "+evil"}  # true values read back
    code, _, err = run_cli(capsys, "-q", "cv", data, "--folds", "2", "--model", "logistic", "--max-skip-ratio", "0.5",
                           "--out", tmp_path / "cv")
    assert code == 0, err
    rows = _no_formula_cells(tmp_path / "cv" / "oof.csv")
    assert rows[0][4:] == ["'+evil", "'=SUM(A1)"]
    restored = read_csv(tmp_path / "cv" / "oof.csv")
    assert {r["label"] for r in restored} == {"=SUM(A1)", "+evil"} and "=SUM(A1)" in restored[0]


def test_report_with_cjk_and_emoji_class_names_has_no_glyph_warnings(tmp_path, digits_folder):
    import foveal

    root = tmp_path / "data"
    for cls, digit in (("猫", "0"), ("🐶", "1")):
        (root / cls).mkdir(parents=True)
        for png in sorted((digits_folder / "train" / digit).glob("*.png"))[:10]:
            shutil.copy(png, root / cls / png.name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = foveal.train(root, model="logistic", out=str(tmp_path / "run"))
    assert not [w for w in caught if "Glyph" in str(w.message)], [str(w.message) for w in caught]
    html = (result.run_dir / "report.html").read_text()
    assert "猫" in html and "🐶" in html
