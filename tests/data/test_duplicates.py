"""Identical content: duplicate groups, conflicting labels, and a hold-out that never splits them."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from foveal.csvio import csv_text
from foveal.data.dataset import Dataset
from foveal.data.duplicates import conflicting_labels, content_duplicates
from foveal.data.load import load_dataset
from foveal.data.split import linked_units, train_val
from foveal.errors import ConfigError

SEEDS = range(30)


def sha256_keys(ds: Dataset) -> list[str]:
    return [hashlib.sha256(ds.file(i).read_bytes()).hexdigest() for i in range(len(ds))]


def sides(train: Dataset, val: Dataset) -> dict[str, str]:
    return {**{p: "train" for p in train.paths}, **{p: "val" for p in val.paths}}


@pytest.fixture()
def copies_folder(tmp_path: Path, digits_folder: Path) -> Path:
    """Four digit classes of 10 PNGs; in each class one picture has two byte-identical copies."""
    root = tmp_path / "copies"
    for cls in ("0", "1", "2", "3"):
        (root / cls).mkdir(parents=True)
        pngs = sorted((digits_folder / "train" / cls).glob("*.png"))[:10]
        for png in pngs:
            shutil.copy(png, root / cls / png.name)
        for n in (1, 2):
            shutil.copy(pngs[0], root / cls / f"copy{n}.png")
    return root


def test_content_duplicates_groups_sorted_indices() -> None:
    keys = ["a", "b", "a", None, "c", "b", "a", "", None]
    assert content_duplicates(keys) == [[0, 2, 6], [1, 5]]  # None and "" match nothing
    assert content_duplicates(["x", "y"]) == [] and content_duplicates([]) == []


def test_conflicting_labels(copies_folder: Path) -> None:
    ds = load_dataset(copies_folder)
    keys = sha256_keys(ds)
    assert len(content_duplicates(keys)) == 4 and conflicting_labels(ds, keys) == []
    odd = keys[:]
    odd[ds.paths.index("3/copy2.png")] = keys[ds.paths.index("1/copy1.png")]  # as if copied across classes
    conflicts = conflicting_labels(ds, odd)
    class_one = next(g for g in content_duplicates(keys) if ds.labels[g[0]] == "1")
    assert conflicts == [sorted(class_one + [ds.paths.index("3/copy2.png")])]


def test_multilabel_conflicts_compare_label_sets() -> None:
    from foveal.data.task import MultilabelTask

    ds = Dataset(name="m", source="manifest", task=MultilabelTask(["a", "b"]), labels=[["a", "b"], ["a", "b"], ["a"]],
                 split=[None] * 3, paths=["x.png", "y.png", "z.png"], root=Path("."))
    assert conflicting_labels(ds, ["k", "k", "k"]) == [[0, 1, 2]]
    assert conflicting_labels(ds, ["k", "k", "j"]) == []


def test_linked_units_union_find() -> None:
    groups = ["G", None, "H", "H", None, "G", None]
    same = [None, "s", "t", None, "s", None, "t"]
    # 0-5 (group G), 2-3 (group H), 1-4 (content s), 2-6 (content t joins H)
    assert linked_units([groups, same]) == [0, 1, 2, 2, 1, 0, 2]
    assert linked_units([["a", "b", "c"]]) == [0, 1, 2] and linked_units([]) == []
    chain = linked_units([["p", "p", "q", "q", None], [None, "x", "x", None, None]])
    assert chain == [0, 0, 0, 0, 4]  # p and q chained through content x


def test_identical_files_stay_on_one_side(copies_folder: Path) -> None:
    ds = load_dataset(copies_folder)
    keys = sha256_keys(ds)
    groups = [[ds.paths[i] for i in g] for g in content_duplicates(keys)]
    straddled_without = 0
    for seed in SEEDS:
        side = sides(*train_val(ds, 0.3, seed, same=keys))
        assert all(len({side[p] for p in g}) == 1 for g in groups), seed
        plain = sides(*train_val(ds, 0.3, seed))
        straddled_without += any(len({plain[p] for p in g}) > 1 for g in groups)
    assert straddled_without > 0  # without content keys the copies leak across the hold-out


def test_content_joins_groups_into_one_unit(tmp_path: Path, digits_folder: Path) -> None:
    """Patients p0 and p1 share one picture, as do p2 and p5: each pair is held out together."""
    pngs = sorted((digits_folder / "train").glob("[01]/*.png"))[:40]
    rows = []
    for i, png in enumerate(pngs):
        shutil.copy(png, tmp_path / f"{i}.png")
        rows.append([f"{i}.png", png.parent.name, f"p{i // 2}"])
    shutil.copy(tmp_path / "2.png", tmp_path / "0.png")  # p0 holds a copy of a p1 picture
    shutil.copy(tmp_path / "10.png", tmp_path / "5.png")  # p2 holds a copy of a p5 picture
    (tmp_path / "m.csv").write_text(csv_text(["path", "label", "group"], rows), encoding="utf-8")
    ds = load_dataset(tmp_path / "m.csv")
    keys = sha256_keys(ds)
    units = [{"p0", "p1"}, {"p2", "p5"}]
    apart_without = 0
    for seed in SEEDS:
        train, val = train_val(ds, 0.25, seed, same=keys)
        assert set(train.group).isdisjoint(val.group)
        for unit in units:
            assert unit <= set(train.group) or unit <= set(val.group), (seed, unit)
        plain_train, plain_val = train_val(ds, 0.25, seed)
        apart_without += any(not (u <= set(plain_train.group) or u <= set(plain_val.group)) for u in units)
    assert apart_without > 0


@pytest.mark.parametrize("grouped", [False, True])
def test_distinct_keys_change_nothing(tmp_path: Path, digits_folder: Path, grouped: bool) -> None:
    pngs = sorted((digits_folder / "train").glob("*/*.png"))[:60]
    rows = [[str(p.relative_to(digits_folder)), p.parent.name] + ([f"g{i // 3}"] if grouped else [])
            for i, p in enumerate(pngs)]
    header = ["path", "label"] + (["group"] if grouped else [])
    (digits_folder / "distinct.csv").write_text(csv_text(header, rows), encoding="utf-8")
    try:
        ds = load_dataset(digits_folder / "distinct.csv")
        for seed in (0, 1, 2):
            plain = train_val(ds, 0.2, seed)
            for same in (None, sha256_keys(ds), [None] * len(ds)):
                with_keys = train_val(ds, 0.2, seed, same=same)
                assert [part.paths for part in with_keys] == [part.paths for part in plain]
    finally:
        (digits_folder / "distinct.csv").unlink()


def test_content_keys_must_match_the_dataset(copies_folder: Path) -> None:
    ds = load_dataset(copies_folder)
    with pytest.raises(ConfigError, match=f"3 content keys for the {len(ds)} samples") as err:
        train_val(ds, 0.2, 0, same=["a", "b", "c"])
    assert " — " in str(err.value)


def test_existing_val_split_ignores_content_keys(digits_folder: Path) -> None:
    ds = load_dataset(digits_folder)
    keys = ["same"] * len(ds)  # everything identical: irrelevant when val is given
    train, val = train_val(ds, 0.2, 0, same=keys)
    assert set(train.split) == {"train"} and set(val.split) == {"val"}
