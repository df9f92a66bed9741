"""Images without labels: a plain folder, a manifest without a label column, or one class — what
pretraining, embeddings and clustering are for; classifiers still refuse them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from foveal.data.load import load_dataset
from foveal.errors import DataError
from helpers import run_cli


@pytest.fixture()
def plain_folder(tmp_path, digits_folder) -> Path:
    root = tmp_path / "inbox"
    (root / "more").mkdir(parents=True)
    for i, png in enumerate(sorted((digits_folder / "train").rglob("*.png"))[:40]):
        shutil.copy(png, (root if i % 2 else root / "more") / f"{i}.png")
    return root


def test_a_plain_folder_loads_as_unlabelled_only_when_labels_are_optional(plain_folder):
    ds = load_dataset(plain_folder, labels="optional")
    assert ds.task.type == "unlabeled" and len(ds) == 40 and set(ds.labels) == {None}
    assert sum(p.startswith("more/") for p in ds.paths) == 20  # images in sub-folders count too
    with pytest.raises(DataError):
        load_dataset(plain_folder)  # a classifier needs classes


def test_a_manifest_without_labels_and_a_single_class(tmp_path, digits_folder):
    files = sorted((digits_folder / "train" / "3").glob("*.png"))[:10]
    for f in files:
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "m.csv").write_text("path\n" + "\n".join(f.name for f in files) + "\n")
    ds = load_dataset(tmp_path / "m.csv", labels="optional")
    assert ds.task.type == "unlabeled" and ds.labels == [None] * 10
    one = load_dataset(digits_folder / "train" / "..", labels="optional")  # ten classes stay labelled
    assert one.task.type == "multiclass"
    single = tmp_path / "single" / "3"
    single.mkdir(parents=True)
    for f in files:
        shutil.copy(f, single / f.name)
    ds = load_dataset(tmp_path / "single", labels="optional")
    assert ds.task.type == "unlabeled" and set(ds.labels) == {"3"}  # the label is kept for reference


def test_pretrain_and_embed_a_plain_folder(capsys, tmp_path, plain_folder):
    code, _, err = run_cli(capsys, "-q", "pretrain", plain_folder, "--method", "rotation", "--epochs", "1",
                           "--image-size", "16", "--out", tmp_path / "run", "--workers", "1")
    assert code == 0, err
    code, _, err = run_cli(capsys, "-q", "embed", tmp_path / "run", plain_folder, "--out", tmp_path / "e.parquet")
    assert code == 0, err
    table = pd.read_parquet(tmp_path / "e.parquet")
    assert len(table) == 40 and table["label"].isna().all()
    code, _, err = run_cli(capsys, "train", plain_folder, "--out", tmp_path / "clf")
    assert code == 2 and "class" in err and not (tmp_path / "clf").exists()
