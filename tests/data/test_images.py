"""Preprocessing inference (auto size) and the skip-ratio check on real image folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import dirty_images as dirty
from foveal.data.images import AUTO_MAX_SIDE, auto_size, check_skip_ratio, infer_preprocessing, load_images
from foveal.data.load import load_dataset
from foveal.errors import DataError

# (width, height) of a dozen photos: every size different, portrait, landscape and square.
PHOTO_SIZES = [(30, 30), (40, 60), (50, 80), (64, 48), (80, 120), (90, 60),
               (110, 100), (120, 90), (150, 100), (160, 120), (200, 150), (240, 180)]


def test_mixed_photo_sizes_give_the_median_size(tmp_path: Path) -> None:
    for i, (w, h) in enumerate(PHOTO_SIZES):
        folder = tmp_path / ("cats" if i % 2 else "dogs")
        folder.mkdir(exist_ok=True)
        (folder / f"a{i:02d}.jpg").write_bytes(dirty.jpeg_bytes(dirty.photo((w, h)), quality=90))
    prep = infer_preprocessing(load_dataset(tmp_path))
    # median height (90 + 100) / 2 = 95, median width (90 + 110) / 2 = 100; longer side scaled to 64
    assert prep.size == (round(95 * 0.64), AUTO_MAX_SIDE) == (61, 64)
    assert prep.channels == 3


def test_auto_size_rules() -> None:
    assert auto_size([(8, 8)] * 3 + [(100, 200)] * 2) == (8, 8)  # a majority size wins
    assert auto_size([(20, 10)] * 5 + [(40, 40), (50, 60), (70, 80), (90, 90), (30, 30)]) == (20, 10)  # half
    assert auto_size([(20, 10)] * 4 + [(40, 40), (50, 60), (70, 80), (90, 90), (30, 30)]) == (30, 30)  # median
    assert auto_size([(100, 200)]) == (32, 64)  # scaled down, aspect kept
    assert auto_size([(30, 30), (40, 60), (31, 50)]) == (31, 50)


@pytest.fixture()
def broken_folder(tmp_path: Path) -> Path:
    """Two classes whose every file is broken in a different way."""
    root = tmp_path / "broken"
    for cls, files in {"a": {"empty.png": b"", "text.png": b"not an image\n"},
                       "b": {"cut.jpg": dirty.truncated_jpeg()}}.items():
        (root / cls).mkdir(parents=True)
        for name, data in files.items():
            (root / cls / name).write_bytes(data)
    return root


@pytest.mark.parametrize("max_skip_ratio", [0.1, 1.0])
def test_no_decodable_image_says_so(broken_folder: Path, max_skip_ratio: float) -> None:
    ds = load_dataset(broken_folder)
    prep = infer_preprocessing(ds)
    with pytest.raises(DataError) as err:
        load_images(ds, prep, max_skip_ratio=max_skip_ratio)
    text = str(err.value)
    assert text == ("none of the 3 images in broken could be decoded; first: a/empty.png: empty file (0 bytes)"
                    " — run `foveal data check broken` to see why")
    assert "--max-skip-ratio" not in text  # raising it cannot help


def test_some_undecodable_keeps_the_ratio_message(broken_folder: Path, digits_folder: Path) -> None:
    for png in sorted((digits_folder / "train" / "1").glob("*.png"))[:5]:
        shutil.copy(png, broken_folder / "b" / png.name)
    ds = load_dataset(broken_folder)
    with pytest.raises(DataError) as err:
        load_images(ds, infer_preprocessing(ds), max_skip_ratio=0.2)
    assert str(err.value).startswith("3 of 8 images in broken could not be decoded (38%); first: a/empty.png")
    assert "raise --max-skip-ratio (now 0.2)" in str(err.value)
    assert len(load_images(ds, infer_preprocessing(ds), max_skip_ratio=0.5).kept) == 5


def test_check_skip_ratio_directly() -> None:
    check_skip_ratio("d", 10, [], 0.0)
    check_skip_ratio("d", 10, [{"path": "x", "reason": "r"}], 0.1)  # 10% is allowed at 0.1
    with pytest.raises(DataError, match="none of the 1 images in d could be decoded; first: x: r"):
        check_skip_ratio("d", 1, [{"path": "x", "reason": "r"}], 1.0)
