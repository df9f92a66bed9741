"""`foveal data issues`: 5 % flipped digits labels are found (precision and recall above 0.7)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from foveal.audit.label_issues import find_issues, oof_from_cv
from foveal.config import resolve
from foveal.csvio import csv_text, read_csv
from foveal.data.export import export_dataset
from foveal.data.load import load_dataset
from foveal.progress import quiet
from helpers import run_cli, small, tree_hashes


def _flipped(ds, fraction: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(ds), size=int(round(fraction * len(ds))), replace=False)
    labels = list(ds.labels)
    for i in chosen:
        labels[i] = str((int(labels[i]) + int(rng.integers(1, 10))) % 10)
    return dataclasses.replace(ds, labels=labels), {int(i) for i in chosen}


def test_flipped_labels_are_found(tmp_path) -> None:
    noisy, flipped = _flipped(load_dataset("digits"), 0.05)
    cfg = resolve(None, {"data": noisy, "model": "logistic", "features": "pixels", "out": str(tmp_path / "cv")})
    with quiet():
        found = find_issues(noisy, oof_from_cv(cfg, 4))
    flagged = set(found.rows)
    precision, recall = len(flagged & flipped) / len(flagged), len(flagged & flipped) / len(flipped)
    assert precision > 0.7 and recall > 0.7, (precision, recall)
    confidences = [x["self_confidence"] for x in found.issues]
    assert confidences == sorted(confidences)  # most likely wrong first
    first = found.issues[0]
    assert first["given"] == noisy.labels[found.rows[0]] and first["suggested"] != first["given"]


@pytest.fixture()
def noisy_manifest(tmp_path):
    ds, flipped = _flipped(small("digits", 20), 0.1, seed=1)
    with quiet():
        export_dataset(ds, tmp_path / "d", "manifest")
    return tmp_path / "d" / "manifest.csv", flipped


def test_data_issues_cli(capsys, tmp_path, noisy_manifest) -> None:
    manifest, flipped = noisy_manifest
    before = tree_hashes(manifest.parent)
    fixed = manifest.parent / "fixed.csv"
    code, stdout, err = run_cli(capsys, "--quiet", "data", "issues", manifest, "--out", tmp_path / "issues.csv",
                                "--model", "logistic", "--features", "pixels", "--folds", "3",
                                "--project", tmp_path / "runs",
                                "--write-manifest", fixed, "--json", tmp_path / "i.json", "--report", tmp_path / "i.html")
    assert code == 0, err
    rows = read_csv(tmp_path / "issues.csv")
    assert list(rows[0]) == ["rank", "path", "given_label", "suggested_label", "self_confidence"]
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1)) and len(rows) >= len(flipped) // 2
    names = {f"images/digits-{i:05d}.png" for i in flipped}
    assert len({r["path"] for r in rows} & names) >= len(rows) // 2
    corrected = {r["path"]: r["label"] for r in read_csv(fixed)}
    for r in rows:
        assert corrected[r["path"]] == r["suggested_label"]
    assert len(corrected) == len(read_csv(manifest)) and load_dataset(fixed).task.n_classes == 10
    assert json.loads((tmp_path / "i.json").read_text())["n_issues"] == len(rows)
    assert (tmp_path / "i.html").read_text().count("data:image/png") == min(len(rows), 60)
    assert {k: v for k, v in tree_hashes(manifest.parent).items() if k != "fixed.csv"} == before


def test_data_issues_reads_an_oof_file(capsys, tmp_path, noisy_manifest) -> None:
    manifest, _ = noisy_manifest
    rows = read_csv(manifest)
    classes = [str(d) for d in range(10)]
    oof = [[r["path"], r["label"], 1, r["label"], *(1.0 if c == r["label"] else 0.0 for c in classes)] for r in rows]
    oof[0][4:] = [0.0] * 10
    oof[0][4 + (int(rows[0]["label"]) + 1) % 10] = 1.0  # the first image confidently looks like another class
    (tmp_path / "oof.csv").write_text(csv_text(["path", "label", "fold", "prediction", *classes], oof))
    code, _, err = run_cli(capsys, "data", "issues", manifest, "--oof", tmp_path / "oof.csv", "--out", tmp_path / "x.csv")
    assert code == 0, err
    (issue,) = read_csv(tmp_path / "x.csv")
    assert issue["path"] == rows[0]["path"] and issue["suggested_label"] == str((int(rows[0]["label"]) + 1) % 10)


def test_data_issues_refusals(capsys, tmp_path, noisy_manifest) -> None:
    manifest, _ = noisy_manifest
    code, _, err = run_cli(capsys, "data", "issues", "digits", "--out", tmp_path / "x.csv", "--write-manifest",
                           tmp_path / "m.csv")
    assert code == 2 and "built-in dataset" in err and not (tmp_path / "x.csv").exists()
    code, _, err = run_cli(capsys, "data", "issues", manifest, "--out", tmp_path / "x.csv", "--write-manifest", manifest)
    assert code == 2 and "already exists" in err
    code, _, err = run_cli(capsys, "data", "issues", manifest, "--out", tmp_path / "x.csv", "--oof", tmp_path / "no.csv")
    assert code == 2 and "does not exist" in err
