"""Decompression bombs are refused from the header on every path; decoding is thread-safe."""

from __future__ import annotations

import shutil
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import ImageFile

import dirty_images as dirty
from foveal.data.check import check_dataset
from foveal.data.decode import DEFAULT_MAX_PIXELS, decode_image, image_header
from foveal.data.images import infer_preprocessing, load_images
from foveal.data.load import load_dataset
from foveal.errors import DecodeError

# (width, height, limit): beyond Pillow's own cap, and under it but over a user's limit.
BOMBS = [(20_000, 20_000, DEFAULT_MAX_PIXELS), (8_000, 8_000, 10_000_000)]


@pytest.fixture()
def loads(monkeypatch) -> list[tuple[int, int]]:
    """The size of every image whose pixels Pillow decodes while the test runs."""
    sizes: list[tuple[int, int]] = []
    original = ImageFile.ImageFile.load

    def spy(self):
        sizes.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return sizes


def bomb_folder(root: Path, digits_folder: Path, width: int, height: int) -> Path:
    """Two class folders of real digit PNGs; class 3 also holds ``bomb.png``."""
    for cls in ("3", "5"):
        (root / cls).mkdir(parents=True)
        for png in sorted((digits_folder / "train" / cls).glob("*.png"))[:6]:
            shutil.copy(png, root / cls / png.name)
    (root / "3" / "bomb.png").write_bytes(dirty.png_bomb(width, height))
    return root


def test_bomb_is_a_real_small_png() -> None:
    data = dirty.png_bomb(20_000, 20_000)
    assert 100_000 < len(data) < 1_000_000  # a few hundred KB on disk, 400 MB decoded
    assert image_header(data, max_pixels=None) == {"width": 20_000, "height": 20_000, "mode": "L",
                                                   "format": "PNG"}
    small = decode_image(dirty.png_bomb(300, 200), channels=None)  # the same recipe decodes fine
    assert small.shape == (200, 300, 1) and not small.any()


@pytest.mark.parametrize("width, height, limit", BOMBS)
def test_image_header_checks_size_before_anything(loads, width: int, height: int, limit: int) -> None:
    with pytest.raises(DecodeError, match=f"image too large: {width}×{height}"):
        image_header(dirty.png_bomb(width, height), max_pixels=limit)
    with pytest.raises(DecodeError, match="image too large"):
        decode_image(dirty.png_bomb(width, height), max_pixels=limit)
    assert loads == []


@pytest.mark.parametrize("width, height, limit", BOMBS)
def test_check_dataset_never_loads_a_bomb(tmp_path, digits_folder, loads, width, height, limit) -> None:
    ds = load_dataset(bomb_folder(tmp_path / "data", digits_folder, width, height))
    report = check_dataset(ds, limit)
    assert [u["path"] for u in report["undecodable"]] == ["3/bomb.png"]
    assert report["undecodable"][0]["reason"].startswith(f"image too large: {width}×{height}")
    assert report["n_decodable"] == 12
    assert (width, height) not in loads and all(w * h <= limit for w, h in loads)


@pytest.mark.parametrize("width, height, limit", BOMBS)
def test_training_path_never_loads_a_bomb(tmp_path, digits_folder, loads, width, height, limit) -> None:
    ds = load_dataset(bomb_folder(tmp_path / "data", digits_folder, width, height))
    prep = infer_preprocessing(ds, max_pixels=limit)
    assert prep.size == (8, 8) and prep.max_pixels == limit
    loaded = load_images(ds, prep, max_skip_ratio=1.0)
    assert [s["path"] for s in loaded.skipped] == ["3/bomb.png"]
    assert loaded.skipped[0]["reason"].startswith("image too large")
    assert len(loaded.kept) == 12
    assert (width, height) not in loads and all(w * h <= limit for w, h in loads)


def test_user_limit_above_pillow_cap_is_honoured(loads) -> None:
    header = image_header(dirty.png_bomb(20_000, 20_000), max_pixels=500_000_000)
    assert (header["width"], header["height"]) == (20_000, 20_000)
    assert loads == []


def test_png_header_orientation_without_decoding(loads) -> None:
    """An eXIf chunk before the image data rotates the header's size; no pixels are decoded."""
    data = dirty.png_with_exif(dirty.photo((48, 32)), orientation=6)
    loads.clear()  # building the file decoded the source picture
    header = image_header(data)
    assert (header["width"], header["height"]) == (32, 48)
    assert loads == []
    assert decode_image(data).shape == (48, 32, 3)  # decoding applies the same rotation


def test_decoding_never_touches_warning_filters(monkeypatch, dirty_folder: Path) -> None:
    """warnings.catch_warnings swaps process-wide state, so decoding must not use it (a server
    decodes from many threads); bombs are still refused, ordinary files still decode."""
    files = {"bomb": dirty.png_bomb(20_000, 20_000), "header": dirty.png_with_header(100_000, 100_000),
             "photo": (dirty_folder / "5" / "photo.jpg").read_bytes(),
             "gray": (dirty_folder / "5" / "gray.png").read_bytes()}

    def outcome(name: str) -> str:
        try:
            return str(decode_image(files[name]).shape)
        except DecodeError as err:
            return err.what

    calls: list[str] = []

    class Recording(warnings.catch_warnings):
        def __init__(self, *args, **kwargs) -> None:
            calls.append(threading.current_thread().name)
            super().__init__(*args, **kwargs)

    names = list(files) * 8
    with monkeypatch.context() as patch:
        patch.setattr(warnings, "catch_warnings", Recording)
        with ThreadPoolExecutor(max_workers=8) as pool:
            seen = list(zip(names, pool.map(outcome, names)))
    assert calls == []
    results = {name: {result for n, result in seen if n == name} for name in files}
    assert all(len(r) == 1 for r in results.values()), results  # every thread saw the same outcome
    assert results["bomb"].pop().startswith("image too large: 20000×20000")
    assert results["header"].pop().startswith("image too large: 100000×100000")
    assert results["photo"] == results["gray"] == {str((64, 64, 3))}
