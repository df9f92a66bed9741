"""Tests for foveal.data.builtin: shapes, splits, labels, leakage and determinism."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from foveal.data import builtin
from foveal.data.builtin import BUILTINS, BuiltinData, describe_builtins, load_builtin
from foveal.errors import DataError

SHAPES = {
    "digits": (1797, 8, 8, 1),
    "faces": (200, 25, 25, 1),
    "textures": (450, 32, 32, 1),
    "multidigits": (1500, 16, 16, 1),
    "digit-taxonomy": (1797, 8, 8, 1),
    "digits-in-clutter": (1797, 32, 32, 1),
    "faces-biased": (399, 25, 25, 1),
    "digits-shifted": (1797, 8, 8, 1),
    "digits-imbalanced": (1681, 8, 8, 1),
}
TASKS = {
    "digits": "multiclass",
    "faces": "binary",
    "textures": "multiclass",
    "multidigits": "multilabel",
    "digit-taxonomy": "hierarchical",
    "digits-in-clutter": "multiclass",
    "faces-biased": "binary",
    "digits-shifted": "multiclass",
    "digits-imbalanced": "multiclass",
}
SINGLE_LABEL = ["digits", "faces", "textures", "digit-taxonomy", "digits-in-clutter", "faces-biased"]


def test_every_builtin_is_described_and_tested() -> None:
    assert set(BUILTINS) == set(SHAPES)


@pytest.mark.parametrize("name", list(SHAPES))
def test_shapes_dtypes_and_lengths(name: str) -> None:
    data = load_builtin(name)
    assert isinstance(data, BuiltinData)
    assert data.name == name and data.task == TASKS[name]
    assert data.description == BUILTINS[name]
    assert data.images.shape == SHAPES[name] and data.images.dtype == np.uint8
    assert len(data.labels) == len(data.split) == data.images.shape[0]
    assert set(data.split) == {"train", "val", "test"}
    assert data.images.max() > 200  # scaled to the full 0..255 range, not left at 0..16 or 0..1


@pytest.mark.parametrize("name", [n for n in SHAPES if n != "digits-imbalanced"])  # its train split is cut
def test_split_fractions(name: str) -> None:
    split = load_builtin(name).split
    counts = Counter(split)
    for part, fraction in (("train", 0.70), ("val", 0.15), ("test", 0.15)):
        assert abs(counts[part] / len(split) - fraction) < 0.01, (part, counts)


@pytest.mark.parametrize("name", SINGLE_LABEL)
def test_splits_stratified_by_class(name: str) -> None:
    data = load_builtin(name)
    for label, total in Counter(data.labels).items():
        in_class = Counter(s for s, y in zip(data.split, data.labels) if y == label)
        assert in_class["val"] == in_class["test"] == round(0.15 * total), label
        assert in_class["train"] == total - 2 * round(0.15 * total), label


def test_deterministic_across_builds() -> None:
    first = {name: load_builtin(name) for name in SHAPES}
    builtin._build.cache_clear()
    builtin._digit_source.cache_clear()
    for name, before in first.items():
        after = load_builtin(name)
        assert after is not before
        assert np.array_equal(after.images, before.images), name
        assert after.labels == before.labels and after.split == before.split, name


def test_cached_data_cannot_be_altered_by_callers() -> None:
    data = load_builtin("multidigits")
    data.labels[0].append("x")
    data.split[0] = "nope"
    assert not data.images.flags.writeable
    again = load_builtin("multidigits")
    assert "x" not in again.labels[0] and again.split[0] != "nope"


def test_label_sets() -> None:
    assert set(load_builtin("digits").labels) == {str(d) for d in range(10)}
    assert set(load_builtin("textures").labels) == {"brick", "grass", "gravel"}
    faces = load_builtin("faces").labels
    assert sorted(set(faces)) == ["background", "face"]  # "face" is the positive, second class
    assert faces[:100] == ["face"] * 100 and faces[100:] == ["background"] * 100
    taxonomy = set(load_builtin("digit-taxonomy").labels)
    assert taxonomy == {
        "loops/0", "loops/6", "loops/8", "loops/9",
        "lines/1", "lines/4", "lines/7",
        "curves/2", "curves/3", "curves/5",
    }  # fmt: skip


def test_digit_taxonomy_matches_digits() -> None:
    digits, taxonomy = load_builtin("digits"), load_builtin("digit-taxonomy")
    assert np.array_equal(digits.images, taxonomy.images)
    assert digits.split == taxonomy.split
    assert [path.split("/")[1] for path in taxonomy.labels] == digits.labels


def test_multidigits_labels_are_sorted_distinct_digits() -> None:
    data = load_builtin("multidigits")
    digits = {str(d) for d in range(10)}
    for labels in data.labels:
        assert labels == sorted(set(labels)) and 1 <= len(labels) <= 3
        assert set(labels) <= digits
    assert Counter(len(labels) for labels in data.labels)[3] > 300


def test_multidigits_composed_from_split_disjoint_sources() -> None:
    plan = builtin._multidigit_plan()
    source_images, source_labels, source_split = builtin._digit_source()
    data = load_builtin("multidigits")
    used: dict[str, set[int]] = {"train": set(), "val": set(), "test": set()}
    for n, (split, sources, slots) in enumerate(plan):
        assert data.split[n] == split and len(sources) in (2, 3)
        assert all(source_split[s] == split for s in sources)  # test digits never in training
        used[split].update(sources)
        assert data.labels[n] == sorted({source_labels[s] for s in sources})
        for source, slot in zip(sources, slots):
            row, col = builtin.MULTIDIGIT_SLOTS[slot]
            assert np.array_equal(data.images[n, row : row + 8, col : col + 8], source_images[source])
    assert not (used["train"] & used["val"] or used["train"] & used["test"] or used["val"] & used["test"])


def test_texture_patches_come_from_disjoint_row_bands() -> None:
    size = builtin.TEXTURE_SOURCE_SIZE
    bands = builtin._texture_bands(size)
    assert bands["train"][0] == 0 and bands["test"][1] == size
    assert bands["train"][1] == bands["val"][0] and bands["val"][1] == bands["test"][0]
    assert bands["train"][1] == pytest.approx(0.70 * size, abs=2)
    plan = builtin._texture_plan()
    assert [label for label, split, *_ in plan] == load_builtin("textures").labels
    for _, split, row, col, _ in plan:
        top, bottom = bands[split]
        assert top <= row and row + builtin.TEXTURE_CROP <= bottom
        assert 0 <= col and col + builtin.TEXTURE_CROP <= size


@pytest.mark.parametrize("angle", [0.0, 17.0, 45.0, 90.0, 135.0, 222.5, 315.0])
def test_rotated_texture_patches_have_no_empty_corners(angle: float) -> None:
    flat = np.full((64, 64), 200, dtype=np.uint8)
    patch = builtin._rotated_patch(flat, 3, 5, angle)
    assert patch.shape == (builtin.TEXTURE_PATCH, builtin.TEXTURE_PATCH)
    assert (patch == 200).all()


def test_unknown_name_lists_the_builtins() -> None:
    with pytest.raises(DataError) as info:
        load_builtin("mnist")
    message = str(info.value)
    assert "mnist" in message
    assert all(name in message for name in BUILTINS)


def test_describe_builtins() -> None:
    rows = {row["name"]: row for row in describe_builtins()}
    assert list(rows) == list(BUILTINS)
    assert rows["digits"]["n_images"] == 1797 and rows["digits"]["n_classes"] == 10
    assert rows["faces"]["n_classes"] == 2 and rows["faces"]["image_size"] == (25, 25)
    assert rows["multidigits"]["n_classes"] == 10 and rows["multidigits"]["task"] == "multilabel"
    assert rows["textures"]["channels"] == 1
    assert all(row["description"] for row in rows.values())


def test_digits_in_clutter_boxes_hold_the_digit() -> None:
    data, digits = load_builtin("digits-in-clutter"), load_builtin("digits")
    assert data.boxes.shape == (1797, 4) and data.labels == digits.labels and data.split == digits.split
    for image, (top, left, bottom, right) in zip(data.images[:50], data.boxes[:50]):
        assert bottom - top == right - left == builtin.CLUTTER_DIGIT
        inside = image[top:bottom, left:right].astype(int)
        assert inside.max() > builtin.CLUTTER_NOISE  # the digit's strokes are brighter than any noise pixel
        outside = image.copy()
        outside[top:bottom, left:right] = 0
        assert outside.max() <= builtin.CLUTTER_NOISE


def test_faces_biased_plants_a_rare_dark_subgroup() -> None:
    data = load_builtin("faces-biased")
    tone = data.attributes["tone"]
    train = [(t, y) for t, y, s in zip(tone, data.labels, data.split) if s == "train"]
    assert Counter(train)["dark", "face"] == 4 and Counter(train)["dark", "background"] == 16
    test = [t for t, s in zip(tone, data.split) if s == "test"]
    assert Counter(test) == {"dark": 32, "light": 28}
    dark = data.images[[i for i, t in enumerate(tone) if t == "dark"]]
    light = data.images[[i for i, t in enumerate(tone) if t == "light"]]
    assert dark.mean() < 0.5 * light.mean() and dark.std() < 0.5 * light.std()
