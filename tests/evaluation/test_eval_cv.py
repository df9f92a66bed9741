"""`foveal cv`: fold assignment, the JSON shape and the out-of-fold CSV."""

from __future__ import annotations

import csv
import json
from collections import Counter

import numpy as np
import pytest

from foveal.data.load import load_dataset
from foveal.data.task import MulticlassTask, MultilabelTask
from foveal.data.folds import assign_folds, iterative_stratification
from helpers import run_cli


def test_stratified_folds_partition_and_balance():
    labels = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    fold = assign_folds(MulticlassTask(["a", "b", "c"]), labels, 5, seed=1)
    assert sorted(Counter(fold).values()) == [20] * 5
    for f in range(5):
        assert Counter(lab for lab, k in zip(labels, fold) if k == f) == {"a": 10, "b": 6, "c": 4}


def test_group_folds_keep_groups_together():
    labels = ["a", "b"] * 30
    groups = [f"g{i // 4}" for i in range(60)]
    fold = assign_folds(MulticlassTask(["a", "b"]), labels, 3, seed=0, groups=groups)
    for g in set(groups):
        assert len({fold[i] for i in range(60) if groups[i] == g}) == 1


def test_iterative_stratification_spreads_every_label():
    rng = np.random.default_rng(0)
    y = (rng.uniform(size=(300, 6)) < [0.5, 0.3, 0.2, 0.1, 0.05, 0.03]).astype(int)
    fold = iterative_stratification(y, 3, seed=0)
    assert set(fold) == {0, 1, 2} and max(Counter(fold).values()) - min(Counter(fold).values()) <= 2
    per_fold = np.array([y[fold == f].sum(0) for f in range(3)])
    assert (per_fold.max(0) - per_fold.min(0) <= 1).all()  # each label's positives dealt evenly
    task = MultilabelTask(list("abcdef"))
    labels = [[c for c, v in zip(task.classes, row) if v] for row in y]
    assert (assign_folds(task, labels, 3, seed=0) == fold).all()


def test_cv_json_shape_and_oof_csv(capsys, tmp_path, digits_folder):
    out, js = tmp_path / "cv", tmp_path / "cv.json"
    code, stdout, err = run_cli(capsys, "-q", "cv", digits_folder, "--folds", "3", "--model", "svm",
                                "--features", "pixels", "--out", out, "--json", js)
    assert code == 0, err
    assert "3-fold cross-validation" in stdout and "mean" in stdout
    summary = json.loads(js.read_text())
    assert summary == json.loads((out / "cv.json").read_text())
    assert {"folds", "mean", "std"} <= set(summary) and len(summary["folds"]) == 3
    assert set(summary["mean"]) == set(summary["std"]) and "accuracy" in summary["mean"]
    accs = [f["metrics"]["accuracy"] for f in summary["folds"]]
    assert summary["mean"]["accuracy"] == pytest.approx(np.mean(accs))
    assert summary["std"]["accuracy"] == pytest.approx(np.std(accs))
    dev = load_dataset(digits_folder).select("train")
    dev_paths = set(dev.paths) | set(load_dataset(digits_folder).select("val").paths)
    with open(out / "oof.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(dev_paths) == sum(f["n_val"] for f in summary["folds"])
    assert Counter(r["path"] for r in rows) == Counter(dev_paths)  # every sample exactly once
    assert not any(r["path"].startswith("test/") for r in rows)  # the test split stays untouched
    assert list(rows[0])[:4] == ["path", "label", "fold", "prediction"] and len(rows[0]) == 4 + 10
    assert all(abs(sum(float(r[str(d)]) for d in range(10)) - 1) < 1e-4 for r in rows)
    assert {p.name for p in out.iterdir()} >= {"fold-1", "fold-2", "fold-3", "oof.csv", "folds.csv", "cv.json"}
    assert not (out / "fold-1" / "report.html").exists()


def test_cv_multilabel_manifest(capsys, tmp_path, multidigits_manifest):
    out = tmp_path / "cv"
    code, _, err = run_cli(capsys, "-q", "cv", multidigits_manifest, "--folds", "2", "--model", "logistic",
                           "--features", "pixels", "--out", out)
    assert code == 0, err
    summary = json.loads((out / "cv.json").read_text())
    assert summary["task"] == "multilabel" and 0 < summary["mean"]["map"] <= 1
    with open(out / "oof.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len({r["path"] for r in rows}) == len(rows) == summary["n"]


def test_cv_errors(capsys, tmp_path, digits_folder):
    code, _, err = run_cli(capsys, "cv", digits_folder, "--folds", "1", "--out", tmp_path / "x")
    assert code == 2 and "--folds must be at least 2" in err
