"""ImageFolder sources and the ``load_dataset`` entry point (folders, built-in names, errors)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import foveal
from foveal.data.builtin import BUILTINS
from foveal.data.load import load_dataset
from foveal.data.task import HierarchicalTask, MulticlassTask
from foveal.errors import ConfigError, DataError, FovealError
from helpers import tree_hashes


@pytest.fixture(scope="module")
def png_bytes(digits_folder: Path) -> list[bytes]:
    """Real PNG files (digits) to populate hand-made trees."""
    return [p.read_bytes() for p in sorted(digits_folder.glob("train/*/*.png"))[::7][:40]]


def populate(root: Path, layout: dict[str, int], pngs: list[bytes]) -> None:
    """Write ``n`` real PNGs into each relative folder in ``layout``."""
    k = 0
    for folder, n in layout.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for j in range(n):
            (root / folder / f"img{j}.png").write_bytes(pngs[k % len(pngs)])
            k += 1


def assert_one_line(err: FovealError) -> None:
    text = str(err)
    assert "\n" not in text and " — " in text, text


# --- the exported digits tree -------------------------------------------------------


def test_split_folders_give_splits_and_class_names(digits_folder: Path) -> None:
    before = tree_hashes(digits_folder)
    ds = load_dataset(digits_folder)
    assert ds.source == "folder" and ds.root == digits_folder
    assert ds.task.type == "multiclass"
    assert ds.task.classes == [str(d) for d in range(10)]
    assert ds.splits == ["train", "val", "test"]
    on_disk = sorted(p.relative_to(digits_folder).as_posix() for p in digits_folder.rglob("*.png"))
    assert sorted(ds.paths) == on_disk
    for path, label, split in zip(ds.paths, ds.labels, ds.split):
        split_dir, class_dir, _ = path.split("/")
        assert (split_dir, class_dir) == (split, label)
        assert ds.file(ds.paths.index(path)).is_file()
    assert Counter(ds.split)["train"] == 300  # 30 per class, as the fixture wrote
    assert tree_hashes(digits_folder) == before  # loading never touches the files


def test_flat_tree_has_no_splits(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, {"cat": 3, "dog": 2}, png_bytes)
    ds = load_dataset(tmp_path)
    assert ds.split == [None] * 5
    assert ds.splits == []
    assert ds.task.type == "binary" and ds.task.classes == ["cat", "dog"]
    assert sorted(zip(ds.paths, ds.labels)) == [
        ("cat/img0.png", "cat"), ("cat/img1.png", "cat"), ("cat/img2.png", "cat"),
        ("dog/img0.png", "dog"), ("dog/img1.png", "dog"),
    ]


def test_split_folder_aliases(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, {"training/a": 2, "training/b": 2, "validation/a": 1, "validation/b": 1,
                        "testing/a": 1, "testing/b": 1, ".ipynb_checkpoints/a": 1}, png_bytes)
    ds = load_dataset(tmp_path)
    assert Counter(ds.split) == {"train": 4, "val": 2, "test": 2}
    assert ds.task.classes == ["a", "b"]
    assert all(p.startswith({"train": "training/", "val": "validation/", "test": "testing/"}[s])
               for p, s in zip(ds.paths, ds.split))


# --- class order, hidden and non-image files ---------------------------------------


def test_class_order_is_plain_sorted_like_torchvision(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, {"Zebra": 2, "apple": 2, "Bee": 2}, png_bytes)
    ds = load_dataset(tmp_path)
    # torchvision's find_classes: sorted(entry.name ...) -> upper case before lower case
    assert ds.task.classes == ["Bee", "Zebra", "apple"]
    targets = ds.targets()
    for path, target in zip(ds.paths, targets):
        assert ["Bee", "Zebra", "apple"][target] == path.split("/")[0]


def test_hidden_folders_and_files_are_ignored(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, {"cat": 2, "dog": 2, ".git": 1, "cat/.thumbnails": 2, "dog/.cache/deep": 1},
             png_bytes)
    (tmp_path / "cat" / ".hidden.png").write_bytes(png_bytes[0])
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    ds = load_dataset(tmp_path)
    assert ds.task.type == "binary"  # hidden sub-folders must not make the tree look nested
    assert ds.task.classes == ["cat", "dog"]
    assert sorted(ds.paths) == ["cat/img0.png", "cat/img1.png", "dog/img0.png", "dog/img1.png"]


def test_non_image_extensions_ignored_and_case_insensitive(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, {"a": 1, "b": 1}, png_bytes)
    (tmp_path / "a" / "UPPER.PNG").write_bytes(png_bytes[1])
    (tmp_path / "b" / "photo.JPEG").write_bytes(png_bytes[2])  # extension decides, not content
    for junk in ("notes.txt", "labels.csv", "img0.png.bak", "README", "thumbs.db"):
        (tmp_path / "a" / junk).write_bytes(b"not an image")
    ds = load_dataset(tmp_path)
    assert sorted(ds.paths) == ["a/UPPER.PNG", "a/img0.png", "b/img0.png", "b/photo.JPEG"]


@pytest.mark.parametrize("content", [None, "notes.txt", ".hidden.png"])
def test_empty_class_folder_is_an_error(tmp_path: Path, png_bytes: list[bytes], content) -> None:
    populate(tmp_path, {"a": 2, "b": 2}, png_bytes)
    (tmp_path / "empty").mkdir()
    if content:
        (tmp_path / "empty" / content).write_bytes(png_bytes[0])
    with pytest.raises(DataError, match=r"class folder .*empty holds no images") as err:
        load_dataset(tmp_path)
    assert_one_line(err.value)


def test_empty_class_folder_inside_a_split_is_an_error(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, {"train/a": 2, "train/b": 2, "val/a": 1}, png_bytes)
    (tmp_path / "val" / "b").mkdir()
    with pytest.raises(DataError, match="holds no images"):
        load_dataset(tmp_path)


def test_folder_without_class_folders(tmp_path: Path, png_bytes: list[bytes]) -> None:
    (tmp_path / "loose.png").write_bytes(png_bytes[0])
    with pytest.raises(DataError, match="has no class folders") as err:
        load_dataset(tmp_path)
    assert_one_line(err.value)


def test_split_folder_without_class_folders(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, {"train/a": 2, "train/b": 2}, png_bytes)
    (tmp_path / "val").mkdir()
    (tmp_path / "val" / "x.png").write_bytes(png_bytes[0])
    with pytest.raises(DataError, match=r"split folder .*val has no class folders"):
        load_dataset(tmp_path)


def test_single_class_folder_is_an_error(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, {"only": 3}, png_bytes)
    with pytest.raises(DataError, match="1 class: only") as err:
        load_dataset(tmp_path)
    assert_one_line(err.value)


# --- nested trees ------------------------------------------------------------------

NESTED = {"vehicle/car/sedan": 2, "vehicle/car/suv": 2, "vehicle/bike": 2, "animal": 3}


def test_nested_tree_is_inferred_hierarchical(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, NESTED, png_bytes)
    ds = load_dataset(tmp_path)
    assert isinstance(ds.task, HierarchicalTask)
    assert ds.task.classes == ["animal", "vehicle/bike", "vehicle/car/sedan", "vehicle/car/suv"]
    for path, label in zip(ds.paths, ds.labels):
        assert path.rsplit("/", 1)[0] == label
    assert ds.task.taxonomy() == {"animal": {}, "vehicle": {"bike": {}, "car": {"sedan": {}, "suv": {}}}}


def test_explicit_multiclass_flattens_to_top_level(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, NESTED, png_bytes)
    ds = load_dataset(tmp_path, task="multiclass")
    assert type(ds.task) is MulticlassTask  # explicit wins over the two-class binary default
    assert ds.task.classes == ["animal", "vehicle"]
    assert Counter(ds.labels) == {"vehicle": 6, "animal": 3}
    assert sorted(ds.paths) == sorted(load_dataset(tmp_path).paths)  # same images, coarser labels


def test_explicit_hierarchical_on_flat_tree(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, {"a": 2, "b": 2, "c": 2}, png_bytes)
    ds = load_dataset(tmp_path, task="hierarchical")
    assert ds.task.type == "hierarchical" and ds.task.classes == ["a", "b", "c"]


def test_nested_tree_with_split_folders(taxonomy_folder: Path) -> None:
    ds = load_dataset(taxonomy_folder)
    assert ds.task.type == "hierarchical"
    assert ds.splits == ["train", "val", "test"]
    assert len(ds.task.classes) == 10
    assert {c.split("/")[0] for c in ds.task.classes} == {"loops", "lines", "curves"}
    assert "loops/8" in ds.task.classes and "lines/1" in ds.task.classes
    for path, label, split in zip(ds.paths, ds.labels, ds.split):
        assert path == f"{split}/{label}/{path.rsplit('/', 1)[1]}"
    flat = load_dataset(taxonomy_folder, task="multiclass")
    assert flat.task.classes == ["curves", "lines", "loops"]


@pytest.mark.parametrize("empty_leaf", ["vehicle/boat", "vehicle/car/coupe", "vehicle/car/coupe/.hidden"])
def test_empty_leaf_folder_in_a_hierarchy_is_an_error(tmp_path: Path, png_bytes: list[bytes],
                                                      empty_leaf: str) -> None:
    populate(tmp_path, NESTED, png_bytes)
    (tmp_path / empty_leaf).mkdir(parents=True)
    with pytest.raises(DataError, match=r"class folder .*vehicle/(boat|car/coupe) holds no images") as err:
        load_dataset(tmp_path)
    assert_one_line(err.value)
    with pytest.raises(DataError, match="holds no images"):
        load_dataset(tmp_path, task="hierarchical")


def test_empty_sub_folder_is_harmless_when_flattening(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, NESTED, png_bytes)
    (tmp_path / "vehicle/boat").mkdir()
    assert load_dataset(tmp_path, task="multiclass").task.classes == ["animal", "vehicle"]
    flat = tmp_path / "flat"
    populate(flat, {"a": 2, "b": 2}, png_bytes)
    (flat / "a" / "unused").mkdir()  # images sit directly in class folders: not a hierarchy
    assert load_dataset(flat).task.classes == ["a", "b"]


def test_label_that_is_leaf_and_parent_is_an_error(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, {"vehicle": 1, "vehicle/car": 2, "animal": 2}, png_bytes)
    with pytest.raises(DataError, match="'vehicle' is both a class and a parent") as err:
        load_dataset(tmp_path)
    assert_one_line(err.value)


def test_folder_refuses_multilabel(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, {"a": 2, "b": 2}, png_bytes)
    with pytest.raises(ConfigError, match="one label per image"):
        load_dataset(tmp_path, task="multilabel")


# --- passing a bundle's Task -------------------------------------------------------


def test_task_object_is_used_as_given(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, {"b": 2, "c": 2}, png_bytes)
    task = MulticlassTask(["a", "b", "c"])  # the model knows a class the data lacks: fine
    ds = load_dataset(tmp_path, task=task)
    assert ds.task is task
    assert sorted(ds.targets().tolist()) == [1, 1, 2, 2]


def test_task_object_refuses_unknown_labels(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, {"a": 2, "zebra": 2}, png_bytes)
    with pytest.raises(DataError, match="labels the model does not know: zebra") as err:
        load_dataset(tmp_path, task=MulticlassTask(["a", "b"]))
    assert_one_line(err.value)


def test_hierarchical_task_object_reads_nested_labels(tmp_path: Path, png_bytes: list[bytes]) -> None:
    populate(tmp_path, {"x/p": 2, "x/q": 2, "y": 2}, png_bytes)
    ds = load_dataset(tmp_path, task=HierarchicalTask(["x/p", "x/q", "y"]))
    assert sorted(set(ds.labels)) == ["x/p", "x/q", "y"]


# --- load_dataset source dispatch ---------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILTINS))
@pytest.mark.parametrize("prefix", ["", "builtin:"])
def test_builtin_names(name: str, prefix: str) -> None:
    ds = foveal.load_dataset(prefix + name)
    assert ds.source == "builtin" and ds.name == name
    assert ds.images is not None and len(ds) == ds.images.shape[0] == len(ds.split)
    assert ds.splits == ["train", "val", "test"]
    expected = {"digits": "multiclass", "faces": "binary", "textures": "multiclass",
                "multidigits": "multilabel", "digit-taxonomy": "hierarchical", "digits-in-clutter": "multiclass",
                "faces-biased": "binary", "digits-shifted": "multiclass"}.get(name, "multiclass")
    assert ds.task.type == expected


@pytest.mark.parametrize("source", ["no-such-dataset", "builtin:nope", "missing_dir/"])
def test_unknown_source_names_the_choices(tmp_path: Path, monkeypatch, source: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match="no folder, manifest or built-in dataset named") as err:
        load_dataset(source)
    for name in BUILTINS:
        assert name in str(err.value)
    assert_one_line(err.value)


def test_builtin_with_contradicting_task() -> None:
    with pytest.raises(ConfigError, match="several labels per image"):
        load_dataset("multidigits", task="multiclass")
    with pytest.raises(ConfigError, match="unknown task"):
        load_dataset("digits", task="regression")


def test_builtin_with_a_task_object() -> None:
    task = MulticlassTask([str(d) for d in range(10)])
    assert load_dataset("builtin:digits", task=task).task is task
    with pytest.raises(DataError, match="labels the model does not know: 2, 3, 4"):
        load_dataset("digits", task=MulticlassTask(["0", "1"]))
