"""train_val: stratified, seeded hold-out; existing val splits win; the test split is never used."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from foveal.data.dataset import Dataset
from foveal.data.load import load_dataset
from foveal.data.split import stratified_holdout, train_val
from foveal.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def train_test_folder(tmp_path_factory, digits_folder: Path) -> Path:
    """digits PNGs with train/ and test/ folders but no val/."""
    root = tmp_path_factory.mktemp("split") / "train_test"
    for split in ("train", "test"):
        shutil.copytree(digits_folder / split, root / split)
    return root


@pytest.fixture(scope="module")
def flat_folder(tmp_path_factory, digits_folder: Path) -> Path:
    """digits PNGs as plain class folders (no splits), classes of unequal size."""
    root = tmp_path_factory.mktemp("split") / "flat"
    for cls_dir in sorted((digits_folder / "train").iterdir()):
        keep = 4 + 3 * int(cls_dir.name)  # 4, 7, ..., 31 images
        (root / cls_dir.name).mkdir(parents=True)
        for png in sorted(cls_dir.glob("*.png"))[:keep]:
            shutil.copy(png, root / cls_dir.name / png.name)
    return root


def paths(ds: Dataset) -> set[str]:
    return set(ds.paths)


def test_existing_val_split_wins(digits_folder: Path) -> None:
    ds = load_dataset(digits_folder)
    expected_train = {p for p, s in zip(ds.paths, ds.split) if s == "train"}
    expected_val = {p for p, s in zip(ds.paths, ds.split) if s == "val"}
    for fraction, seed in [(0.2, 0), (0.5, 7)]:
        train, val = train_val(ds, fraction, seed)
        assert paths(train) == expected_train and paths(val) == expected_val
        assert set(train.split) == {"train"} and set(val.split) == {"val"}


def test_unmarked_samples_join_training_when_val_exists(tmp_path: Path, digits_folder: Path) -> None:
    """A manifest mixing marked and unmarked rows: unmarked ones train, the val rows validate."""
    rows = ["path,label,split"]
    for split in ("train", "val", "test"):
        for png in sorted((digits_folder / split).glob("*/*.png"))[:40]:
            dest = tmp_path / split / png.name
            dest.parent.mkdir(exist_ok=True)
            shutil.copy(png, dest)
            mark = "" if split == "train" and png.name.endswith(("0.png", "5.png")) else split
            rows.append(f"{split}/{png.name},{png.parent.name},{mark}")
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    ds = load_dataset(tmp_path / "m.csv")
    assert None in ds.split
    train, val = train_val(ds, 0.3, 0)
    assert len(train) == 40 and len(val) == 40
    assert all(p.startswith("train/") for p in train.paths)
    assert all(p.startswith("val/") for p in val.paths)


@pytest.mark.parametrize("source", ["train_test_folder", "digits_folder"])
def test_test_split_is_never_in_train_or_val(source: str, request) -> None:
    ds = load_dataset(request.getfixturevalue(source))
    test = {p for p, s in zip(ds.paths, ds.split) if s == "test"}
    assert test
    for seed in range(3):
        train, val = train_val(ds, 0.25, seed)
        assert not (paths(train) | paths(val)) & test
        assert "test" not in set(train.split) | set(val.split)


def test_holdout_partitions_the_training_pool(train_test_folder: Path) -> None:
    ds = load_dataset(train_test_folder)
    pool = {p for p, s in zip(ds.paths, ds.split) if s == "train"}
    train, val = train_val(ds, 0.2, 0)
    assert not paths(train) & paths(val)
    assert paths(train) | paths(val) == pool
    assert len(train) + len(val) == len(pool)  # no sample twice
    for part in (train, val):
        for path, label in zip(part.paths, part.labels):
            assert path.split("/")[1] == label  # labels stay attached to their images


def test_same_seed_same_split_different_seed_different(flat_folder: Path) -> None:
    ds = load_dataset(flat_folder)
    first = train_val(ds, 0.25, seed=3)
    again = train_val(load_dataset(flat_folder), 0.25, seed=3)
    assert first[1].paths == again[1].paths and first[0].paths == again[0].paths
    other = train_val(ds, 0.25, seed=4)
    assert paths(other[1]) != paths(first[1])
    assert len(other[1]) == len(first[1])  # same stratified sizes, different members


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5])
def test_stratified_per_class(flat_folder: Path, fraction: float) -> None:
    ds = load_dataset(flat_folder)
    total = Counter(ds.labels)
    train, val = train_val(ds, fraction, seed=0)
    held = Counter(val.labels)
    kept = Counter(train.labels)
    for cls, n in total.items():
        assert held[cls] >= 1 and kept[cls] >= 1
        assert held[cls] + kept[cls] == n
        assert abs(held[cls] - n * fraction) <= 1, (cls, n, held[cls])


def test_every_class_with_two_samples_in_both_parts(tmp_path: Path, digits_folder: Path) -> None:
    sizes = {"0": 2, "1": 2, "2": 3, "3": 1, "4": 12}
    for cls, n in sizes.items():
        (tmp_path / cls).mkdir()
        for png in sorted((digits_folder / "train" / cls).glob("*.png"))[:n]:
            shutil.copy(png, tmp_path / cls / png.name)
    ds = load_dataset(tmp_path)
    for seed in range(5):
        for fraction in (0.01, 0.5, 0.99):
            train, val = train_val(ds, fraction, seed)
            for cls, n in sizes.items():
                if n >= 2:
                    assert cls in train.labels and cls in val.labels, (seed, fraction, cls)
            assert "3" in train.labels and "3" not in val.labels  # a lone sample is trained on


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2, 1.5, float("nan")])
@pytest.mark.parametrize("source", ["flat_folder", "digits_folder"])
def test_fraction_out_of_range(fraction: float, source: str, request) -> None:
    ds = load_dataset(request.getfixturevalue(source))
    with pytest.raises(ConfigError, match="--val-fraction must be between 0 and 1") as err:
        train_val(ds, fraction, 0)
    assert " — " in str(err.value)


def test_no_training_samples(digits_folder: Path) -> None:
    only_test = load_dataset(digits_folder).select("test")
    with pytest.raises(DataError, match="no training samples"):
        train_val(only_test, 0.2, 0)


def test_too_small_to_hold_out(tmp_path: Path, digits_folder: Path) -> None:
    for cls in ("0", "1"):
        (tmp_path / cls).mkdir()
        shutil.copy(next((digits_folder / "train" / cls).glob("*.png")), tmp_path / cls / "only.png")
    with pytest.raises(DataError, match="too small to hold out a validation split"):
        train_val(load_dataset(tmp_path), 0.2, 0)


def test_multilabel_holdout(multidigits_manifest: Path) -> None:
    ds = load_dataset(multidigits_manifest)
    train, val = train_val(ds, 0.2, 0)
    test = {p for p, s in zip(ds.paths, ds.split) if s == "test"}
    assert not (paths(train) | paths(val)) & test
    assert not paths(train) & paths(val)


def test_multilabel_holdout_without_val(tmp_path: Path, multidigits_manifest: Path) -> None:
    """Drop the val rows so the multi-label stratified hold-out actually runs."""
    src = multidigits_manifest.parent
    lines = multidigits_manifest.read_text().splitlines()
    kept = [lines[0]] + [ln for ln in lines[1:] if not ln.endswith(",val")]
    shutil.copytree(src / "images", tmp_path / "images")
    (tmp_path / "m.csv").write_text("\n".join(kept) + "\n")
    ds = load_dataset(tmp_path / "m.csv")
    assert "val" not in ds.splits
    train, val = train_val(ds, 0.2, 1)
    pool = [p for p, s in zip(ds.paths, ds.split) if s == "train"]
    assert sorted(train.paths + val.paths) == sorted(pool)
    assert 0.1 < len(val) / len(pool) < 0.3
    assert train_val(ds, 0.2, 1)[1].paths == val.paths


def test_stratified_holdout_directly() -> None:
    keys = ["a"] * 10 + ["b"] * 5 + ["c"]
    keep, held = stratified_holdout(keys, 0.2, seed=0)
    assert sorted(keep.tolist() + held.tolist()) == list(range(16))
    assert Counter(keys[i] for i in held) == {"a": 2, "b": 1}
    assert 15 in keep  # the singleton 'c'


def test_groups_never_straddle_train_and_val(tmp_path, digits_folder):
    import csv

    rows = []
    for i, png in enumerate(sorted((digits_folder / "train").rglob("*.png"))):
        rows.append({"path": str(png.relative_to(digits_folder)), "label": png.parent.name,
                     "group": f"patient{i // 4}"})
    manifest = digits_folder / "grouped.csv"
    with manifest.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["path", "label", "group"])
        writer.writeheader()
        writer.writerows(rows)
    try:
        ds = load_dataset(manifest)
        train, val = train_val(ds, 0.25, seed=3)
        assert set(train.group).isdisjoint(val.group)
        assert len(train) + len(val) == len(ds)
        assert 0.1 < len(val) / len(ds) < 0.4
        assert set(val.labels) == set(ds.labels)
    finally:
        manifest.unlink()
